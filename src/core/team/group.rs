//! Task groups: members work on sibling branches at once; when all passed
//! their own gates they are merged together onto an integration branch
//! where the group's gate runs, and land as one change.

use serde::{Deserialize, Serialize};

use crate::core::TaskId;

/// A file two running tasks both changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Overlap {
    /// Path relative to the repository root.
    pub file: String,
    /// The other task that changed it.
    pub other: TaskId,
}
