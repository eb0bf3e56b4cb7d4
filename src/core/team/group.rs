//! Task groups: members work on sibling branches at once; when all passed
//! their own gates they are merged together onto an integration branch
//! where the group's gate runs, and land as one change.
//!
//! The pure rules: which plans' groups are valid ([`check`]) and whose
//! work a failing group gate is about ([`blame`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::core::TaskId;
use crate::core::task::TaskSpec;

/// A file two running tasks both changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Overlap {
    /// Path relative to the repository root.
    pub file: String,
    /// The other task that changed it.
    pub other: TaskId,
}

/// The integration branch of group `name`: `fleet/group/<name>`.
pub fn integration_branch(name: &str) -> String {
    format!("fleet/group/{name}")
}

/// The name the group's worktree, transcript and verify commands run
/// under: `_group-<name>` (never a task id, which cannot start with `_`).
pub fn run_name(name: &str) -> String {
    format!("_group-{name}")
}

/// One thing wrong with a plan's groups. Found by [`check`] when
/// fleet.toml is loaded and when a planner's answer is validated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GroupProblem {
    /// Members of a group run at the same time by definition, so one
    /// cannot wait for another.
    #[error(
        "task `{task}` depends on `{dep}`, but both are in group `{group}`: members of a group run at once and land together; remove the dependency or take one out of the group"
    )]
    MemberDep {
        group: String,
        task: TaskId,
        dep: TaskId,
    },
    /// A group of one is reconciled with nobody: almost always a
    /// misspelled group name on one task (which silently splits a group).
    #[error(
        "group `{group}` has only one member, `{task}`: a group needs at least two (check the spelling of `group`, or remove it)"
    )]
    OneMember { group: String, task: TaskId },
    /// `[groups.NAME]` that no task names.
    #[error("[groups.{group}] has no members: no task says group = \"{group}\"")]
    NoMembers { group: String },
    /// A group name that cannot be a branch name component.
    #[error(
        "group name `{group}` (task `{task}`) must be lowercase letters, digits and dashes, starting with a letter or digit"
    )]
    BadName { group: String, task: TaskId },
}

impl GroupProblem {
    /// The task the problem is about, if one.
    pub fn task(&self) -> Option<&TaskId> {
        match self {
            GroupProblem::MemberDep { task, .. }
            | GroupProblem::OneMember { task, .. }
            | GroupProblem::BadName { task, .. } => Some(task),
            GroupProblem::NoMembers { .. } => None,
        }
    }
}

/// Whether `name` is a valid group name (a slug like a task id).
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The groups of `specs` (plan order of their members), checked:
/// dependencies inside a group, groups of one member, bad names, and
/// `declared` groups (`[groups.NAME]`) that no task names. Every problem,
/// in plan order, then the declared groups without members.
pub fn check<'a>(
    specs: &[TaskSpec],
    declared: impl IntoIterator<Item = &'a str>,
) -> Vec<GroupProblem> {
    let mut problems = Vec::new();
    let mut members: BTreeMap<&str, Vec<&TaskId>> = BTreeMap::new();
    for spec in specs {
        if let Some(group) = spec.group.as_deref() {
            if !valid_name(group) {
                problems.push(GroupProblem::BadName {
                    group: group.to_owned(),
                    task: spec.id.clone(),
                });
            }
            members.entry(group).or_default().push(&spec.id);
        }
    }
    for spec in specs {
        let Some(group) = spec.group.as_deref() else {
            continue;
        };
        for dep in &spec.deps {
            if members.get(group).is_some_and(|m| m.contains(&dep)) {
                problems.push(GroupProblem::MemberDep {
                    group: group.to_owned(),
                    task: spec.id.clone(),
                    dep: dep.clone(),
                });
            }
        }
        if let Some([only]) = members.get(group).map(Vec::as_slice)
            && *only == &spec.id
        {
            problems.push(GroupProblem::OneMember {
                group: group.to_owned(),
                task: spec.id.clone(),
            });
        }
    }
    let declared: BTreeSet<&str> = declared.into_iter().collect();
    for group in declared {
        if !members.contains_key(group) {
            problems.push(GroupProblem::NoMembers {
                group: group.to_owned(),
            });
        }
    }
    problems
}

/// The role a member without one has: it implements.
const IMPLEMENTER: &str = "implementer";
/// Roles whose members write tests.
const TESTER: &str = "tester";

/// Whether a member with `role` implements (no role counts as implementing).
fn implements(role: Option<&str>) -> bool {
    role.is_none_or(|r| r == IMPLEMENTER)
}

/// Whose work a failing group gate is about: the members (from
/// `changed`: each member and the files it changed, in plan order) whose
/// changed files `output` names (by path, or by file name). When only
/// testers are named and the group has implementers, the implementers (the
/// tester's test exposed a bug in their code). When nobody is named: the
/// implementers, or every member when there are none. `roles` gives each
/// member's role (`None`: none). In plan order, never empty when `changed`
/// is not.
pub fn blame(
    output: &str,
    changed: &[(TaskId, Vec<String>)],
    roles: &[(TaskId, Option<String>)],
) -> Vec<TaskId> {
    let role = |t: &TaskId| {
        roles
            .iter()
            .find(|(id, _)| id == t)
            .and_then(|(_, r)| r.as_deref())
    };
    let named: Vec<&TaskId> = changed
        .iter()
        .filter(|(_, files)| files.iter().any(|f| names_file(output, f)))
        .map(|(t, _)| t)
        .collect();
    let implementers: Vec<&TaskId> = changed
        .iter()
        .map(|(t, _)| t)
        .filter(|t| implements(role(t)))
        .collect();
    let only_testers = !named.is_empty() && named.iter().all(|t| role(t) == Some(TESTER));
    let chosen = if (named.is_empty() || only_testers) && !implementers.is_empty() {
        implementers
    } else if named.is_empty() {
        changed.iter().map(|(t, _)| t).collect()
    } else {
        named
    };
    chosen.into_iter().cloned().collect()
}

/// Whether `output` names `file`: its path, or its file name, where it
/// stands as a word of its own (not inside a longer name).
fn names_file(output: &str, file: &str) -> bool {
    let name = file.rsplit('/').next().unwrap_or(file);
    !file.is_empty() && (names_word(output, file) || names_word(output, name))
}

/// Whether `word` occurs in `text` not inside a longer name.
fn names_word(text: &str, word: &str) -> bool {
    let inside = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
    !word.is_empty()
        && text.match_indices(word).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(inside) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
}

/// The feedback text for members sent back after the group's gate
/// failed: the command's output, then the other members' files it names
/// and where to read them (the integration worktree `worktree`).
pub fn verify_feedback(
    output: &str,
    member: &TaskId,
    changed: &[(TaskId, Vec<String>)],
    worktree: &str,
) -> String {
    let output = output.trim_end();
    let others: Vec<String> = changed
        .iter()
        .filter(|(t, _)| t != member)
        .flat_map(|(t, files)| {
            files
                .iter()
                .filter(|f| names_file(output, f))
                .map(move |f| format!("{f} (from `{t}`)"))
        })
        .collect();
    if others.is_empty() {
        return output.to_owned();
    }
    format!(
        "The failure names other members' files: {}. They are not in your worktree; read them in the group's integration worktree `{worktree}` and make your work pass them.\n\n{output}",
        others.join(", ")
    )
}

/// The feedback text for the member whose work conflicted on the
/// integration branch: the files, and which members changed them first.
pub fn conflict_feedback(files: &[String], others: &[TaskId]) -> String {
    let mut text = format!(
        "Merging your work onto the other members' work conflicts in: {}.",
        files.join(", ")
    );
    if !others.is_empty() {
        let names: Vec<String> = others.iter().map(|t| format!("`{t}`")).collect();
        text.push_str(&format!(
            " {} changed these files too (their versions are in `.fleet/worktrees/<task>/`); change them so your work fits theirs, or leave them to the member they belong to.",
            names.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> TaskId {
        TaskId::parse(s).expect("id")
    }

    fn spec(i: &str, group: Option<&str>, deps: &[&str]) -> TaskSpec {
        let mut s = TaskSpec::new(id(i), i, "p", "sim");
        s.group = group.map(str::to_owned);
        s.deps = deps.iter().map(|d| id(d)).collect();
        s
    }

    fn members() -> Vec<(TaskId, Vec<String>)> {
        vec![
            (id("impl"), vec!["src/calc.sh".into()]),
            (id("tests"), vec!["tests/calc_test.sh".into()]),
            (id("docs"), vec!["README.md".into()]),
        ]
    }

    fn roles() -> Vec<(TaskId, Option<String>)> {
        vec![
            (id("impl"), Some("implementer".into())),
            (id("tests"), Some("tester".into())),
            (id("docs"), Some("documenter".into())),
        ]
    }

    #[test]
    fn a_failing_test_of_the_tester_goes_to_the_implementer() {
        let out = "FAIL tests/calc_test.sh: add 2 2: expected 4, got 5";
        assert_eq!(blame(out, &members(), &roles()), vec![id("impl")]);
    }

    #[test]
    fn the_members_whose_files_the_output_names_are_blamed() {
        let out = "calc.sh: line 3: syntax error\nREADME.md:1: broken link";
        assert_eq!(
            blame(out, &members(), &roles()),
            vec![id("impl"), id("docs")]
        );
    }

    #[test]
    fn nobody_named_blames_the_implementers_or_everyone() {
        assert_eq!(blame("boom", &members(), &roles()), vec![id("impl")]);
        let no_impl: Vec<_> = roles()
            .into_iter()
            .map(|(t, r)| {
                (
                    t,
                    r.filter(|r| r != "implementer").or(Some("tester".into())),
                )
            })
            .collect();
        assert_eq!(
            blame("boom", &members(), &no_impl),
            vec![id("impl"), id("tests"), id("docs")]
        );
        // Only testers named and no implementer: the testers.
        assert_eq!(
            blame("tests/calc_test.sh failed", &members(), &no_impl),
            vec![id("tests")]
        );
    }

    #[test]
    fn a_member_without_a_role_implements() {
        let roles = vec![
            (id("impl"), None),
            (id("tests"), Some("tester".into())),
            (id("docs"), Some("documenter".into())),
        ];
        assert_eq!(
            blame("tests/calc_test.sh", &members(), &roles),
            vec![id("impl")]
        );
    }

    #[test]
    fn a_file_name_inside_a_longer_name_is_not_named() {
        assert!(names_file("see src/calc.sh", "src/calc.sh"));
        assert!(names_file("calc.sh: line 2", "src/calc.sh"));
        assert!(!names_file("mycalc.sh: line 2", "src/calc.sh"));
        assert!(!names_file("calc.shx", "src/calc.sh"));
        assert!(!names_file("sh test_calc.sh", "calc.sh"));
        assert!(names_file("sh calc.sh", "calc.sh"));
        assert!(!names_file("anything", ""));
    }

    #[test]
    fn verify_feedback_names_the_other_members_files_and_where_they_are() {
        let text = verify_feedback(
            "FAIL tests/calc_test.sh\n",
            &id("impl"),
            &members(),
            ".fleet/worktrees/_group-calc",
        );
        assert!(text.ends_with("\n\nFAIL tests/calc_test.sh"), "{text}");
        assert!(text.contains("tests/calc_test.sh (from `tests`)"), "{text}");
        assert!(text.contains(".fleet/worktrees/_group-calc"), "{text}");
        let plain = verify_feedback("boom", &id("impl"), &members(), "w");
        assert_eq!(plain, "boom");
    }

    #[test]
    fn groups_are_checked_with_the_tasks_named() {
        let specs = vec![
            spec("a", Some("g"), &[]),
            spec("b", Some("g"), &["a"]),
            spec("c", Some("solo"), &[]),
            spec("d", None, &["a"]),
            spec("e", Some("Bad_Name"), &[]),
            spec("f", Some("Bad_Name"), &[]),
        ];
        let problems = check(&specs, ["g", "empty"]);
        assert_eq!(
            problems,
            vec![
                GroupProblem::BadName {
                    group: "Bad_Name".into(),
                    task: id("e")
                },
                GroupProblem::BadName {
                    group: "Bad_Name".into(),
                    task: id("f")
                },
                GroupProblem::MemberDep {
                    group: "g".into(),
                    task: id("b"),
                    dep: id("a")
                },
                GroupProblem::OneMember {
                    group: "solo".into(),
                    task: id("c")
                },
                GroupProblem::NoMembers {
                    group: "empty".into()
                },
            ]
        );
        assert!(problems[2].to_string().contains("both are in group `g`"));
        assert_eq!(problems[4].task(), None);
        assert!(check(&specs[..2], []).len() == 1);
    }
}
