//! `[supervisor]`: the agent profile that plans, what it may decide by
//! itself (`autonomy`), routing rules, its re-ask limit, its own budget and
//! timeouts. Parsed from the raw table with positions, like the rest of
//! `fleet.toml`.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::core::supervisor::routing::RouteRule;
use crate::core::supervisor::{Autonomy, AutonomyTable, DecisionKind};

/// Answers re-asked after the first when `reask_limit` is not given.
pub const DEFAULT_REASK_LIMIT: u32 = 2;
/// One planner run's limit when `timeout_secs` is not given: 10 minutes.
pub const DEFAULT_PLANNER_TIMEOUT_SECS: u64 = 600;
/// Seconds without progress before a running attempt counts as stalled.
pub const DEFAULT_STALL_AFTER_SECS: u64 = 600;

/// Whether the planner is asked for its answer through the CLI's own
/// structured-output option (`--json-schema` for Claude, `--output-schema`
/// for Codex) or only through the prompt's fenced JSON block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructuredOutput {
    /// Use the CLI's option where its format has one.
    #[default]
    Auto,
    /// Never: the final message's ```json block is read.
    Off,
}

/// `[supervisor]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SupervisorSection {
    /// The agent profile that plans.
    pub agent: String,
    pub autonomy: AutonomyTable,
    /// Role → profile rules applied to every proposal.
    pub routing: Vec<RouteRule>,
    /// Answers re-asked (with the errors) after the first is refused.
    pub reask_limit: u32,
    /// The supervisor's own spending limit over all its runs.
    pub budget_usd: Option<f64>,
    pub budget_tokens: Option<u64>,
    /// One planner run's limit; None when the file says 0 (no limit).
    pub timeout_secs: Option<u64>,
    /// Seconds without progress before a running attempt is stalled (read
    /// by the progress ledger).
    pub stall_after_secs: u64,
    pub structured_output: StructuredOutput,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSupervisor {
    #[serde(default)]
    agent: Option<Spanned<String>>,
    #[serde(default)]
    autonomy: Option<Spanned<toml::Value>>,
    #[serde(default)]
    routing: Vec<Spanned<RouteRule>>,
    #[serde(default)]
    reask_limit: Option<u32>,
    #[serde(default)]
    budget_usd: Option<f64>,
    #[serde(default)]
    budget_tokens: Option<u64>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    stall_after_secs: Option<u64>,
    #[serde(default)]
    structured_output: StructuredOutput,
}

/// Where a problem is, for [`parse`]'s caller to turn into a line and column.
pub(super) type Located = (Option<Range<usize>>, String);

/// Validates `[supervisor]` against the profiles `agents`; `default_agent`
/// is the profile used when `agent` is not given.
pub(super) fn parse<T>(
    raw: Spanned<RawSupervisor>,
    agents: &BTreeMap<String, T>,
    default_agent: Option<&str>,
    problems: &mut Vec<Located>,
) -> SupervisorSection {
    let span = raw.span();
    let raw = raw.into_inner();
    let known = || {
        let names: Vec<&str> = agents.keys().map(String::as_str).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    let agent = match raw.agent {
        Some(a) if !agents.contains_key(a.get_ref()) => {
            problems.push((
                Some(a.span()),
                format!(
                    "[supervisor] agent `{}` is not a profile (known: {})",
                    a.get_ref(),
                    known()
                ),
            ));
            String::new()
        }
        Some(a) => a.into_inner(),
        None => match default_agent {
            Some(d) => d.to_owned(),
            None => {
                problems.push((
                    Some(span.clone()),
                    format!(
                        "[supervisor] agent is missing: name the profile that plans (known: {})",
                        known()
                    ),
                ));
                String::new()
            }
        },
    };
    let autonomy = match raw.autonomy {
        None => AutonomyTable::default(),
        Some(v) => {
            let at = v.span();
            autonomy_table(v.get_ref()).unwrap_or_else(|m| {
                problems.push((Some(at), format!("[supervisor] autonomy: {m}")));
                AutonomyTable::default()
            })
        }
    };
    let mut routing = Vec::new();
    for rule in raw.routing {
        let at = rule.span();
        let rule = rule.into_inner();
        if rule.role.trim().is_empty() {
            problems.push((
                Some(at.clone()),
                "[supervisor] routing: a rule has an empty role".into(),
            ));
        }
        if !agents.contains_key(&rule.agent) {
            problems.push((
                Some(at),
                format!(
                    "[supervisor] routing: role `{}` goes to agent `{}`, which is not a profile (known: {})",
                    rule.role,
                    rule.agent,
                    known()
                ),
            ));
        }
        routing.push(rule);
    }
    if raw.budget_usd.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
        problems.push((
            Some(span.clone()),
            "[supervisor] budget_usd must be a positive amount of dollars".into(),
        ));
    }
    if raw.stall_after_secs == Some(0) {
        problems.push((
            Some(span),
            "[supervisor] stall_after_secs must be at least 1".into(),
        ));
    }
    SupervisorSection {
        agent,
        autonomy,
        routing,
        reask_limit: raw.reask_limit.unwrap_or(DEFAULT_REASK_LIMIT),
        budget_usd: raw.budget_usd,
        budget_tokens: raw.budget_tokens,
        timeout_secs: match raw.timeout_secs {
            None => Some(DEFAULT_PLANNER_TIMEOUT_SECS),
            Some(0) => None,
            Some(s) => Some(s),
        },
        stall_after_secs: raw.stall_after_secs.unwrap_or(DEFAULT_STALL_AFTER_SECS),
        structured_output: raw.structured_output,
    }
}

fn autonomy_word(v: &toml::Value) -> Option<Autonomy> {
    match v.as_str()? {
        "confirm" => Some(Autonomy::Confirm),
        "auto" => Some(Autonomy::Auto),
        _ => None,
    }
}

/// `autonomy = "auto"` (every kind) or `autonomy = { split = "auto", ... }`.
fn autonomy_table(v: &toml::Value) -> Result<AutonomyTable, String> {
    const WORDS: &str = "expected \"confirm\" or \"auto\"";
    if let Some(table) = v.as_table() {
        let mut out = AutonomyTable::default();
        for (key, value) in table {
            let Some(kind) = DecisionKind::ALL.iter().find(|k| k.name() == key) else {
                let kinds: Vec<&str> = DecisionKind::ALL.iter().map(|k| k.name()).collect();
                return Err(format!(
                    "unknown kind of decision `{key}` (known: {})",
                    kinds.join(", ")
                ));
            };
            let a = autonomy_word(value).ok_or_else(|| format!("{key} = {value}: {WORDS}"))?;
            match kind {
                DecisionKind::Plan => out.plan = a,
                DecisionKind::Retry => out.retry = a,
                DecisionKind::Reassign => out.reassign = a,
                DecisionKind::Split => out.split = a,
                DecisionKind::Add => out.add = a,
                DecisionKind::Drop => out.drop = a,
            }
        }
        return Ok(out);
    }
    let a = autonomy_word(v).ok_or_else(|| {
        format!("{v}: {WORDS}, or a table such as {{ split = \"auto\", drop = \"confirm\" }}")
    })?;
    Ok(AutonomyTable {
        plan: a,
        retry: a,
        reassign: a,
        split: a,
        add: a,
        drop: a,
    })
}
