//! A task group's integration and landing as engine jobs: the members'
//! work merged onto `fleet/group/<name>` (`git::integrate_group`) and the
//! group's verify commands run in its worktree `.fleet/worktrees/_group-<name>`
//! (contained like a task's gate, output to `runs/_group-<name>/<n>.jsonl`);
//! then `Report::Integrated`. An approved group is landed on the target
//! (`git::land_group`) and reported as `Report::GroupMerged`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Msg;
use super::engine::Engine;
use super::gate::{VerifyRun, run_verify};
use crate::agent::Format;
use crate::core::messages::IntegrationResult;
use crate::core::team::group::run_name;
use crate::core::{Report, TaskId};
use crate::git;
use crate::store::transcript::{self, Header, Stream, Writer};

/// A member's attribution, owned (for a blocking job).
struct Member {
    task: String,
    agent: String,
    attempt: u32,
    title: String,
}

impl Member {
    fn attr(&self) -> git::Attribution<'_> {
        git::Attribution {
            task: &self.task,
            agent: &self.agent,
            attempt: self.attempt,
            title: &self.title,
        }
    }
}

/// What a group's gate job needs besides the members.
struct GroupGate {
    root: PathBuf,
    fleet_dir: PathBuf,
    target: String,
    group: String,
    commands: Vec<String>,
    timeout: Option<Duration>,
    tx: mpsc::UnboundedSender<Msg>,
    shutdown: watch::Receiver<bool>,
}

impl Engine {
    fn members_of(&self, members: &[(TaskId, u32)]) -> Vec<Member> {
        members
            .iter()
            .map(|(task, attempt)| {
                let (agent, title) = self.attribution_of(task, *attempt);
                Member {
                    task: task.to_string(),
                    agent,
                    attempt: *attempt,
                    title,
                }
            })
            .collect()
    }

    /// Integrates `group` (every member waits for it) and runs its gate:
    /// `Report::Integrated`, none when the engine shuts down meanwhile
    /// (the next start integrates again).
    pub(super) fn start_integration(&mut self, group: String, members: Vec<(TaskId, u32)>) {
        let members = self.members_of(&members);
        let gate = GroupGate {
            root: self.root.clone(),
            fleet_dir: self.fleet_dir.clone(),
            target: self.target.clone(),
            commands: self.config.group_verify(&group).to_vec(),
            group,
            timeout: self.config.verify.timeout_secs.map(Duration::from_secs),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
        };
        self.jobs.spawn(gate.run(members));
    }

    /// Lands the approved `group` on the target: `Report::GroupMerged`.
    pub(super) fn start_group_merge(&mut self, group: String, members: Vec<(TaskId, u32)>) {
        let members = self.members_of(&members);
        let title = self.config.group_title(&group).to_owned();
        let (root, target, tx) = (self.root.clone(), self.target.clone(), self.tx.clone());
        self.jobs.spawn(async move {
            let name = group.clone();
            let landed = tokio::task::spawn_blocking(move || {
                let attrs: Vec<git::Attribution> = members.iter().map(Member::attr).collect();
                git::land_group(&root, &target, &name, &title, &attrs)
            })
            .await;
            let result = super::jobs::merge_result(landed);
            let _ = tx.send(Msg::Report(Report::GroupMerged { group, result }));
        });
    }
}

impl GroupGate {
    async fn run(mut self, members: Vec<Member>) {
        let Some(result) = self.check(members).await else {
            return;
        };
        let report = Report::Integrated {
            group: self.group.clone(),
            result,
        };
        let _ = self.tx.send(Msg::Report(report));
    }

    async fn check(&mut self, members: Vec<Member>) -> Option<IntegrationResult> {
        let (root, target, group) = (self.root.clone(), self.target.clone(), self.group.clone());
        let integrated = tokio::task::spawn_blocking(move || {
            let attrs: Vec<git::Attribution> = members.iter().map(Member::attr).collect();
            git::integrate_group(&root, &target, &group, &attrs)
        })
        .await;
        let error = |message: String| Some(IntegrationResult::Error { message });
        let (commit, worktree, changed) = match integrated {
            Ok(Ok(git::IntegrateOutcome::Integrated {
                commit,
                worktree,
                changed,
            })) => (commit, worktree, changed),
            Ok(Ok(git::IntegrateOutcome::Conflict { files, members })) => {
                let members = members
                    .iter()
                    .filter_map(|m| TaskId::parse(m).ok())
                    .collect();
                return Some(IntegrationResult::Conflict { files, members });
            }
            Ok(Err(e)) => return error(format!("integrating group `{}`: {e}", self.group)),
            Err(e) => return error(format!("integrating group `{}`: {e}", self.group)),
        };
        let changed: Vec<(TaskId, Vec<String>)> = changed
            .into_iter()
            .filter_map(|(t, files)| TaskId::parse(&t).ok().map(|t| (t, files)))
            .collect();
        let name = run_name(&self.group);
        let n = transcript::last_attempt_on_disk(&self.fleet_dir, &name) + 1;
        let mut writer = self.transcript(&name, n);
        let mut line = |s: Stream, l: &str| {
            if let Some(w) = writer.as_mut()
                && let Err(e) = w.line(s, l)
            {
                tracing::warn!("cannot write the transcript of group {name}: {e}");
                writer = None;
            }
        };
        line(
            Stream::Fleet,
            &format!(
                "integrated {} member(s) on {} at {commit}",
                changed.len(),
                crate::core::team::group::integration_branch(&self.group)
            ),
        );
        let run = VerifyRun {
            fleet_dir: &self.fleet_dir,
            name: &name,
            attempt: n,
            timeout: self.timeout,
        };
        for command in self.commands.clone() {
            line(Stream::Fleet, &format!("verify: {command}"));
            let mut out = |l: &str| line(Stream::Verify, l);
            match run_verify(&run, &mut self.shutdown, &command, &worktree, &mut out).await? {
                Ok(()) => {}
                Err(output) => {
                    line(Stream::Fleet, &format!("verify failed: {command}"));
                    return Some(IntegrationResult::VerifyFailed {
                        command,
                        output,
                        changed,
                    });
                }
            }
        }
        line(Stream::Fleet, "verify: passed");
        Some(IntegrationResult::Passed {
            commit: commit.to_string(),
        })
    }

    /// The transcript of integration `n` of the group (`name`: `_group-<group>`).
    fn transcript(&self, name: &str, n: u32) -> Option<Writer> {
        let path: PathBuf = Path::new(&self.fleet_dir)
            .join("runs")
            .join(name)
            .join(format!("{n}.jsonl"));
        let header = Header {
            task: name.to_owned(),
            attempt: n,
            agent: "verify".into(),
            format: Format::Text,
            argv: self.commands.clone(),
            started_ms: crate::store::now_ms(),
        };
        match Writer::create(&path, &header) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("cannot write {}: {e}", path.display());
                None
            }
        }
    }
}
