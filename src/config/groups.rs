//! `[groups.NAME]` in fleet.toml: task groups' titles and gates, and the
//! group rules (`core::team::group::check`) with the lines they are about.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::Config;
use crate::core::team::group::{GroupProblem, check as check_groups};
use crate::core::{TaskId, TaskSpec};

/// `[groups.NAME]`: a task group (members say `group = "NAME"`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSection {
    /// Shown for the group and in its landing commit; default: its name.
    #[serde(default)]
    pub title: Option<String>,
    /// The group's gate, run on the integration branch with every
    /// member's work merged; default: `[verify] commands`.
    #[serde(default)]
    pub verify: Option<Vec<String>>,
}

/// Every problem of the plan's groups with the span it is about: a
/// member's task (`lines`), else the `[groups.NAME]` section. With a
/// supervisor (`planned`), a group without members in fleet.toml is fine:
/// its members come from the planner's plan.
pub(super) fn check(
    sections: &BTreeMap<String, Spanned<GroupSection>>,
    tasks: &[TaskSpec],
    lines: &HashMap<TaskId, Range<usize>>,
    planned: bool,
) -> Vec<(Option<Range<usize>>, String)> {
    let mut problems = Vec::new();
    for p in check_groups(tasks, sections.keys().map(String::as_str)) {
        let span = match &p {
            GroupProblem::NoMembers { .. } if planned => continue,
            GroupProblem::NoMembers { group } => sections.get(group).map(Spanned::span),
            _ => p.task().and_then(|t| lines.get(t).cloned()),
        };
        problems.push((span, p.to_string()));
    }
    for (name, g) in sections {
        if g.get_ref().verify.as_ref().is_some_and(|v| v.is_empty()) {
            problems.push((
                Some(g.span()),
                format!(
                    "[groups.{name}] verify is empty: give commands, or remove it to use [verify] commands"
                ),
            ));
        }
    }
    problems
}

impl Config {
    /// The gate of group `name`: its `verify`, else `[verify] commands`.
    pub fn group_verify(&self, name: &str) -> &[String] {
        self.groups
            .get(name)
            .and_then(|g| g.verify.as_deref())
            .unwrap_or(&self.verify.commands)
    }

    /// The title of group `name`: its `title`, else its name.
    pub fn group_title<'a>(&'a self, name: &'a str) -> &'a str {
        self.groups
            .get(name)
            .and_then(|g| g.title.as_deref())
            .unwrap_or(name)
    }
}
