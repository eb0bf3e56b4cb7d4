//! The environment every agent and verify command runs in: `PWD` is its
//! worktree (not the launcher's directory), and git discovery cannot climb
//! out of `.fleet/worktrees/` into the user's repository.

mod common;

use common::*;

/// An agent that trusts `$PWD` without checking it, as opencode does (not a
/// shell or a script behind a shell shim: a shell resets a `PWD` that is not
/// its working directory).
const PWD_AGENT: &str = r#"
[verify]
commands = ["perl -e 'exit(!-f \"$ENV{PWD}/hello.txt\")'"]

[agents.pwd]
command = ["perl", "-e", "open(my $f, '>', $ENV{'PWD'} . '/hello.txt') or die; print $f \"hello\\n\""]
format = "text"

[[task]]
id = "hello"
agent = "pwd"
prompt = "write hello.txt"
"#;

#[test]
fn an_agent_that_writes_to_pwd_writes_into_its_worktree() {
    let repo = TestRepo::new(PWD_AGENT, &[("README.md", "hi\n")]);
    // Launched from the user's checkout, as a user would.
    let out = repo
        .command(&["run", "--headless", "--auto-approve"])
        .current_dir(repo.path())
        .env("PWD", repo.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(repo.merged_tasks(), ["hello"]);
    // The file came through the merge, not straight into the checkout.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(repo.path())
        .output()
        .unwrap();
    assert_eq!(text(&status.stdout), "", "the checkout is clean");
    assert_eq!(
        std::fs::read_to_string(repo.path().join("hello.txt")).unwrap(),
        "hello\n"
    );
}

#[test]
fn a_directory_that_lost_its_git_file_cannot_reach_the_users_repository() {
    let repo = TestRepo::new("", &[("README.md", "hi\n")]);
    let fleet = repo.path().canonicalize().unwrap().join(".fleet");
    let plain = fleet.join("worktrees").join("gone");
    std::fs::create_dir_all(&plain).unwrap();
    let git = |env: bool| {
        let mut cmd = std::process::Command::new("git");
        cmd.args(["rev-parse", "--show-toplevel"])
            .current_dir(&plain)
            .env_remove("GIT_CEILING_DIRECTORIES");
        if env {
            cmd.envs(fleetdeck::runtime::process::spawn_env(&plain, &fleet));
        }
        cmd.output().unwrap()
    };
    // Without the ceiling, git finds the user's checkout above the directory.
    let escaped = git(false);
    assert!(escaped.status.success());
    assert_eq!(
        text(&escaped.stdout).trim(),
        repo.path().canonicalize().unwrap().to_string_lossy()
    );
    // With the environment fleetdeck gives every process, it finds nothing.
    let contained = git(true);
    assert!(
        !contained.status.success(),
        "git found a repository: {}",
        text(&contained.stdout)
    );
}
