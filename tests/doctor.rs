//! `fleetdeck doctor` on real temporary repositories, with fake agent CLIs
//! on PATH: what it reports, its exit code, and that it writes nothing.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;

const VERSION: &str = "#!/bin/sh\necho \"2.1.330 (Claude Code)\"\n";
/// Never answers `--version` (within the test's lifetime).
const HANGS: &str = "#!/bin/sh\nPATH=/usr/bin:/bin exec sleep 60\n";

/// A directory to use as the whole PATH, holding executable `scripts`.
fn fake_path(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in scripts {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// `fleetdeck doctor` in `dir` (no -C) with PATH = `path` and a known terminal environment.
fn doctor(dir: &Path, path: &Path, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.arg("doctor").current_dir(dir).env("PATH", path);
    for var in ["COLORTERM", "NO_COLOR", "TMUX", "SSH_TTY", "SSH_CONNECTION"] {
        cmd.env_remove(var);
    }
    cmd.env("TERM", "xterm-256color").envs(env.iter().copied());
    let out: Output = cmd.output().unwrap();
    assert!(out.stderr.is_empty(), "stderr: {}", text(&out.stderr));
    (out.status.code(), text(&out.stdout))
}

fn has_line(report: &str, words: &[&str]) -> bool {
    report.lines().any(|l| {
        let l: Vec<&str> = l.split_whitespace().collect();
        l.len() >= words.len() && l[..words.len()] == *words
    })
}

#[test]
fn a_healthy_repository_passes_and_a_hanging_cli_is_reported() {
    let config = format!(
        "{SIM_PROFILE}\n[agents.claude]\ncommand = [\"claude\", \"-p\", \"{{prompt}}\"]\nformat = \"claude\"\n{}{}",
        task("a", &[], "say a"),
        task("b", &["a"], "say b")
    );
    let repo = TestRepo::new(&config, &[]);
    let path = fake_path(&[("claude", VERSION), ("codex", VERSION), ("gemini", HANGS)]);
    let start = Instant::now();
    let (code, report) = doctor(repo.path(), path.path(), &[]);
    let took = start.elapsed();

    assert_eq!(code, Some(0), "{report}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    for cli in ["claude", "codex"] {
        assert!(
            has_line(&report, &["ok", cli, "2.1.330", "(Claude", "Code)"]),
            "{report}"
        );
    }
    assert!(
        has_line(
            &report,
            &[
                "warning",
                "gemini",
                "did",
                "not",
                "answer",
                "--version",
                "within",
                "5",
                "s"
            ]
        ),
        "{report}"
    );
    for cli in ["opencode", "aider"] {
        assert!(
            has_line(&report, &["missing", cli, "not", "on", "PATH"]),
            "{report}"
        );
    }
    assert!(report.contains("\ngit\n"), "{report}");
    assert!(
        has_line(&report, &["missing", "git", "command"]),
        "{report}"
    );
    assert!(has_line(&report, &["ok", "libgit2"]), "{report}");
    let root = repo.path().canonicalize().unwrap();
    assert!(report.contains(&root.display().to_string()), "{report}");
    assert!(
        has_line(&report, &["ok", "checked", "out", "branch", "main"]),
        "{report}"
    );
    assert!(
        has_line(&report, &["ok", "TERM", "xterm-256color"]),
        "{report}"
    );
    assert!(
        has_line(&report, &["ok", "colours", "256", "colours"]),
        "{report}"
    );
    assert!(
        report.contains("built-in themes need only 256 colours"),
        "{report}"
    );
    assert!(
        report.contains("fleet.toml is valid: 2 tasks, 2 agent profiles"),
        "{report}"
    );
    assert!(
        report.contains("Everything fleetdeck needs works."),
        "{report}"
    );
    assert!(!report.contains('\u{1b}'), "colour codes in {report:?}");
    assert!(!repo.path().join(".fleet").exists(), ".fleet/ was created");
}

#[test]
fn an_invalid_fleet_toml_fails_with_file_line_and_column() {
    let repo = TestRepo::new("[fleet]\nmax_parallel = 4\ntarget = \"main\n", &[]);
    let path = fake_path(&[]);
    let (code, report) = doctor(repo.path(), path.path(), &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        has_line(&report, &["error", "fleet.toml", "invalid"]),
        "{report}"
    );
    assert!(report.contains("fleet.toml:3:15:"), "{report}");
    assert!(report.contains("1 problem to fix:"), "{report}");
    assert!(!repo.path().join(".fleet").exists(), ".fleet/ was created");
}

#[test]
fn a_profile_whose_command_is_not_on_path_is_flagged() {
    let config = format!(
        "{SIM_PROFILE}\n[agents.ghost]\ncommand = [\"ghost-cli\", \"{{prompt}}\"]\n{}",
        task("a", &[], "say a")
    );
    let repo = TestRepo::new(&config, &[]);
    let path = fake_path(&[("claude", VERSION)]);
    let (code, report) = doctor(repo.path(), path.path(), &[]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        has_line(
            &report,
            &[
                "error",
                "[agents.ghost]",
                "runs",
                "`ghost-cli`,",
                "which",
                "is",
                "not",
                "on",
                "PATH"
            ]
        ),
        "{report}"
    );
    assert!(
        !report.contains("[agents.sim]"),
        "the sim profile is flagged: {report}"
    );
    assert!(
        report.contains("agent profile `ghost` runs `ghost-cli`"),
        "{report}"
    );
}

#[test]
fn outside_a_repository_it_still_reports_agents_and_terminal_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = fake_path(&[("codex", VERSION)]);
    let env = [
        ("NO_COLOR", "1"),
        ("TMUX", "/tmp/tmux-0/default,1,0"),
        ("SSH_CONNECTION", "a 1 b 22"),
    ];
    let (code, report) = doctor(dir.path(), path.path(), &env);
    assert_eq!(code, Some(1), "{report}");
    assert!(has_line(&report, &["ok", "codex", "2.1.330"]), "{report}");
    assert!(
        has_line(&report, &["missing", "claude", "not", "on", "PATH"]),
        "{report}"
    );
    assert!(
        has_line(
            &report,
            &[
                "error",
                "repository",
                "not",
                "in",
                "a",
                "git",
                "repository:"
            ]
        ),
        "{report}"
    );
    assert!(has_line(&report, &["ok", "NO_COLOR", "set"]), "{report}");
    assert!(has_line(&report, &["ok", "tmux", "yes"]), "{report}");
    assert!(has_line(&report, &["ok", "SSH", "yes"]), "{report}");
    assert!(
        has_line(&report, &["ok", "colours", "no", "colour"]),
        "{report}"
    );
    assert!(
        has_line(&report, &["missing", "fleet.toml", "not", "checked:"]),
        "{report}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "doctor wrote a file"
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .args(["doctor", "--help"])
        .output()
        .unwrap();
    let help = text(&out.stdout);
    assert!(out.status.success(), "{help}");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("Exit codes: 0 when nothing must be fixed"),
        "{help}"
    );
    assert!(
        help.contains("or the directory is not inside a git repository"),
        "{help}"
    );
}
