//! Task statuses, which carry their own data, and the board column derived from them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a task stands. The board column is derived by [`Status::column`], never stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its dependencies or for capacity. `held` is set when the
    /// user paused it before it started: it will not start until resumed.
    Queued {
        #[serde(default)]
        held: bool,
    },
    /// An agent process is live for `attempt`.
    Running { attempt: u32 },
    /// The user paused the agent of `attempt` (the process group is stopped with SIGSTOP).
    Paused { attempt: u32 },
    /// The agent finished; its changes are being committed and the verify gate runs.
    Verifying { attempt: u32 },
    /// The user (or `auto_update`) asked to bring the branch of `attempt`
    /// onto the target's tip; the update runs in the task's worktree.
    Updating { attempt: u32 },
    /// Waiting for a human to approve, request changes or reject. `block` is
    /// set when an approval could not be merged.
    Review {
        attempt: u32,
        #[serde(default)]
        block: Option<MergeBlock>,
    },
    /// Approved and in the merge queue (merges run one at a time, in dependency order).
    Merging { attempt: u32 },
    /// The reviewer agent (`[review] agent`) checks the attempt's gated
    /// work, read-only, before the human sees it.
    Reviewing { attempt: u32 },
    /// A fan-out task: its candidates (tasks whose `candidate_of` is this
    /// one) run, one per profile.
    FannedOut,
    /// A fan-out task whose candidates have all finished: the user picks one.
    Comparing,
    /// A group member whose attempt passed its own gate: it waits for the
    /// rest of its group, then the group's gate on the integration branch.
    Grouped { attempt: u32 },
    /// Needs a human decision: retry, reassign, edit or drop.
    Failed { reason: String },
    /// Merged into the target by `commit`.
    Done { commit: String },
    /// Removed from the plan by the user; its branch is kept.
    Dropped,
}

/// Why an approved task could not be merged; it stays in Review with this mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MergeBlock {
    /// The task's branch conflicts with the target in these files.
    Conflict { files: Vec<String> },
    /// The merge would overwrite uncommitted changes in the user's checkout.
    Refused { files: Vec<String> },
    /// Git failed for another reason.
    Error { message: String },
    /// An update onto the target conflicted in these files: the worktree
    /// holds them with conflict markers, waiting for the agent (`u`) or the
    /// user (`e`) to resolve them.
    UpdateConflict { files: Vec<String> },
}

/// A board column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    Queued,
    Running,
    Review,
    Done,
}

impl Status {
    /// The board column this status belongs to.
    pub fn column(&self) -> Column {
        match self {
            Status::Queued { .. } => Column::Queued,
            Status::Running { .. }
            | Status::Paused { .. }
            | Status::Verifying { .. }
            | Status::Updating { .. }
            | Status::Reviewing { .. }
            | Status::FannedOut
            | Status::Grouped { .. } => Column::Running,
            Status::Review { .. }
            | Status::Failed { .. }
            | Status::Merging { .. }
            | Status::Comparing => Column::Review,
            Status::Done { .. } | Status::Dropped => Column::Done,
        }
    }

    /// The short lowercase name used in listings and JSON (`queued`, `running`...).
    pub fn name(&self) -> &'static str {
        match self {
            Status::Queued { .. } => "queued",
            Status::Running { .. } => "running",
            Status::Paused { .. } => "paused",
            Status::Verifying { .. } => "verifying",
            Status::Updating { .. } => "updating",
            Status::Review { .. } => "review",
            Status::Merging { .. } => "merging",
            Status::Reviewing { .. } => "reviewing",
            Status::FannedOut => "fanned out",
            Status::Comparing => "comparing",
            Status::Grouped { .. } => "grouped",
            Status::Failed { .. } => "failed",
            Status::Done { .. } => "done",
            Status::Dropped => "dropped",
        }
    }

    /// True while an agent process exists for the task (running or paused).
    pub fn has_agent(&self) -> bool {
        matches!(self, Status::Running { .. } | Status::Paused { .. })
    }

    /// True for the two end states.
    pub fn is_final(&self) -> bool {
        matches!(self, Status::Done { .. } | Status::Dropped)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Column::Queued => "Queued",
            Column::Running => "Running",
            Column::Review => "Review",
            Column::Done => "Done",
        })
    }
}

impl fmt::Display for MergeBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MergeBlock::Conflict { files } => {
                write!(f, "merge conflict in {}", files.join(", "))
            }
            MergeBlock::Refused { files } => write!(
                f,
                "merge refused: it would overwrite your uncommitted changes to {}",
                files.join(", ")
            ),
            MergeBlock::Error { message } => write!(f, "merge failed: {message}"),
            MergeBlock::UpdateConflict { files } => write!(
                f,
                "update conflict in {}: the markers are in the worktree; u: let the agent resolve them, E: resolve them yourself (or `fleetdeck resolve`)",
                files.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_guide() {
        let cases = [
            (Status::Queued { held: false }, Column::Queued),
            (Status::Queued { held: true }, Column::Queued),
            (Status::Running { attempt: 1 }, Column::Running),
            (Status::Paused { attempt: 1 }, Column::Running),
            (Status::Verifying { attempt: 1 }, Column::Running),
            (Status::Updating { attempt: 1 }, Column::Running),
            (
                Status::Review {
                    attempt: 1,
                    block: None,
                },
                Column::Review,
            ),
            (Status::Failed { reason: "x".into() }, Column::Review),
            (Status::Merging { attempt: 1 }, Column::Review),
            (
                Status::Done {
                    commit: "abc".into(),
                },
                Column::Done,
            ),
            (Status::Dropped, Column::Done),
        ];
        for (status, column) in cases {
            assert_eq!(status.column(), column, "{status:?}");
        }
    }

    #[test]
    fn statuses_round_trip_through_json() {
        let s = Status::Review {
            attempt: 2,
            block: Some(MergeBlock::Conflict {
                files: vec!["a.rs".into()],
            }),
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Status>(&json).unwrap(), s);
    }

    #[test]
    fn merge_blocks_name_the_files() {
        let b = MergeBlock::Refused {
            files: vec!["src/lib.rs".into(), "README".into()],
        };
        assert!(b.to_string().contains("src/lib.rs, README"));
    }
}
