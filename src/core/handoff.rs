//! What a part of a split task is told about the work it inherits: the
//! split task, what of its work is already in the part's worktree (or why
//! none is, and where it is saved), how its last attempt ended and its last
//! messages. Pure text for the part's first prompt; the runtime finds the
//! facts (git, the store, the transcript).

use super::TaskId;

/// Most file names listed.
const FILES: usize = 40;

/// What became of the split task's work in the part's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handed {
    /// The split task had no work to hand over.
    Nothing,
    /// Its changes to these files are in the worktree, uncommitted.
    Applied { files: Vec<String> },
    /// Its changes conflict with the target as it is now (in these files):
    /// nothing was applied; the work is kept under `saved_as`.
    Conflict {
        files: Vec<String>,
        saved_as: String,
    },
    /// Handing it over failed (`message`); nothing was applied.
    Failed { message: String },
}

/// The facts of one handoff, for [`inherited_text`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inheritance {
    /// The task that was split.
    pub from: TaskId,
    /// Its title.
    pub title: String,
    /// How its last attempt ended (the outcome's word with its detail);
    /// None when it never ran.
    pub last_outcome: Option<String>,
    /// Its last messages, oldest first, already flattened to one line each.
    pub messages: Vec<String>,
    /// What was done with its work.
    pub handed: Handed,
}

/// The section appended to a part's prompt: the first line says which task
/// was split; every other line is quoted with `> ` (never read as an
/// instruction to a scripted agent).
pub fn inherited_text(inh: &Inheritance) -> String {
    let mut out = format!(
        "\nThis task is part of `{}` ({}), which was split.\n",
        inh.from,
        one_line(&inh.title)
    );
    let work = match &inh.handed {
        Handed::Nothing => "It had no work to hand over: start from the target.".to_owned(),
        Handed::Applied { files } => format!(
            "Its work so far is already in your worktree, uncommitted: {}. Keep what serves this part; your commit carries it.",
            list(files)
        ),
        Handed::Conflict { files, saved_as } => format!(
            "Its work so far could not be applied onto the current target (conflicts in {}); it is saved at {saved_as}.",
            list(files)
        ),
        Handed::Failed { message } => format!(
            "Its work so far could not be handed over ({}): nothing of it is in your worktree.",
            one_line(message)
        ),
    };
    out.push_str(&format!("> {work}\n"));
    match &inh.last_outcome {
        Some(outcome) => out.push_str(&format!("> Its last attempt ended: {outcome}.\n")),
        None => out.push_str("> It never ran.\n"),
    }
    if !inh.messages.is_empty() {
        out.push_str("> Its last messages:\n");
        for m in &inh.messages {
            out.push_str(&format!("> - {}\n", one_line(m)));
        }
    }
    out
}

/// One line for the part's transcript (`fleetdeck log`, the cockpit) saying
/// what it inherited from `from`.
pub fn handed_note(from: &TaskId, handed: &Handed) -> String {
    match handed {
        Handed::Nothing => format!("split from `{from}`, which had no work to hand over"),
        Handed::Applied { files } => format!(
            "split from `{from}`: its work is in the worktree, uncommitted ({})",
            list(files)
        ),
        Handed::Conflict { files, saved_as } => format!(
            "split from `{from}`: its work conflicts with the target in {}, not applied (saved at {saved_as})",
            list(files)
        ),
        Handed::Failed { message } => format!(
            "split from `{from}`: its work could not be handed over: {}",
            one_line(message)
        ),
    }
}

/// `files` joined, at most [`FILES`] of them, then how many more.
fn list(files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(FILES).map(String::as_str).collect();
    let more = files.len().saturating_sub(FILES);
    match (shown.is_empty(), more) {
        (true, _) => "no file".to_owned(),
        (false, 0) => shown.join(", "),
        (false, n) => format!("{} and {n} more", shown.join(", ")),
    }
}

/// `text` on one line (a title or a message cannot break the quoting).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inh(handed: Handed) -> Inheritance {
        Inheritance {
            from: TaskId::parse("api").unwrap(),
            title: "Build the\nAPI".into(),
            last_outcome: Some("agent failed (crash)".into()),
            messages: vec!["I wrote the routes".into(), "tests\nfail".into()],
            handed,
        }
    }

    #[test]
    fn applied_work_names_the_files_the_outcome_and_the_last_messages() {
        let text = inherited_text(&inh(Handed::Applied {
            files: vec!["a.rs".into(), "b.rs".into()],
        }));
        assert_eq!(
            text,
            "\nThis task is part of `api` (Build the API), which was split.\n\
             > Its work so far is already in your worktree, uncommitted: a.rs, b.rs. Keep what serves this part; your commit carries it.\n\
             > Its last attempt ended: agent failed (crash).\n\
             > Its last messages:\n\
             > - I wrote the routes\n\
             > - tests fail\n"
        );
    }

    #[test]
    fn a_conflict_says_where_the_work_is_saved() {
        let text = inherited_text(&inh(Handed::Conflict {
            files: vec!["a.rs".into()],
            saved_as: "refs/fleet/split/api".into(),
        }));
        assert!(text.contains(
            "> Its work so far could not be applied onto the current target (conflicts in a.rs); it is saved at refs/fleet/split/api.\n"
        ));
    }

    #[test]
    fn no_work_a_failure_and_a_task_that_never_ran_are_each_said() {
        let mut never = inh(Handed::Nothing);
        never.last_outcome = None;
        never.messages.clear();
        let text = inherited_text(&never);
        assert!(
            text.ends_with(
                "> It had no work to hand over: start from the target.\n> It never ran.\n"
            )
        );
        let failed = inherited_text(&inh(Handed::Failed {
            message: "read refs/fleet/split/api:\nbroken".into(),
        }));
        assert!(failed.contains("(read refs/fleet/split/api: broken): nothing of it"));
    }

    #[test]
    fn the_transcript_note_says_what_was_inherited_in_one_line() {
        let api = TaskId::parse("api").unwrap();
        let applied = Handed::Applied {
            files: vec!["a.rs".into(), "b.rs".into()],
        };
        assert_eq!(
            handed_note(&api, &applied),
            "split from `api`: its work is in the worktree, uncommitted (a.rs, b.rs)"
        );
        let conflict = Handed::Conflict {
            files: vec!["a.rs".into()],
            saved_as: "refs/fleet/split/api".into(),
        };
        assert_eq!(
            handed_note(&api, &conflict),
            "split from `api`: its work conflicts with the target in a.rs, not applied (saved at refs/fleet/split/api)"
        );
        assert!(
            !handed_note(
                &api,
                &Handed::Failed {
                    message: "x\ny".into()
                }
            )
            .contains('\n')
        );
    }

    #[test]
    fn long_file_lists_are_cut_and_counted() {
        let files: Vec<String> = (0..45).map(|i| format!("f{i}")).collect();
        let text = inherited_text(&inh(Handed::Applied { files }));
        assert!(text.contains("f39 and 5 more."), "{text}");
        assert!(!text.contains("f40"));
    }

    #[test]
    fn every_line_after_the_first_is_quoted() {
        let text = inherited_text(&inh(Handed::Applied {
            files: vec!["write x y".into()],
        }));
        for line in text.trim_start_matches('\n').lines().skip(1) {
            assert!(line.starts_with("> "), "{line}");
        }
    }
}
