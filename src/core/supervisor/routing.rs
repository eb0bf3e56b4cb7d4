//! `[supervisor] routing`: rules that give every task of a role to one agent
//! profile, whatever the planner picked (role `tester` → `codex`). Applied to
//! a validated answer before it becomes a proposal; the first rule for a
//! role wins.

use serde::{Deserialize, Serialize};

use crate::core::task::TaskSpec;

/// One routing rule: tasks whose role is `role` run on profile `agent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    pub role: String,
    pub agent: String,
}

/// Gives each task whose role has a rule that rule's agent; returns one note
/// per task whose agent changed ("`api-test` routed to `codex` (role tester)").
/// Roles match without regard to case or surrounding spaces.
pub fn route(specs: &mut [TaskSpec], rules: &[RouteRule]) -> Vec<String> {
    let mut notes = Vec::new();
    for spec in specs.iter_mut() {
        let Some(role) = spec.role.as_deref().map(str::trim) else {
            continue;
        };
        let Some(rule) = rules
            .iter()
            .find(|r| r.role.trim().eq_ignore_ascii_case(role))
        else {
            continue;
        };
        if spec.agent != rule.agent {
            spec.agent = rule.agent.clone();
            notes.push(format!(
                "`{}` routed to `{}` (role {role})",
                spec.id, rule.agent
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, agent: &str, role: Option<&str>) -> TaskSpec {
        serde_json::from_value(serde_json::json!({
            "id": id, "title": id, "prompt": "p", "agent": agent, "role": role
        }))
        .unwrap()
    }

    fn rule(role: &str, agent: &str) -> RouteRule {
        RouteRule {
            role: role.into(),
            agent: agent.into(),
        }
    }

    #[test]
    fn a_rule_moves_the_tasks_of_its_role_and_says_so() {
        let mut specs = vec![
            spec("api", "claude", Some("implementer")),
            spec("api-test", "claude", Some("tester")),
            spec("docs", "claude", None),
        ];
        let notes = route(&mut specs, &[rule("tester", "codex")]);
        assert_eq!(notes, ["`api-test` routed to `codex` (role tester)"]);
        let agents: Vec<&str> = specs.iter().map(|s| s.agent.as_str()).collect();
        assert_eq!(agents, ["claude", "codex", "claude"]);
    }

    #[test]
    fn a_task_already_on_the_rules_agent_gets_no_note() {
        let mut specs = vec![spec("t", "codex", Some("Tester "))];
        assert!(route(&mut specs, &[rule("tester", "codex")]).is_empty());
        assert_eq!(specs[0].agent, "codex");
    }

    #[test]
    fn the_first_rule_for_a_role_wins_and_no_rules_change_nothing() {
        let mut specs = vec![spec("t", "claude", Some("tester"))];
        assert!(route(&mut specs, &[]).is_empty());
        let notes = route(
            &mut specs,
            &[rule("tester", "codex"), rule("tester", "gemini")],
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(specs[0].agent, "codex");
    }
}
