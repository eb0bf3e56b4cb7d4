//! Shared helpers for the integration tests: real temporary repositories and
//! the real `fleetdeck` binary.
#![allow(dead_code)] // each test crate uses a different subset

pub mod escape;
pub mod pty;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use git2::{IndexAddOption, Oid, Repository, RepositoryInitOptions, Signature};

pub const SIM_PROFILE: &str = r#"
[agents.sim]
command = ["fleetdeck", "sim-agent", "{prompt}"]
format = "claude"
"#;

/// The sim profile naming the real binary: inside a test binary "fleetdeck"
/// would resolve to the test executable itself (library-level tests).
pub fn sim_profile_abs() -> String {
    SIM_PROFILE.replace(
        "\"fleetdeck\"",
        &format!("{:?}", env!("CARGO_BIN_EXE_fleetdeck")),
    )
}

/// A temporary git repository on `main` with one commit.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
}

impl TestRepo {
    /// A repository whose first commit holds `files` and `fleet.toml`.
    pub fn new(fleet_toml: &str, files: &[(&str, &str)]) -> TestRepo {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).unwrap();
        let mut config = repo.config().unwrap();
        config.set_str("user.name", "Test User").unwrap();
        config.set_str("user.email", "test@example.com").unwrap();
        std::fs::write(dir.path().join("fleet.toml"), fleet_toml).unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let mut index = repo.index().unwrap();
        index.add_all(["*"], IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::now("Test User", "test@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "initial\n", &tree, &[])
            .unwrap();
        TestRepo { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn repo(&self) -> Repository {
        Repository::open(self.path()).unwrap()
    }

    /// Runs `fleetdeck -C <repo> args...` to completion.
    pub fn fleetdeck(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs `fleetdeck args...` and asserts its exit code, showing both
    /// output streams when it differs.
    #[track_caller]
    pub fn expect(&self, args: &[&str], code: i32) -> Output {
        let out = self.fleetdeck(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "fleetdeck {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            text(&out.stdout),
            text(&out.stderr)
        );
        out
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetdeck"));
        cmd.arg("-C").arg(self.path()).args(args);
        cmd
    }

    /// `status --json` as a JSON value.
    pub fn status(&self) -> serde_json::Value {
        let out = self.fleetdeck(&["status", "--json"]);
        assert!(out.status.success(), "status failed: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The status row of one task.
    pub fn task(&self, id: &str) -> serde_json::Value {
        let doc = self.status();
        find_task(&doc, id).unwrap_or_else(|| panic!("no task {id} in {doc}"))
    }

    /// The status row of one task, None while it is not in the database
    /// yet (a run that just started may not have imported its plan).
    pub fn try_task(&self, id: &str) -> Option<serde_json::Value> {
        find_task(&self.status(), id)
    }

    /// Commits on main's first-parent history, newest first: (oid, message).
    pub fn first_parent_log(&self) -> Vec<(Oid, String)> {
        let repo = self.repo();
        let mut walk = repo.revwalk().unwrap();
        walk.push_ref("refs/heads/main").unwrap();
        walk.simplify_first_parent().unwrap();
        walk.map(|oid| {
            let oid = oid.unwrap();
            (
                oid,
                repo.find_commit(oid)
                    .unwrap()
                    .message()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
    }

    /// Task ids of the merge commits on main, oldest first.
    pub fn merged_tasks(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .first_parent_log()
            .into_iter()
            .filter_map(|(_, msg)| trailer(&msg, "Fleet-Task"))
            .collect();
        ids.reverse();
        ids
    }

    pub fn main_tree(&self) -> Oid {
        let repo = self.repo();
        repo.find_reference("refs/heads/main")
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .tree_id()
    }

    /// The events table as (kind, task, detail) in order.
    pub fn events(&self) -> Vec<(String, Option<String>, serde_json::Value)> {
        let conn = rusqlite::Connection::open(self.path().join(".fleet/fleet.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT kind, task, detail FROM events ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                let detail: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&detail).unwrap()))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The prompts of a task's attempts, in order.
    pub fn prompts(&self, task: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.path().join(".fleet/fleet.db")).unwrap();
        let mut stmt = conn
            .prepare("SELECT prompt FROM attempts WHERE task = ?1 ORDER BY n")
            .unwrap();
        let rows = stmt.query_map([task], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    }
}

/// The value of a `Key: value` trailer in a commit message.
pub fn trailer(message: &str, key: &str) -> Option<String> {
    message.lines().rev().find_map(|l| {
        l.strip_prefix(&format!("{key}: "))
            .map(|v| v.trim().to_owned())
    })
}

/// The lines of a file a test agent wrote (an argv log...).
pub fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Polls `check` every few milliseconds until it returns Some, or panics after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `[[task]]` table for the simulated agent.
pub fn task(id: &str, deps: &[&str], script: &str) -> String {
    let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
    format!(
        "\n[[task]]\nid = \"{id}\"\ntitle = \"Task {id}\"\nagent = \"sim\"\ndeps = [{}]\nprompt = '''\n{script}\n'''\n",
        deps.join(", ")
    )
}

pub fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

pub fn worktree(repo: &TestRepo, task: &str) -> PathBuf {
    repo.path().join(".fleet/worktrees").join(task)
}

/// Waits (30 s at most) for an engine notification that `task` became the status named `to`.
pub async fn wait_status(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<fleetdeck::runtime::Notification>,
    task: &str,
    to: &str,
) -> fleetdeck::core::Status {
    use fleetdeck::core::Event;
    use fleetdeck::runtime::Notification;
    let wait = async {
        while let Some(n) = events.recv().await {
            if let Notification::Event {
                event: Event::Status { task: t, to: s, .. },
                ..
            } = n
                && t.as_str() == task
                && s.name() == to
            {
                return s;
            }
        }
        panic!("event stream ended before {task} became {to}");
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out: {task} -> {to}"))
}

/// The row of task `id` in a `status --json` document.
fn find_task(doc: &serde_json::Value, id: &str) -> Option<serde_json::Value> {
    doc["tasks"]
        .as_array()?
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
}
