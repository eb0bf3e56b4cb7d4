//! The default bindings: for each action its keys, the contexts where it
//! applies and the help screen's description.

use super::Action::{self, *};
use super::Context::{self, *};

const NAV: &[Context] = &[Board, Transcript, Diff, Info];
const TASK: &[Context] = &[Board, Transcript, Diff, Info];

/// (action, default keys, contexts, description) — the source of the help screen.
pub const DEFAULTS: &[(Action, &[&str], &[Context], &str)] = &[
    (
        Quit,
        &["q"],
        &[Board],
        "Quit (asks first while agents run; they resume next start)",
    ),
    (Help, &["?"], NAV, "Show every key binding"),
    (
        Back,
        &["esc"],
        &[Transcript, Diff, Info, Editor, Confirm],
        "Close the view, dialog or editor",
    ),
    (Up, &["up", "k"], NAV, "Move up / scroll up"),
    (Down, &["down", "j"], NAV, "Move down / scroll down"),
    (
        Left,
        &["left", "h"],
        &[Board, Diff],
        "Previous column / file list",
    ),
    (Right, &["right", "l"], &[Board, Diff], "Next column / diff"),
    (PageUp, &["pgup", "ctrl-u"], NAV, "Page up"),
    (PageDown, &["pgdn", "ctrl-d"], NAV, "Page down"),
    (Top, &["home", "g"], NAV, "Go to the top"),
    (
        Bottom,
        &["end", "G"],
        NAV,
        "Go to the bottom (the transcript follows again)",
    ),
    (Open, &["enter"], &[Board], "Open the selected task"),
    (
        NextTab,
        &["tab"],
        NAV,
        "Next tab (in a narrow terminal: next column)",
    ),
    (PrevTab, &["shift-tab"], NAV, "Previous tab / column"),
    (
        Pause,
        &["p"],
        TASK,
        "Pause or resume the task's agent (or hold a queued task)",
    ),
    (PauseFleet, &["P"], NAV, "Pause or resume the whole fleet"),
    (
        Reassign,
        &["r"],
        TASK,
        "Reassign the task to another agent profile",
    ),
    (
        Edit,
        &["e"],
        TASK,
        "Edit the task (title, prompt, dependencies, agent) as TOML",
    ),
    (NewTask, &["n"], &[Board], "Add a new task"),
    (
        Replan,
        &["R"],
        &[Board],
        "Edit the not-yet-done part of the plan as TOML",
    ),
    (Drop, &["d"], TASK, "Drop the task"),
    (Retry, &["t"], TASK, "Retry a failed task"),
    (
        Approve,
        &["a"],
        TASK,
        "Approve: merge the task into the target",
    ),
    (
        RequestChanges,
        &["c"],
        TASK,
        "Request changes: send feedback to the agent",
    ),
    (Reject, &["x"], TASK, "Reject the task's work"),
    (
        Update,
        &["u"],
        TASK,
        "Update onto the target (conflict: agent resolves)",
    ),
    (
        Resolve,
        &["E"],
        TASK,
        "Resolve an update conflict in $EDITOR",
    ),
    (
        ResolveShell,
        &["!"],
        TASK,
        "Resolve an update conflict in a shell",
    ),
    (
        Budget,
        &["b"],
        TASK,
        "Set the task's budget (dollars, tokens)",
    ),
    (FleetBudget, &["B"], NAV, "Set the whole fleet's budget"),
    (Search, &["/"], &[Transcript], "Search the transcript"),
    (SearchNext, &["n"], &[Transcript], "Next search match"),
    (SearchPrev, &["N"], &[Transcript], "Previous search match"),
    (Follow, &["f"], &[Transcript], "Follow new output"),
    (
        OlderAttempt,
        &["["],
        &[Transcript],
        "Show the task's previous attempt",
    ),
    (
        NewerAttempt,
        &["]"],
        &[Transcript],
        "Show the next attempt (the newest follows live output)",
    ),
    (
        ToggleFold,
        &["enter"],
        &[Transcript],
        "Fold or unfold the first tool output in view",
    ),
    (
        VerifyOutput,
        &["v"],
        &[Transcript],
        "Jump to the attempt's verify gate output",
    ),
    (ToggleSplit, &["s"], &[Diff], "Unified or side-by-side diff"),
    (NextHunk, &["n"], &[Diff], "Next hunk"),
    (PrevHunk, &["N"], &[Diff], "Previous hunk"),
    (NextFile, &["]"], &[Diff], "Next file"),
    (PrevFile, &["["], &[Diff], "Previous file"),
    (
        ScrollLeft,
        &["<"],
        &[Diff],
        "Scroll the diff left (cut lines end in ›)",
    ),
    (ScrollRight, &[">"], &[Diff], "Scroll the diff right"),
    (Save, &["ctrl-s"], &[Editor], "Save the editor"),
    (Yes, &["y", "enter"], &[Confirm], "Yes"),
    (No, &["n"], &[Confirm], "No"),
];
