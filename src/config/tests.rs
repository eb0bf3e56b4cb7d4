use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("fleet.toml"))
}

fn error(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

const AGENTS: &str = r#"
[agents.sim]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"
max_parallel = 2
"#;

#[test]
fn a_full_config_loads() {
    let text = format!(
        r#"
[fleet]
target = "main"
max_parallel = 3
max_attempts = 2
max_review = 5
stop_grace_secs = 1.5

[verify]
commands = ["cargo test"]
timeout_secs = 60
{AGENTS}
[agents.other]
command = ["other", "--task", "{{task}}"]
env = {{ FOO = "bar" }}

[[task]]
id = "schema"
title = "Design the schema"
prompt = "write schema.sql"
agent = "sim"

[[task]]
id = "api"
prompt = "build the api"
agent = "other"
deps = ["schema"]
role = "implementer"
verify = ["make check"]
priority = 4
"#
    );
    let c = parse(&text).unwrap();
    assert_eq!(c.fleet.target.as_deref(), Some("main"));
    assert_eq!(c.fleet.stop_grace_secs, 1.5);
    assert_eq!(c.agents["sim"].format, Format::Claude);
    assert_eq!(c.agents["other"].format, Format::Text);
    assert_eq!(c.agents["other"].env["FOO"], "bar");
    assert_eq!(c.tasks.len(), 2);
    assert_eq!(c.tasks[0].title, "Design the schema");
    assert_eq!(c.tasks[1].title, "api", "title defaults to the id");
    assert_eq!(c.verify_commands(&c.tasks[0]), ["cargo test"]);
    assert_eq!(c.verify_commands(&c.tasks[1]), ["make check"]);
    let l = c.limits(true);
    assert_eq!(
        (l.max_parallel, l.max_attempts, l.max_review, l.auto_approve),
        (3, 2, Some(5), true)
    );
    assert_eq!(l.agent_caps.get("sim"), Some(&2));
    assert_eq!(l.agent_caps.get("other"), None);
}

#[test]
fn defaults_apply_and_a_single_profile_is_the_default_agent() {
    let c = parse(&format!("{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\n")).unwrap();
    assert_eq!(c.fleet.max_parallel, 4);
    assert_eq!(c.fleet.max_attempts, 3);
    assert!(c.verify.commands.is_empty());
    assert_eq!(c.tasks[0].agent, "sim");
}

#[test]
fn syntax_errors_give_line_and_column() {
    let e = error("[fleet]\nmax_parallel = 4\ntarget = \"main\n");
    assert!(
        e.starts_with("fleet.toml:3:15: invalid basic string"),
        "{e}"
    );
    let e = error("[fleet]\n\nmax_parallel = \"four\"\n");
    assert!(
        e.starts_with("fleet.toml:3:16: ") && e.contains("expected usize"),
        "{e}"
    );
}

#[test]
fn unknown_keys_are_named() {
    let e = error("[fleet]\nmax_paralel = 4\n");
    assert!(
        e.starts_with("fleet.toml:2:1: unknown field `max_paralel`"),
        "{e}"
    );
    let e = error(&format!(
        "{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\ndepends = [\"b\"]\n"
    ));
    assert!(e.contains("unknown field `depends`"), "{e}");
    assert!(e.starts_with("fleet.toml:10:1:"), "{e}");
    let e = error("[colours]\nx = 1\n");
    assert!(e.contains("unknown field `colours`"), "{e}");
}

#[test]
fn bad_ids_duplicates_and_unknown_deps_name_the_task_and_line() {
    let e = error(&format!(
        "{AGENTS}\n[[task]]\nid = \"Bad Id\"\nprompt = \"p\"\n"
    ));
    assert!(
        e.starts_with("fleet.toml:8:6: ") && e.contains("`Bad Id` is not a valid task id"),
        "{e}"
    );

    let text = format!(
        "{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\n\n[[task]]\nid = \"b\"\nprompt = \"p\"\ndeps = [\"ghost\"]\n\n[[task]]\nid = \"a\"\nprompt = \"again\"\n"
    );
    let e = error(&text);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(
        lines,
        [
            "fleet.toml:12:6: task `b` depends on `ghost`, which is not a task in the plan",
            "fleet.toml:17:6: task `a` is defined more than once",
        ]
    );
}

#[test]
fn a_cycle_names_its_tasks() {
    let text = format!(
        "{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\ndeps = [\"c\"]\n[[task]]\nid = \"b\"\nprompt = \"p\"\ndeps = [\"a\"]\n[[task]]\nid = \"c\"\nprompt = \"p\"\ndeps = [\"b\"]\n"
    );
    assert_eq!(
        error(&text),
        "fleet.toml:8:6: dependency cycle: a -> c -> b -> a"
    );
}

#[test]
fn agent_problems_are_explained() {
    let e = error("[[task]]\nid = \"a\"\nprompt = \"p\"\n");
    assert!(
        e.contains("task `a` names no agent and there is no default"),
        "{e}"
    );
    let e = error(&format!(
        "{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\nagent = \"claude\"\n"
    ));
    assert!(
        e.contains("task `a` uses agent `claude`, which is not defined (add [agents.claude]"),
        "{e}"
    );
    let e = error("[agents.x]\ncommand = []\n");
    assert!(e.contains("[agents.x] command is empty"), "{e}");
    let e = error("[agents.x]\ncommand = [\"x\", \"{promt}\"]\n");
    assert!(e.contains("unknown placeholder `{promt}`"), "{e}");
    let e = error("[agents.x]\ncommand = [\"x\"]\nformat = \"json\"\n");
    assert!(
        e.contains("json") && e.starts_with("fleet.toml:3:10"),
        "{e}"
    );
    let e = error("[fleet]\ndefault_agent = \"nope\"\n");
    assert!(e.contains("default_agent `nope` is not a profile"), "{e}");
    let e = error("[fleet]\nmax_parallel = 0\n");
    assert!(e.contains("max_parallel must be at least 1"), "{e}");
}

#[test]
fn a_missing_file_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let e = Config::load(dir.path()).unwrap_err();
    assert!(e.is_missing());
    assert!(e.to_string().contains("fleet.toml"));
}

#[test]
fn the_documented_example_is_a_valid_config() {
    let text = include_str!("../../fleet.example.toml");
    let c = parse(text).unwrap();
    assert_eq!(c.agents.len(), 6);
    assert_eq!(c.tasks.len(), 3);
    assert!(c.tasks[2].auto_approve && !c.tasks[0].auto_approve);
    assert_eq!(c.fleet.target.as_deref(), Some("main"));
    // Every profile `init` may write is documented here too, with the same command.
    for (program, profile) in crate::cli::init_profiles() {
        let snippet = profile
            .lines()
            .find(|l| l.starts_with("command = "))
            .unwrap();
        assert!(text.contains(snippet), "{program}: {snippet}");
    }
}

#[test]
fn the_example_names_every_key_action() {
    let text = include_str!("../../fleet.example.toml");
    let listed = &text[text.find("# Action names:").unwrap()..text.find("[ui.keys]").unwrap()];
    for action in crate::ui::keymap::Action::all() {
        assert!(
            listed.contains(&format!(" {action},")) || listed.contains(&format!(" {action}.")),
            "`{action}` is not documented"
        );
    }
    let c = parse(text).unwrap();
    assert_eq!(c.ui.theme.as_deref(), Some("dark"));
    assert!(c.ui.mouse);
}

#[test]
fn limits_have_defaults_and_zero_turns_them_off() {
    let c = parse(&format!("{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\n")).unwrap();
    assert_eq!(c.verify.timeout_secs, Some(DEFAULT_VERIFY_TIMEOUT_SECS));
    assert_eq!(c.verify.timeout_secs, Some(30 * 60));
    assert_eq!(
        c.agents["sim"].timeout_secs,
        Some(DEFAULT_AGENT_TIMEOUT_SECS)
    );
    assert_eq!(c.agents["sim"].timeout_secs, Some(60 * 60));
    assert_eq!(c.fleet.transcript_max_mb, 64);
    assert_eq!(c.transcript_max_bytes(), 64 << 20);

    let text = format!(
        "[fleet]\ntranscript_max_mb = 2\n[verify]\ntimeout_secs = 0\n{AGENTS}timeout_secs = 0\n[agents.other]\ncommand = [\"o\"]\ntimeout_secs = 7\n"
    );
    let c = parse(&text).unwrap();
    assert_eq!(c.verify.timeout_secs, None, "0 is no limit");
    assert_eq!(c.agents["sim"].timeout_secs, None, "0 is no limit");
    assert_eq!(c.agents["other"].timeout_secs, Some(7));
    assert_eq!(c.transcript_max_bytes(), 2 << 20);

    let e = error("[fleet]\ntranscript_max_mb = 0\n");
    assert!(e.contains("transcript_max_mb must be at least 1"), "{e}");
}

#[test]
fn excludes_join_the_format_builtins_and_the_profile_list() {
    let text = "[agents.aider]\ncommand = [\"aider\"]\nformat = \"aider\"\nexclude = [\"notes/*.tmp\", \".aider*\"]\n[agents.plain]\ncommand = [\"x\"]\n";
    let c = parse(text).unwrap();
    assert_eq!(c.agents["aider"].excludes(), [".aider*", "notes/*.tmp"]);
    assert!(c.agents["plain"].excludes().is_empty());
    let e = error("[agents.x]\ncommand = [\"x\"]\nexclude = [\" \"]\n");
    assert!(e.contains("[agents.x] exclude has an empty pattern"), "{e}");
}

#[test]
fn merge_style_is_set_per_fleet_and_per_task_and_bad_values_are_named() {
    let c = parse(&format!(
        "[fleet]\nmerge_style = \"squash\"\n{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\n\n[[task]]\nid = \"b\"\nprompt = \"p\"\nmerge_style = \"rebase\"\n"
    ))
    .unwrap();
    assert_eq!(c.fleet.merge_style, MergeStyle::Squash);
    assert_eq!(c.merge_style(&c.tasks[0]), MergeStyle::Squash);
    assert_eq!(c.merge_style(&c.tasks[1]), MergeStyle::Rebase);
    let d = parse(AGENTS).unwrap();
    assert_eq!(d.fleet.merge_style, MergeStyle::Merge);

    let e = error("[fleet]\nmerge_style = \"octopus\"\n");
    assert!(e.starts_with("fleet.toml:2:15: "), "{e}");
    assert!(
        e.contains("octopus") && e.contains("merge") && e.contains("squash"),
        "{e}"
    );
    let e = error(&format!(
        "{AGENTS}\n[[task]]\nid = \"a\"\nprompt = \"p\"\nmerge_style = \"fast\"\n"
    ));
    assert!(
        e.starts_with("fleet.toml:10:15: ") && e.contains("fast"),
        "{e}"
    );
}

mod supervisor_section {
    use super::*;
    use crate::core::supervisor::{Autonomy, AutonomyTable};

    const TWO: &str = r#"
[agents.sim]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"
strengths = "scripted work"
cost = "low"

[agents.codex]
command = ["codex", "exec", "{prompt}"]
format = "codex"
cost = "$3/Mtok"
"#;

    #[test]
    fn without_the_section_there_is_no_supervisor_and_profiles_read_strengths_and_cost() {
        let c = parse(TWO).unwrap();
        assert!(c.supervisor.is_none());
        assert_eq!(c.agents["sim"].strengths.as_deref(), Some("scripted work"));
        assert_eq!(c.agents["codex"].cost.as_deref(), Some("$3/Mtok"));
    }

    #[test]
    fn defaults_apply_to_a_minimal_section() {
        let c = parse(&format!("{TWO}\n[supervisor]\nagent = \"sim\"\n")).unwrap();
        let s = c.supervisor.unwrap();
        assert_eq!(s.agent, "sim");
        assert_eq!(s.autonomy, AutonomyTable::default());
        assert_eq!(s.reask_limit, 2);
        assert_eq!(s.timeout_secs, Some(600));
        assert_eq!(s.stall_after_secs, 600);
        assert_eq!(s.structured_output, StructuredOutput::Auto);
        assert!(s.routing.is_empty() && s.budget_usd.is_none() && s.budget_tokens.is_none());
    }

    #[test]
    fn every_key_is_read() {
        let text = format!(
            r#"{TWO}
[supervisor]
agent = "codex"
autonomy = {{ split = "auto", drop = "confirm", retry = "auto" }}
routing = [{{ role = "tester", agent = "sim" }}]
reask_limit = 0
budget_usd = 2.5
budget_tokens = 100000
timeout_secs = 0
stall_after_secs = 30
structured_output = "off"
"#
        );
        let s = parse(&text).unwrap().supervisor.unwrap();
        assert_eq!(s.autonomy.split, Autonomy::Auto);
        assert_eq!(s.autonomy.retry, Autonomy::Auto);
        assert_eq!(s.autonomy.plan, Autonomy::Confirm);
        assert_eq!(s.routing[0].role, "tester");
        assert_eq!(s.routing[0].agent, "sim");
        assert_eq!(s.reask_limit, 0);
        assert_eq!(s.budget_usd, Some(2.5));
        assert_eq!(s.budget_tokens, Some(100000));
        assert_eq!(s.timeout_secs, None, "0 is no limit");
        assert_eq!(s.stall_after_secs, 30);
        assert_eq!(s.structured_output, StructuredOutput::Off);
    }

    #[test]
    fn autonomy_auto_is_shorthand_for_every_kind() {
        let c = parse(&format!(
            "{TWO}\n[supervisor]\nagent = \"sim\"\nautonomy = \"auto\"\n"
        ))
        .unwrap();
        let t = c.supervisor.unwrap().autonomy;
        for kind in crate::core::supervisor::DecisionKind::ALL {
            assert_eq!(t.get(kind), Autonomy::Auto, "{kind:?}");
        }
    }

    #[test]
    fn an_unknown_agent_is_named_with_the_known_ones_and_its_line() {
        let err = error(&format!("{TWO}\n[supervisor]\nagent = \"gpt\"\n"));
        assert!(
            err.contains(":14:9: [supervisor] agent `gpt` is not a profile (known: codex, sim)"),
            "{err}"
        );
    }

    #[test]
    fn a_routing_rule_to_an_unknown_agent_is_an_error() {
        let err = error(&format!(
            "{TWO}\n[supervisor]\nagent = \"sim\"\nrouting = [{{ role = \"tester\", agent = \"ghost\" }}]\n"
        ));
        assert!(
            err.contains(
                ":15:12: [supervisor] routing: role `tester` goes to agent `ghost`, which is not a profile (known: codex, sim)"
            ),
            "{err}"
        );
    }

    #[test]
    fn bad_autonomy_words_and_kinds_are_explained() {
        let err = error(&format!(
            "{TWO}\n[supervisor]\nagent = \"sim\"\nautonomy = \"sometimes\"\n"
        ));
        assert!(
            err.contains(
                ":15:12: [supervisor] autonomy: \"sometimes\": expected \"confirm\" or \"auto\""
            ),
            "{err}"
        );
        let err = error(&format!(
            "{TWO}\n[supervisor]\nagent = \"sim\"\nautonomy = {{ merge = \"auto\" }}\n"
        ));
        assert!(
            err.contains(
                "unknown kind of decision `merge` (known: plan, retry, reassign, split, add, drop)"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_missing_agent_defaults_to_the_only_profile_or_is_an_error() {
        let one = format!("{AGENTS}\n[supervisor]\nreask_limit = 1\n");
        assert_eq!(parse(&one).unwrap().supervisor.unwrap().agent, "sim");
        let err = error(&format!("{TWO}\n[supervisor]\nreask_limit = 1\n"));
        assert!(err.contains("[supervisor] agent is missing"), "{err}");
    }

    #[test]
    fn unknown_keys_in_the_section_are_named() {
        let err = error(&format!(
            "{TWO}\n[supervisor]\nagent = \"sim\"\nbudget = 3\n"
        ));
        assert!(err.contains("unknown field `budget`"), "{err}");
    }
}

#[test]
fn fanout_needs_two_distinct_known_profiles_and_says_where() {
    let base = format!("{AGENTS}\n[agents.alt]\ncommand = [\"alt\"]\n");
    let ok = parse(&format!(
        "{base}\n[[task]]\nid = \"t\"\nprompt = \"p\"\nfanout = [\"sim\", \"alt\"]\n"
    ))
    .unwrap();
    assert_eq!(ok.tasks[0].fanout, ["sim", "alt"]);
    assert_eq!(ok.tasks[0].agent, "sim");
    let e = error(&format!(
        "{base}\n[[task]]\nid = \"t\"\nprompt = \"p\"\nfanout = [\"sim\", \"sim\"]\n"
    ));
    assert!(
        e.contains("task `t`: fanout names agent `sim` twice"),
        "{e}"
    );
    assert!(e.contains("fleet.toml:13:10"), "{e}");
    let e = error(&format!(
        "{base}\n[[task]]\nid = \"t\"\nprompt = \"p\"\nfanout = [\"sim\", \"nope\"]\n"
    ));
    assert!(e.contains("`nope`, which is not defined"), "{e}");
    let e = error(&format!(
        "{base}\n[[task]]\nid = \"t\"\nprompt = \"p\"\nfanout = [\"sim\"]\n"
    ));
    assert!(e.contains("at least two"), "{e}");
}

#[test]
fn groups_are_read_and_their_problems_name_the_lines() {
    let ok = parse(&format!(
        "{AGENTS}\n[verify]\ncommands = [\"make\"]\n\n[groups.calc]\ntitle = \"The calculator\"\nverify = [\"make check\"]\n\n[[task]]\nid = \"a\"\nprompt = \"p\"\ngroup = \"calc\"\n\n[[task]]\nid = \"b\"\nprompt = \"p\"\ngroup = \"calc\"\n\n[[task]]\nid = \"c\"\nprompt = \"p\"\ngroup = \"other\"\n\n[[task]]\nid = \"d\"\nprompt = \"p\"\ngroup = \"other\"\n"
    ))
    .unwrap();
    assert_eq!(ok.tasks[0].group.as_deref(), Some("calc"));
    assert_eq!(ok.group_verify("calc"), ["make check"]);
    assert_eq!(
        ok.group_verify("other"),
        ["make"],
        "the fleet's verify by default"
    );
    assert_eq!(ok.group_title("calc"), "The calculator");
    assert_eq!(ok.group_title("other"), "other");

    let e = error(&format!(
        "{AGENTS}\n[groups.empty]\n\n[[task]]\nid = \"a\"\nprompt = \"p\"\ngroup = \"g\"\n\n[[task]]\nid = \"b\"\nprompt = \"p\"\ngroup = \"g\"\ndeps = [\"a\"]\n\n[[task]]\nid = \"c\"\nprompt = \"p\"\ngroup = \"solo\"\n"
    ));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    assert!(
        lines[0].starts_with("fleet.toml:7:1: [groups.empty] has no members"),
        "{e}"
    );
    assert!(
        lines[1].starts_with("fleet.toml:15:6: task `b` depends on `a`, but both are in group `g`"),
        "{e}"
    );
    assert!(
        lines[2].starts_with("fleet.toml:21:6: group `solo` has only one member, `c`"),
        "{e}"
    );
    // With a supervisor, a group's members come from its plan.
    let planned = parse(&format!(
        "{AGENTS}\n[supervisor]\nagent = \"sim\"\n\n[groups.later]\ntitle = \"Later\"\n"
    ))
    .unwrap();
    assert_eq!(planned.group_title("later"), "Later");
}
