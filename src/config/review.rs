//! `[review]`: the reviewer agent that checks every gated task before the
//! human (its profile, rounds of change requests, auto-approval, limits,
//! the roles reviewed, the diff's size in its prompt).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::supervisor::Located;
use crate::core::scheduler::ReviewPolicy;
use crate::core::team::review_prompt::DEFAULT_DIFF_CHARS;

/// One review run's limit when `timeout_secs` is not given: 10 minutes.
pub const DEFAULT_REVIEW_TIMEOUT_SECS: u64 = 600;

/// `[review]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSection {
    /// The reviewer's profile.
    pub agent: String,
    /// Change requests sent back to the agent before the human sees the task.
    pub rounds: u32,
    /// An approving verdict approves the task (merged without the human).
    pub auto_approve_on_review: bool,
    /// One review run's limit; None when the file says 0 (no limit).
    pub timeout_secs: Option<u64>,
    /// Spending limit of one review (all its rounds), in US dollars.
    pub budget_usd: Option<f64>,
    /// The roles whose tasks are reviewed.
    pub roles: Vec<String>,
    /// Most characters of the diff in the reviewer's prompt.
    pub context_chars: usize,
}

impl ReviewSection {
    /// What the scheduler needs of it.
    pub fn policy(&self) -> ReviewPolicy {
        ReviewPolicy {
            rounds: self.rounds,
            auto_approve: self.auto_approve_on_review,
            roles: self.roles.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawReview {
    agent: Spanned<String>,
    #[serde(default)]
    rounds: Option<u32>,
    #[serde(default)]
    auto_approve_on_review: bool,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    budget_usd: Option<f64>,
    #[serde(default)]
    roles: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    context_chars: Option<usize>,
}

/// Validates `[review]` against the profiles `agents` and the roles `roles`.
pub(super) fn parse<A, R>(
    raw: Spanned<RawReview>,
    agents: &BTreeMap<String, A>,
    roles: &BTreeMap<String, R>,
    problems: &mut Vec<Located>,
) -> ReviewSection {
    let span = raw.span();
    let raw = raw.into_inner();
    let list = |names: Vec<&String>| {
        let names: Vec<&str> = names.into_iter().map(String::as_str).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    };
    if !agents.contains_key(raw.agent.get_ref()) {
        problems.push((
            Some(raw.agent.span()),
            format!(
                "[review] agent `{}` is not a profile (known: {})",
                raw.agent.get_ref(),
                list(agents.keys().collect())
            ),
        ));
    }
    let reviewed = match raw.roles {
        Some(given) => {
            let at = given.span();
            let given = given.into_inner();
            for r in given.iter().filter(|r| !roles.contains_key(*r)) {
                problems.push((
                    Some(at.clone()),
                    format!(
                        "[review] roles: `{r}` is not a role (known: {})",
                        list(roles.keys().collect())
                    ),
                ));
            }
            given
        }
        None => roles
            .keys()
            .filter(|r| !matches!(r.as_str(), "reviewer" | "planner"))
            .cloned()
            .collect(),
    };
    if raw.budget_usd.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
        problems.push((
            Some(span.clone()),
            "[review] budget_usd must be a positive amount of dollars".into(),
        ));
    }
    if raw.context_chars == Some(0) {
        problems.push((
            Some(span),
            "[review] context_chars must be at least 1 (characters of the diff in the reviewer's prompt)".into(),
        ));
    }
    ReviewSection {
        agent: raw.agent.into_inner(),
        rounds: raw.rounds.unwrap_or(1),
        auto_approve_on_review: raw.auto_approve_on_review,
        timeout_secs: match raw.timeout_secs {
            None => Some(DEFAULT_REVIEW_TIMEOUT_SECS),
            Some(0) => None,
            Some(s) => Some(s),
        },
        budget_usd: raw.budget_usd,
        roles: reviewed,
        context_chars: raw.context_chars.unwrap_or(DEFAULT_DIFF_CHARS),
    }
}
