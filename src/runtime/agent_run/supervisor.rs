//! Step three of an agent run: supervising the live process, as a pure state
//! machine in the style of mprocs' kernel. It takes one input at a time (a
//! signal from the scheduler, a timer that came due) and returns the action
//! for the shell to carry out; the shell sleeps until [`Supervisor::next_timer`].
//! Times are durations since the agent was spawned, so every transition is
//! tested without a clock. A timer that no longer applies (the agent was
//! already being stopped, the kill was already sent) is ignored when it fires.

use std::time::Duration;

use crate::core::Signal;

/// Timers the supervisor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The attempt's time limit.
    Timeout,
    /// The grace period after SIGTERM is over.
    Kill,
}

/// What the shell does to the agent's process tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// SIGSTOP.
    Pause,
    /// SIGCONT.
    Resume,
    /// SIGTERM (and SIGCONT, so a stopped agent can handle it); the note says why.
    Terminate { note: &'static str },
    /// SIGKILL; the note says why.
    Kill { note: &'static str },
}

/// How the attempt is ending, as far as the supervisor is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Nobody asked it to end: its own verdict decides.
    Natural,
    /// The scheduler asked it to stop (reassign, drop, shutdown).
    Stopped,
    /// It ran past its time limit.
    TimedOut,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct Supervisor {
    timeout: Option<Duration>,
    grace: Duration,
    ending: Ending,
    kill_at: Option<Duration>,
}

impl Supervisor {
    pub fn new(timeout: Option<Duration>, grace: Duration) -> Supervisor {
        Supervisor {
            timeout,
            grace,
            ending: Ending::Natural,
            kill_at: None,
        }
    }

    /// The next timer to sleep until, if any.
    pub fn next_timer(&self) -> Option<(Duration, Timer)> {
        let timeout = self
            .timeout
            .filter(|_| self.ending == Ending::Natural)
            .map(|at| (at, Timer::Timeout));
        let kill = self.kill_at.map(|at| (at, Timer::Kill));
        [timeout, kill]
            .into_iter()
            .flatten()
            .min_by_key(|(at, _)| *at)
    }

    /// A signal from the scheduler arrived at `now`.
    pub fn signal(&mut self, signal: Signal, now: Duration) -> Option<Action> {
        match signal {
            Signal::Pause => Some(Action::Pause),
            Signal::Resume => Some(Action::Resume),
            Signal::Stop if self.ending == Ending::Natural => {
                self.ending = Ending::Stopped;
                self.kill_at = Some(now + self.grace);
                Some(Action::Terminate {
                    note: "stopping the agent (SIGTERM)",
                })
            }
            // Already stopping (or timed out): the kill timer runs.
            Signal::Stop => None,
        }
    }

    /// `timer` came due at `now`.
    pub fn fire(&mut self, timer: Timer, now: Duration) -> Option<Action> {
        match timer {
            Timer::Timeout
                if self.ending == Ending::Natural && self.timeout.is_some_and(|t| now >= t) =>
            {
                self.ending = Ending::TimedOut;
                self.kill_at = Some(now + self.grace);
                Some(Action::Terminate {
                    note: "the attempt timed out: stopping the agent (SIGTERM)",
                })
            }
            Timer::Kill if self.kill_at.is_some_and(|at| now >= at) => {
                self.kill_at = None;
                Some(Action::Kill {
                    note: "the agent ignored SIGTERM: SIGKILL",
                })
            }
            _ => None, // stale
        }
    }

    pub fn ending(&self) -> Ending {
        self.ending
    }
}

/// Sleeps until the timer `next` is due (its time counted from `spawned`);
/// forever when there is none. The shell's only clock.
pub(crate) async fn due(next: Option<(Duration, Timer)>, spawned: tokio::time::Instant) -> Timer {
    match next {
        Some((at, timer)) => {
            tokio::time::sleep_until(spawned + at).await;
            timer
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn stop_is_term_then_kill_after_the_grace_period() {
        let mut sup = Supervisor::new(None, S(5));
        assert_eq!(sup.next_timer(), None, "no limit: nothing to wait for");
        assert!(matches!(
            sup.signal(Signal::Stop, S(10)),
            Some(Action::Terminate { .. })
        ));
        assert_eq!(sup.next_timer(), Some((S(15), Timer::Kill)));
        assert_eq!(
            sup.signal(Signal::Stop, S(11)),
            None,
            "stop twice: no second TERM"
        );
        assert_eq!(sup.fire(Timer::Kill, S(14)), None, "early: stale");
        assert!(matches!(
            sup.fire(Timer::Kill, S(15)),
            Some(Action::Kill { .. })
        ));
        assert_eq!(sup.next_timer(), None);
        assert_eq!(sup.fire(Timer::Kill, S(20)), None, "killed once");
        assert_eq!(sup.ending(), Ending::Stopped);
    }

    #[test]
    fn a_timeout_terminates_once_and_is_reported_as_such() {
        let mut sup = Supervisor::new(Some(S(60)), S(2));
        assert_eq!(sup.next_timer(), Some((S(60), Timer::Timeout)));
        assert_eq!(sup.fire(Timer::Timeout, S(59)), None);
        assert!(matches!(
            sup.fire(Timer::Timeout, S(60)),
            Some(Action::Terminate { .. })
        ));
        assert_eq!(sup.next_timer(), Some((S(62), Timer::Kill)));
        assert_eq!(sup.signal(Signal::Stop, S(61)), None, "already stopping");
        assert_eq!(sup.ending(), Ending::TimedOut);
    }

    #[test]
    fn a_stop_before_the_deadline_cancels_the_timeout() {
        let mut sup = Supervisor::new(Some(S(60)), S(5));
        sup.signal(Signal::Stop, S(1));
        assert_eq!(sup.next_timer(), Some((S(6), Timer::Kill)));
        assert_eq!(sup.fire(Timer::Timeout, S(60)), None, "stale timeout");
        assert_eq!(sup.ending(), Ending::Stopped);
    }

    #[test]
    fn pause_and_resume_pass_through() {
        let mut sup = Supervisor::new(None, S(5));
        assert_eq!(sup.signal(Signal::Pause, S(0)), Some(Action::Pause));
        assert_eq!(sup.signal(Signal::Resume, S(1)), Some(Action::Resume));
        assert_eq!(sup.ending(), Ending::Natural);
    }
}
