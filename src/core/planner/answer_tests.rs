use super::*;

const PLAN: &str = r#"{"tasks": [
  {"id": "schema", "title": "Schema", "prompt": "Add the users table", "agent": "sim",
   "files": ["migrations/1.sql"], "acceptance": ["migration runs"]},
  {"id": "api", "title": "API", "prompt": "Add /login", "deps": ["schema"], "agent": "sim", "role": "implementer"}
], "notes": "two steps"}"#;

fn err(text: &str) -> String {
    extract(text).unwrap_err().to_string()
}

#[test]
fn a_bare_document_is_read() {
    let plan = extract(PLAN).unwrap();
    assert_eq!(plan.tasks.len(), 2);
    assert_eq!(plan.tasks[1].deps, ["schema"]);
    assert_eq!(plan.tasks[0].files, ["migrations/1.sql"]);
    assert_eq!(plan.tasks[0].acceptance, ["migration runs"]);
    assert_eq!(plan.notes.as_deref(), Some("two steps"));
    assert_eq!(plan.tasks[0].role, None);
}

#[test]
fn prose_around_a_fenced_block() {
    let text = format!("Here is the plan.\n\n```json\n{PLAN}\n```\n\nTell me if it suits you.");
    assert_eq!(extract(&text).unwrap(), extract(PLAN).unwrap());
}

#[test]
fn the_last_block_that_is_a_plan_wins() {
    let other = PLAN.replace("\"api\"", "\"api2\"");
    let text = format!(
        "First try:\n```json\n{PLAN}\n```\nBetter:\n```json\n{other}\n```\nAn example of a task field:\n```json\n{{\"id\": 3}}\n```\n"
    );
    assert_eq!(extract(&text).unwrap().tasks[1].id, "api2");
}

#[test]
fn an_unlabelled_fence_with_an_object_counts() {
    let text = format!("plan:\n```\n{PLAN}\n```");
    assert!(extract(&text).is_ok());
    // A plan in another fence is still found in the prose, but not a mere object.
    let text = format!("plan:\n```rust\n{PLAN}\n```");
    assert!(extract(&text).is_ok());
    let text = "plan:\n```rust\nlet x = S { a: 1 };\n```";
    assert_eq!(
        err(text),
        "no JSON plan found in the answer (expected a ```json block)"
    );
}

#[test]
fn no_plan_at_all() {
    for text in ["", "   ", "I could not make a plan.", "```sh\nls\n```"] {
        assert_eq!(
            err(text),
            "no JSON plan found in the answer (expected a ```json block)",
            "{text:?}"
        );
    }
}

#[test]
fn malformed_json_names_line_and_column() {
    assert_eq!(
        err("{\"tasks\": [\n  {\"id\": \"a\",}\n]}"),
        "the answer is not valid JSON: trailing comma at line 2, column 14"
    );
    let text = "Plan:\n\n```json\n{\"tasks\": [\n  {\"id\": \"a\" \"title\": \"x\"}\n]}\n```\n";
    assert_eq!(
        err(text),
        "the ```json block at line 3 is not valid JSON: expected `,` or `}` at line 5, column 14"
    );
}

#[test]
fn missing_fields_and_wrong_types_name_their_path() {
    let text = r#"{"tasks": [
        {"id": "a", "title": "A", "prompt": "p", "agent": "sim"},
        {"id": "b", "title": "B", "agent": "sim", "deps": "a"},
        {"id": "c", "title": "C", "prompt": "p", "agent": "sim", "deps": ["a", 2], "owner": "x"},
        "d"
    ]}"#;
    let AnswerError::Shape { problems } = extract(text).unwrap_err() else {
        panic!("not a shape error");
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "tasks[1]: missing field `prompt`",
            "tasks[1].deps: expected an array of strings, found a string",
            "tasks[2]: unknown field `owner` (expected one of `id`, `title`, `prompt`, `deps`, `agent`, `role`, `files`, `acceptance`, `verify`, `split_from`, `auto_approve`, `fanout`, `group`)",
            "tasks[2].deps[1]: expected a string, found a number",
            "tasks[3]: expected a task object, found a string",
        ]
    );
}

#[test]
fn the_document_must_be_a_plan_object() {
    assert_eq!(
        err("[1, 2]"),
        "expected an object with a `tasks` array, found an array"
    );
    assert_eq!(
        err("{\"plan\": []}"),
        "unknown field `plan` (expected `tasks`, `notes`, `actions`); missing field `tasks`"
    );
    assert_eq!(
        err("{\"tasks\": {}}"),
        "tasks: expected an array of tasks, found an object"
    );
    assert_eq!(
        err("{\"tasks\": [], \"notes\": 3}"),
        "notes: expected a string, found a number"
    );
}

#[test]
fn claude_json_envelope_result_string() {
    let inner = format!("Plan below.\n```json\n{PLAN}\n```");
    let envelope = serde_json::json!({
        "type": "result", "subtype": "success", "is_error": false,
        "session_id": "f54c61b1", "total_cost_usd": 0.01, "result": inner
    });
    assert_eq!(
        extract(&envelope.to_string()).unwrap(),
        extract(PLAN).unwrap()
    );
}

#[test]
fn claude_structured_output() {
    let plan: serde_json::Value = serde_json::from_str(PLAN).unwrap();
    let envelope = serde_json::json!({"type": "result", "result": "", "structured_output": plan});
    assert_eq!(
        extract(&envelope.to_string()).unwrap(),
        extract(PLAN).unwrap()
    );
}

#[test]
fn claude_stream_json_last_result_line() {
    let result = serde_json::json!({"type": "result", "result": format!("```json\n{PLAN}\n```")});
    let text = format!(
        "{}\n{}\n{result}\n",
        r#"{"type":"system","subtype":"init","session_id":"s"}"#,
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"thinking"}]}}"#
    );
    assert_eq!(extract(&text).unwrap().tasks.len(), 2);
}

#[test]
fn codex_agent_message() {
    let item = serde_json::json!({"type": "item.completed", "item": {"id": "item_2", "type": "agent_message", "text": PLAN}});
    let text = format!(
        "{}\n{item}\n{}\n",
        r#"{"type":"thread.started","thread_id":"t"}"#,
        r#"{"type":"turn.completed","usage":{"input_tokens":3000,"output_tokens":120}}"#
    );
    assert_eq!(extract(&text).unwrap().tasks.len(), 2);
}

#[test]
fn gemini_message_deltas_are_joined() {
    let fenced = format!("Plan:\n```json\n{PLAN}\n```\n");
    let (a, b) = fenced.split_at(fenced.len() / 2);
    let line = |s: &str| serde_json::json!({"type": "message", "role": "assistant", "content": s, "delta": true});
    let text = format!(
        "{}\n{}\n{}\n{}\n",
        r#"{"type":"init","session_id":"s"}"#,
        line(a),
        line(b),
        r#"{"type":"result","status":"success","stats":{"total_tokens":3120}}"#
    );
    assert_eq!(extract(&text).unwrap().tasks.len(), 2);
}

#[test]
fn an_envelope_without_a_plan_says_so() {
    let text = r#"{"type":"result","is_error":false,"result":"Done: I created hello.txt containing 'hello from mock'."}"#;
    assert_eq!(
        err(text),
        "no JSON plan found in the answer (expected a ```json block)"
    );
}

#[test]
fn opencode_text_part() {
    let part = serde_json::json!({"type": "text", "sessionID": "s", "part": {"type": "text", "text": format!("```json\n{PLAN}\n```")}});
    let text = format!(
        "{}\n{part}\n{}\n",
        r#"{"type":"step_start","part":{"type":"step-start"}}"#,
        r#"{"type":"step_finish","part":{"type":"step-finish","reason":"stop"}}"#
    );
    assert_eq!(extract(&text).unwrap().tasks.len(), 2);
}

#[test]
fn a_lone_error_event_is_no_plan() {
    let text = r#"{"type":"error","sessionID":"s","error":{"name":"APIError","data":{"message":"mock forced failure"}}}"#;
    assert_eq!(
        err(text),
        "no JSON plan found in the answer (expected a ```json block)"
    );
}
