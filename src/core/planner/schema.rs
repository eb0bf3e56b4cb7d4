//! The JSON Schema (draft 2020-12) of the planner's answer, hand-written
//! next to the types; a test keeps the two from drifting.

use serde_json::{Value, json};

/// The JSON Schema of a [`PlanAnswer`](super::PlanAnswer), with descriptions.
/// `fleetdeck plan --schema` prints it and the planning prompt embeds it.
pub fn schema() -> Value {
    let strings = |description: &str| json!({ "type": "array", "items": { "type": "string" }, "description": description });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "fleetdeck plan answer",
        "description": "A plan: the tasks that reach the goal, as a dependency graph.",
        "type": "object",
        "additionalProperties": false,
        "required": ["tasks"],
        "properties": {
            "tasks": {
                "type": "array",
                "description": "Every task of the plan, existing ones kept with their ids.",
                "items": { "$ref": "#/$defs/task" }
            },
            "notes": {
                "type": "string",
                "description": "Reasoning, assumptions or questions for the user."
            },
            "actions": {
                "type": "array",
                "description": "What to do besides changing the plan, each on a task of the current plan.",
                "items": { "$ref": "#/$defs/action" }
            }
        },
        "$defs": {
            "task": {
                "type": "object",
                "additionalProperties": false,
                "required": ["id", "title", "prompt", "agent"],
                "properties": {
                    "id": {
                        "type": "string",
                        "pattern": "^[a-z0-9][a-z0-9-]*$",
                        "maxLength": 64,
                        "description": "Unique slug naming the task, its branch and worktree; keep the id of a task that already exists."
                    },
                    "title": { "type": "string", "minLength": 1, "description": "One line shown on the board." },
                    "prompt": { "type": "string", "minLength": 1, "description": "The full instructions the agent receives." },
                    "deps": strings("Ids of the tasks that must be merged before this one starts."),
                    "agent": { "type": "string", "description": "Name of the agent profile that runs the task." },
                    "role": { "type": "string", "description": "Role label: implementer, tester, documenter, reviewer..." },
                    "files": strings("Repository-relative paths the task expects to touch."),
                    "acceptance": strings("Acceptance criteria, one per entry."),
                    "verify": strings("Verify commands for this task instead of the fleet's."),
                    "split_from": { "type": "string", "description": "Id of the current task this one is a part of; leave that task out of the plan and its work so far is handed to its parts." },
                    "auto_approve": { "type": "boolean", "description": "Merge without review once the verify commands pass; only for low-risk work (default false)." },
                    "fanout": strings("Two or more agent profiles that each run the task; the user compares their work and picks one (only when the comparison is worth the cost)."),
                    "group": { "type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "description": "Task group: its members (at least two, no dependencies between them) run at once and land together as one change after the group's verify passes on their merged work (e.g. implement, test and document one feature)." }
                }
            },
            "action": {
                "type": "object",
                "additionalProperties": false,
                "required": ["kind", "task"],
                "properties": {
                    "kind": {
                        "enum": ["retry", "restart", "nudge", "ask", "drop"],
                        "description": "retry: run a failed task again; restart: stop a running attempt and start over; nudge: tell a running agent `message`; ask: ask the user `message`; drop: drop a running task or one in review (left out of `tasks`, they are kept)."
                    },
                    "task": { "type": "string", "description": "Id of the task of the current plan." },
                    "message": { "type": "string", "description": "The nudge or the question (required for nudge and ask)." }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::{
        ACTION_FIELDS, ANSWER_FIELDS, ActionKind, REQUIRED_TASK_FIELDS, TASK_FIELDS,
    };
    use super::*;

    fn keys(v: &Value) -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn lists_every_field_of_the_types() {
        let s = schema();
        let mut top = keys(&s["properties"]);
        top.sort();
        let mut want: Vec<String> = ANSWER_FIELDS.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(top, want);
        let mut task = keys(&s["$defs"]["task"]["properties"]);
        task.sort();
        let mut want: Vec<String> = TASK_FIELDS.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(task, want);
        assert_eq!(s["$defs"]["task"]["required"], json!(REQUIRED_TASK_FIELDS));
        let mut action = keys(&s["$defs"]["action"]["properties"]);
        action.sort();
        let mut want: Vec<String> = ACTION_FIELDS.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(action, want);
        let kinds: Vec<&str> = ActionKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(
            s["$defs"]["action"]["properties"]["kind"]["enum"],
            json!(kinds)
        );
        for field in TASK_FIELDS {
            let d = &s["$defs"]["task"]["properties"][field]["description"];
            assert!(d.as_str().is_some_and(|d| !d.is_empty()), "{field}");
        }
    }

    #[test]
    fn the_field_lists_match_what_serde_writes() {
        // A task with every optional field set serializes to exactly TASK_FIELDS.
        let task = super::super::PlannedTask {
            id: "a".into(),
            title: "t".into(),
            prompt: "p".into(),
            deps: vec![],
            agent: "sim".into(),
            role: Some("tester".into()),
            files: vec![],
            acceptance: vec![],
            verify: Some(vec![]),
            split_from: Some("b".into()),
            auto_approve: true,
            fanout: vec!["sim".into(), "alt".into()],
            group: Some("g".into()),
        };
        let v = serde_json::to_value(&task).unwrap();
        let mut got = keys(&v);
        got.sort();
        let mut want: Vec<String> = TASK_FIELDS.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
        let answer = super::super::PlanAnswer {
            tasks: vec![task],
            notes: Some("n".into()),
            actions: vec![super::super::PlannedAction {
                kind: super::super::ActionKind::Nudge,
                task: "a".into(),
                message: Some("m".into()),
            }],
        };
        let mut got = keys(&serde_json::to_value(&answer).unwrap());
        got.sort();
        let mut want: Vec<String> = ANSWER_FIELDS.iter().map(|f| f.to_string()).collect();
        want.sort();
        assert_eq!(got, want);
    }
}
