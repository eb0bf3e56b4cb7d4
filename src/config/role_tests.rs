//! `[roles.NAME]` and `[review]` in fleet.toml.

use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("fleet.toml"))
}

const AGENTS: &str = r#"
[agents.sim]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"

[agents.plain]
command = ["plain", "{prompt}"]
"#;

#[test]
fn built_in_roles_are_overridden_field_by_field_and_new_ones_added() {
    let text = format!(
        r#"{AGENTS}
[roles.tester]
agent = "plain"
verify = ["cargo test --tests"]

[roles.auditor]
preamble = "You audit."
may_change_files = false
args = ["--model", "x"]

[[task]]
id = "t"
prompt = "test it"
role = "tester"

[[task]]
id = "i"
prompt = "build it"
agent = "sim"
role = "implementer"
"#
    );
    let c = parse(&text).unwrap();
    let tester = &c.roles["tester"];
    assert!(
        tester.preamble.starts_with("You write tests"),
        "built-in preamble kept"
    );
    assert_eq!(tester.agent.as_deref(), Some("plain"));
    assert!(c.roles["auditor"].preamble == "You audit." && !c.roles["auditor"].may_change_files);
    assert!(!c.roles["reviewer"].may_change_files);
    assert_eq!(
        c.tasks[0].agent, "plain",
        "the role's profile for a task that names none"
    );
    assert_eq!(c.verify_commands(&c.tasks[0]), ["cargo test --tests"]);
    assert!(c.verify_commands(&c.tasks[1]).is_empty());
    assert!(c.review.is_none() && c.limits(false).review.is_none());
}

#[test]
fn an_unknown_role_is_an_error_at_the_task_listing_the_roles() {
    let text = format!(
        "{AGENTS}\n[[task]]\nid = \"t\"\nprompt = \"p\"\nagent = \"sim\"\nrole = \"writer\"\n"
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(e.contains("fleet.toml:9:"), "{e}");
    assert!(
        e.contains("task `t` has role `writer`, which is not a role (known: documenter, implementer, planner, reviewer, tester)"),
        "{e}"
    );
    let e = parse(&format!("{AGENTS}\n[roles.writer]\nagent = \"nope\"\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[roles.writer] is not a built-in role"), "{e}");
    assert!(
        e.contains("[roles.writer] agent `nope` is not a profile"),
        "{e}"
    );
}

#[test]
fn permission_flags_on_a_format_without_them_name_the_profile_and_role() {
    let text = format!(
        "{AGENTS}\n[roles.tester]\npermission_mode = \"plan\"\n\n[[task]]\nid = \"t\"\nprompt = \"p\"\nagent = \"plain\"\nrole = \"tester\"\n"
    );
    let e = parse(&text).unwrap_err().to_string();
    assert!(
        e.contains("task `t`: [roles.tester] permission_mode cannot be given to profile `plain`: its format `text`"),
        "{e}"
    );
    let ok = text.replace("agent = \"plain\"", "agent = \"sim\"");
    let c = parse(&ok).unwrap();
    assert_eq!(
        c.role_args(&c.tasks[0], "sim"),
        ["--permission-mode", "plan"]
    );
}

#[test]
fn review_defaults_and_errors() {
    let c = parse(&format!("{AGENTS}\n[review]\nagent = \"sim\"\n")).unwrap();
    let r = c.review.as_ref().unwrap();
    assert_eq!((r.rounds, r.auto_approve_on_review), (1, false));
    assert_eq!(r.timeout_secs, Some(DEFAULT_REVIEW_TIMEOUT_SECS));
    assert_eq!(r.roles, ["documenter", "implementer", "tester"]);
    assert_eq!(c.limits(false).review.unwrap().rounds, 1);
    let c = parse(&format!(
        "{AGENTS}\n[review]\nagent = \"sim\"\nrounds = 3\nauto_approve_on_review = true\nroles = [\"implementer\"]\ntimeout_secs = 0\ncontext_chars = 100\n"
    ))
    .unwrap();
    let r = c.review.unwrap();
    assert_eq!(
        (
            r.rounds,
            r.auto_approve_on_review,
            r.timeout_secs,
            r.context_chars
        ),
        (3, true, None, 100)
    );
    let e = parse(&format!(
        "{AGENTS}\n[review]\nagent = \"nope\"\nroles = [\"qa\"]\n"
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("[review] agent `nope` is not a profile (known: plain, sim)"),
        "{e}"
    );
    assert!(e.contains("[review] roles: `qa` is not a role"), "{e}");
    let e = parse(&format!("{AGENTS}\n[review]\nagent = \"sim\"\nround = 2\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `round`"), "{e}");
}
