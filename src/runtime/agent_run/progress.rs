//! The coarse timer that feeds an attempt's progress ledger with the
//! worktree's changed-file count: every `stall_after / 4`, at least every
//! [`MIN_EVERY`], one count at a time off the async threads (the first
//! right after the spawn, as the baseline). It also knows whether the agent
//! is paused: a paused agent is not stuck, and the pause does not count as
//! time without progress.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::core::Signal;
use crate::core::supervisor::ledger::Ledger;

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
