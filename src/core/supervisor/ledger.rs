//! The progress ledger of one running attempt, pure: what the agent did
//! (distinct tool calls by name and argument, messages, errors, the
//! worktree's changed-file count) and whether it is stuck — no progress
//! for `stall_after`, or a loop (the same tool call [`CALL_LOOP`] times in
//! a row, the same error [`ERROR_LOOP`] times in a row). A stall is reported
//! once per episode: only after new progress may it be reported again.
//! Times are Unix ms given by the caller; the ledger reads no clock.

use std::collections::HashSet;

use crate::agent::AgentEvent;

/// The same tool call this many times in a row is a loop.
pub const CALL_LOOP: u32 = 5;
/// The same error this many times in a row is a loop.
pub const ERROR_LOOP: u32 = 3;
/// Longest tool argument or error quoted in a report, in characters.
const QUOTE_MAX: usize = 80;

/// A run of the same thing (a tool call, an error) in a row.
#[derive(Debug, Clone, Default)]
struct Run {
    what: Option<String>,
    count: u32,
    /// This run was already reported as a loop.
    reported: bool,
}

impl Run {
    /// Counts `what`; a different one starts a new run.
    fn push(&mut self, what: String) {
        if self.what.as_deref() == Some(what.as_str()) {
            self.count += 1;
        } else {
            *self = Run {
                what: Some(what),
                count: 1,
                reported: false,
            };
        }
    }

    /// The run's text when it is a loop not yet reported (and marks it).
    fn take_loop(&mut self, at: u32) -> Option<&str> {
        if self.count >= at && !self.reported {
            self.reported = true;
            self.what.as_deref()
        } else {
            None
        }
    }
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct Ledger {
    last_progress_ms: i64,
    /// The worktree's changed-file count, as last counted.
    files: Option<usize>,
    calls: HashSet<String>,
    messages: HashSet<String>,
    message_count: u32,
    errors: u32,
    call_run: Run,
    error_run: Run,
    /// A stall was reported in this episode (no progress since).
    reported: bool,
}

impl Ledger {
    /// The ledger of an attempt that started at `now_ms`.
    pub fn new(now_ms: i64) -> Ledger {
        Ledger {
            last_progress_ms: now_ms,
            files: None,
            calls: HashSet::new(),
            messages: HashSet::new(),
            message_count: 0,
            errors: 0,
            call_run: Run::default(),
            error_run: Run::default(),
            reported: false,
        }
    }

    /// One parsed event of the agent; true when it was progress (a tool
    /// call or a message not seen before).
    pub fn observe(&mut self, event: &AgentEvent, now_ms: i64) -> bool {
        let progress = match event {
            AgentEvent::ToolCall { name, arg, .. } => {
                let call = call_text(name, arg);
                self.call_run.push(call.clone());
                self.calls.insert(call)
            }
            AgentEvent::Message { text } => {
                self.message_count += 1;
                let text = text.trim();
                !text.is_empty() && self.messages.insert(text.to_owned())
            }
            AgentEvent::Error { text } => {
                self.error(text);
                false
            }
            AgentEvent::ToolResult {
                ok: false, preview, ..
            } => {
                self.error(preview);
                false
            }
            AgentEvent::PermissionDenied { tool, detail } => {
                self.error(&format!("permission denied: {tool} {detail}"));
                false
            }
            _ => false,
        };
        if progress {
            self.progressed(now_ms);
        }
        progress
    }

    /// The worktree's changed-file count at `now_ms`; true when it changed
    /// (progress; the first count is the baseline).
    pub fn files_changed(&mut self, count: usize, now_ms: i64) -> bool {
        let before = self.files.replace(count);
        let changed = before.is_some_and(|b| b != count) || (before.is_none() && count > 0);
        if changed {
            self.progressed(now_ms);
        }
        changed
    }

    /// The agent said how far it is (`fleetdeck msg progress`): progress
    /// when the text is new. True when it was.
    pub fn reported(&mut self, text: &str, now_ms: i64) -> bool {
        let text = text.trim();
        let new = !text.is_empty() && self.messages.insert(format!("progress: {text}"));
        if new {
            self.progressed(now_ms);
        }
        new
    }

    /// The agent was paused (at the user's request) until `now_ms`: the
    /// pause is not time without progress.
    pub fn resumed(&mut self, now_ms: i64) {
        self.last_progress_ms = self.last_progress_ms.max(now_ms);
    }

    /// Why the attempt is stuck, once per episode: a loop, or no progress
    /// for `stall_after_ms`. None while it progresses (or was reported).
    pub fn check(&mut self, now_ms: i64, stall_after_ms: i64) -> Option<String> {
        if self.reported {
            return None;
        }
        let why = if let Some(call) = self.call_run.take_loop(CALL_LOOP) {
            Some(format!(
                "repeats `{}` {} times",
                quote(call),
                self.call_run.count
            ))
        } else if let Some(error) = self.error_run.take_loop(ERROR_LOOP) {
            Some(format!(
                "repeats the error `{}` {} times",
                quote(error),
                self.error_run.count
            ))
        } else if now_ms - self.last_progress_ms >= stall_after_ms.max(1) {
            Some(format!(
                "no progress for {}: {}",
                duration(now_ms - self.last_progress_ms),
                self.counts()
            ))
        } else {
            None
        };
        self.reported = why.is_some();
        why
    }

    /// What the attempt did so far, in one line, for the supervisor's prompt.
    pub fn summary(&self) -> String {
        let mut text = format!("{}, {} messages", self.counts(), self.message_count);
        if self.call_run.count >= 2
            && let Some(call) = &self.call_run.what
        {
            text.push_str(&format!(
                "; the last tool call `{}` {} times in a row",
                quote(call),
                self.call_run.count
            ));
        }
        if self.error_run.count >= 2
            && let Some(error) = &self.error_run.what
        {
            text.push_str(&format!(
                "; the last error `{}` {} times in a row",
                quote(error),
                self.error_run.count
            ));
        }
        text
    }

    fn counts(&self) -> String {
        format!(
            "{} files changed, {} distinct tool calls, {} errors",
            self.files.unwrap_or(0),
            self.calls.len(),
            self.errors
        )
    }

    fn error(&mut self, text: &str) {
        self.errors += 1;
        self.error_run.push(text.trim().to_owned());
    }

    fn progressed(&mut self, now_ms: i64) {
        self.last_progress_ms = self.last_progress_ms.max(now_ms);
        self.reported = false;
        // Errors separated by progress are not a loop.
        self.error_run = Run::default();
    }
}

/// `Name: arg` (or `Name` alone) for a tool call.
fn call_text(name: &str, arg: &str) -> String {
    if arg.trim().is_empty() {
        name.to_owned()
    } else {
        format!("{name}: {}", arg.trim())
    }
}

/// The first line of `text`, at most [`QUOTE_MAX`] characters.
fn quote(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > QUOTE_MAX {
        format!("{}...", line.chars().take(QUOTE_MAX).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// "45 s", "10 min", "2 h 5 min".
fn duration(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s => match (s / 60) % 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn call(name: &str, arg: &str) -> AgentEvent {
        AgentEvent::ToolCall {
            id: None,
            name: name.into(),
            arg: arg.into(),
        }
    }

    fn error(text: &str) -> AgentEvent {
        AgentEvent::Error { text: text.into() }
    }

    #[test]
    fn no_progress_for_stall_after_is_reported_once_with_the_counts() {
        let mut l = Ledger::new(0);
        l.files_changed(0, 0);
        l.observe(&call("Read", "a.rs"), 1_000);
        l.files_changed(3, 2_000);
        l.observe(&error("boom"), 3_000);
        assert_eq!(l.check(2_000 + 10 * MIN - 1, 10 * MIN), None, "not yet");
        assert_eq!(
            l.check(2_000 + 10 * MIN, 10 * MIN).as_deref(),
            Some("no progress for 10 min: 3 files changed, 1 distinct tool calls, 1 errors")
        );
        assert_eq!(
            l.check(2_000 + 30 * MIN, 10 * MIN),
            None,
            "once per episode"
        );
    }

    #[test]
    fn after_progress_a_new_stall_is_reported_again() {
        let mut l = Ledger::new(0);
        assert!(l.check(MIN, MIN).is_some());
        assert!(l.observe(&call("Edit", "b.rs"), MIN + 5), "a new call");
        assert_eq!(l.check(2 * MIN, MIN), None);
        assert!(
            l.check(2 * MIN + 5, MIN)
                .is_some_and(|w| w.starts_with("no progress for 60 s"))
        );
    }

    #[test]
    fn a_new_progress_message_is_progress_and_a_repeated_one_is_not() {
        let mut l = Ledger::new(0);
        assert!(l.reported("schema done", MIN - 1));
        assert_eq!(l.check(MIN + 5, MIN), None, "the message counted");
        assert!(!l.reported("schema done", MIN + 10), "the same again");
        assert!(!l.reported("  ", MIN + 10));
        assert!(l.check(2 * MIN, MIN).is_some());
        assert!(
            l.reported("API 60%", 2 * MIN + 1),
            "new progress ends the episode"
        );
        assert_eq!(l.check(2 * MIN + 2, MIN), None);
    }

    #[test]
    fn steady_progress_is_never_reported() {
        let mut l = Ledger::new(0);
        for i in 0..100i64 {
            let now = i * MIN / 2;
            l.observe(&call("Edit", &format!("file{i}.rs")), now);
            l.files_changed((i / 3) as usize, now);
            l.observe(
                &AgentEvent::Message {
                    text: format!("step {i}"),
                },
                now,
            );
            assert_eq!(l.check(now + 1_000, 10 * MIN), None, "step {i}");
        }
    }

    #[test]
    fn changed_files_are_progress_and_the_first_count_is_the_baseline() {
        let mut l = Ledger::new(0);
        assert!(!l.files_changed(0, MIN), "baseline of a clean worktree");
        assert!(!l.files_changed(0, 2 * MIN), "unchanged");
        assert!(l.files_changed(1, 3 * MIN));
        assert_eq!(l.check(3 * MIN + 30_000, MIN), None);
        let mut kept = Ledger::new(0);
        assert!(
            kept.files_changed(2, MIN),
            "work an earlier attempt left counts once"
        );
    }

    #[test]
    fn the_same_tool_call_five_times_in_a_row_is_a_loop() {
        let mut l = Ledger::new(0);
        for i in 0..4 {
            l.observe(&call("Bash", "cargo test"), i);
            assert_eq!(l.check(i, 10 * MIN), None, "{} calls", i + 1);
        }
        l.observe(
            &AgentEvent::Message {
                text: "again".into(),
            },
            5,
        );
        l.observe(&call("Bash", "cargo test"), 5);
        l.observe(&call("Bash", "cargo test"), 6);
        assert_eq!(
            l.check(6, 10 * MIN).as_deref(),
            Some("repeats `Bash: cargo test` 6 times"),
            "a message between calls does not break the run"
        );
        l.observe(&call("Bash", "cargo test"), 7);
        assert_eq!(l.check(7, 10 * MIN), None, "the same loop once");
    }

    #[test]
    fn different_calls_in_between_are_no_loop() {
        let mut l = Ledger::new(0);
        for i in 0..20 {
            let arg = if i % 2 == 0 {
                "cargo test"
            } else {
                "cargo build"
            };
            l.observe(&call("Bash", arg), i);
            assert_eq!(l.check(i, 10 * MIN), None);
        }
    }

    #[test]
    fn the_same_error_three_times_in_a_row_is_a_loop() {
        let mut l = Ledger::new(0);
        l.observe(&error("E0432 unresolved import"), 1);
        l.observe(&call("Edit", "a.rs"), 2);
        l.observe(&error("E0432 unresolved import"), 3);
        l.observe(&error("E0432 unresolved import"), 4);
        assert_eq!(
            l.check(4, 10 * MIN),
            None,
            "progress in between reset the run"
        );
        l.observe(
            &AgentEvent::ToolResult {
                id: None,
                ok: false,
                preview: "E0432 unresolved import".into(),
                output: String::new(),
            },
            5,
        );
        assert_eq!(
            l.check(5, 10 * MIN).as_deref(),
            Some("repeats the error `E0432 unresolved import` 3 times")
        );
    }

    #[test]
    fn a_loop_after_a_reported_stall_waits_for_progress() {
        let mut l = Ledger::new(0);
        assert!(l.check(MIN, MIN).is_some());
        for i in 0..6 {
            l.observe(&call("Bash", "ls"), MIN + i);
        }
        // The first `ls` was a new call: progress, so the loop is reported.
        assert_eq!(
            l.check(MIN + 6, MIN).as_deref(),
            Some("repeats `Bash: ls` 6 times")
        );
        assert_eq!(
            l.check(3 * MIN, MIN),
            None,
            "no second report without progress"
        );
    }

    #[test]
    fn the_summary_names_the_counts_and_the_current_repetition() {
        let mut l = Ledger::new(0);
        l.files_changed(2, 0);
        l.observe(&AgentEvent::Message { text: "hi".into() }, 0);
        for _ in 0..3 {
            l.observe(&call("Bash", "cargo test\nsecond line"), 0);
        }
        assert_eq!(
            l.summary(),
            "2 files changed, 1 distinct tool calls, 0 errors, 1 messages; the last tool call `Bash: cargo test` 3 times in a row"
        );
        let long = "x".repeat(200);
        assert_eq!(quote(&long).chars().count(), QUOTE_MAX + 3);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(10 * MIN), "10 min");
        assert_eq!(duration(60 * MIN), "1 h");
        assert_eq!(duration(125 * MIN), "2 h 5 min");
    }
}
