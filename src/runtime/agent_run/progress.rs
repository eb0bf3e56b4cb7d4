//! The coarse timer that feeds an attempt's progress ledger with the
//! worktree's changed-file count: every `stall_after / 4`, at least every
//! [`MIN_EVERY`], one count at a time off the async threads (the first
//! right after the spawn, as the baseline). It also knows whether the agent
//! is paused: a paused agent is not stuck, and the pause does not count as
//! time without progress. The agent run's side ([`AgentRun::files_counted`],
//! [`AgentRun::check_progress`]) is here too.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::AgentRun;
use crate::config::DEFAULT_STALL_AFTER_SECS;
use crate::core::TaskId;
use crate::core::supervisor::ledger::Ledger;
use crate::core::{Report, Signal};
use crate::git;
use crate::runtime::Msg;
use crate::runtime::engine::Engine;

/// The shortest interval between two counts of the worktree's files.
pub(super) const MIN_EVERY: Duration = Duration::from_secs(5);

/// See the module documentation.
pub(super) struct ProgressTimer {
    every: Duration,
    /// When the next count starts.
    pub next: Instant,
    counting: Option<JoinHandle<Option<usize>>>,
    /// The agent is paused (SIGSTOP) at the scheduler's request.
    pub paused: bool,
}

impl ProgressTimer {
    pub fn new(stall_after: Duration, paused: bool) -> ProgressTimer {
        ProgressTimer {
            every: every(stall_after),
            next: Instant::now(),
            counting: None,
            paused,
        }
    }

    /// No count is in flight: the next may start at [`ProgressTimer::next`].
    pub fn idle(&self) -> bool {
        self.counting.is_none()
    }

    pub fn counting(&self) -> bool {
        self.counting.is_some()
    }

    /// A count started.
    pub fn start(&mut self, count: JoinHandle<Option<usize>>) {
        self.counting = Some(count);
    }

    /// The count in flight finished: its result (None when git could not
    /// tell); the next one is due an interval later.
    pub async fn counted(&mut self) -> Option<usize> {
        let Some(handle) = self.counting.as_mut() else {
            return std::future::pending().await;
        };
        let count = handle.await.ok().flatten();
        self.counting = None;
        self.next = Instant::now() + self.every;
        count
    }

    /// A signal the scheduler sent the agent.
    pub fn signal(&mut self, signal: Signal, ledger: &mut Ledger) {
        match signal {
            Signal::Pause => self.paused = true,
            Signal::Resume => {
                if self.paused {
                    ledger.resumed(crate::store::now_ms());
                }
                self.paused = false;
            }
            Signal::Stop => {}
        }
    }
}

impl AgentRun {
    /// Counts the worktree's changed files off the async threads (None
    /// when git cannot tell).
    pub(super) fn changed_files(&self) -> tokio::task::JoinHandle<Option<usize>> {
        let (root, target, id) = (
            self.root.clone(),
            self.target.clone(),
            self.request.task.to_string(),
        );
        tokio::task::spawn_blocking(move || {
            git::worktree_changed_paths(&root, &id, &target)
                .ok()
                .map(|p| p.len())
        })
    }

    /// Asks the ledger whether the attempt is stuck; a stall goes to the
    /// scheduler. A paused agent is not stuck.
    pub(super) fn check_progress(&mut self, paused: bool) {
        if paused {
            return;
        }
        let stall_ms = i64::try_from(self.stall_after.as_millis()).unwrap_or(i64::MAX);
        if let Some(why) = self.ledger.check(crate::store::now_ms(), stall_ms) {
            self.send_summary(); // first: the supervisor is consulted on the stall
            let _ = self.tx.send(Msg::Report(Report::Stalled {
                task: self.request.task.clone(),
                attempt: self.request.attempt,
                why,
            }));
        }
    }

    /// A count of the worktree's changed files finished: into the ledger,
    /// its summary to the engine, and the check for a stall.
    pub(super) fn files_counted(&mut self, count: Option<usize>, paused: bool) {
        if let Some(count) = count {
            self.ledger.files_changed(count, crate::store::now_ms());
        }
        self.send_summary();
        self.check_progress(paused);
    }

    /// The ledger's summary to the engine ([`Engine::progress_summary`]).
    fn send_summary(&self) {
        let _ = self.tx.send(Msg::Progress {
            task: self.request.task.clone(),
            attempt: self.request.attempt,
            summary: self.ledger.summary(),
        });
    }
}

impl Engine {
    /// What the running attempt of `task` did so far, from its progress
    /// ledger ("3 files changed, 12 distinct tool calls, 2 errors, ..."),
    /// for the supervisor's prompt; None when no attempt of it runs.
    pub fn progress_summary(&self, task: &TaskId) -> Option<(u32, &str)> {
        self.progress.get(task).map(|(n, s)| (*n, s.as_str()))
    }

    /// How long a running attempt may go without progress: the engine's
    /// option, else `[supervisor] stall_after_secs`, else 10 minutes.
    pub(crate) fn stall_after(&self) -> Duration {
        let secs = self.options.stall_after_secs.or(self
            .config
            .supervisor
            .as_ref()
            .map(|s| s.stall_after_secs));
        Duration::from_secs(secs.unwrap_or(DEFAULT_STALL_AFTER_SECS).max(1))
    }

    /// Whether agents are told about `fleetdeck report`: a supervisor listens.
    pub(crate) fn supervised(&self) -> bool {
        self.options.supervised || self.config.supervisor.is_some()
    }
}

/// The interval between counts for `stall_after`.
fn every(stall_after: Duration) -> Duration {
    (stall_after / 4).max(MIN_EVERY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_every_quarter_of_stall_after_but_not_more_often_than_every_5_s() {
        assert_eq!(every(Duration::from_secs(600)), Duration::from_secs(150));
        assert_eq!(every(Duration::from_secs(8)), MIN_EVERY);
    }

    #[tokio::test]
    async fn a_pause_is_not_time_without_progress() {
        let mut ledger = Ledger::new(0);
        let mut t = ProgressTimer::new(Duration::from_secs(60), false);
        t.signal(Signal::Pause, &mut ledger);
        assert!(t.paused);
        t.signal(Signal::Resume, &mut ledger);
        assert!(!t.paused);
        let now = crate::store::now_ms();
        assert_eq!(
            ledger.check(now + 59_000, 60_000),
            None,
            "the clock restarted"
        );
        assert!(ledger.check(now + 61_000, 60_000).is_some());
    }

    #[tokio::test]
    async fn a_count_in_flight_is_awaited_and_the_next_is_an_interval_later() {
        let mut t = ProgressTimer::new(Duration::from_secs(20), false);
        assert!(t.idle());
        t.start(tokio::spawn(async { Some(3) }));
        assert!(t.counting());
        assert_eq!(t.counted().await, Some(3));
        assert!(t.idle());
        assert!(t.next > Instant::now() + Duration::from_secs(4));
    }
}
