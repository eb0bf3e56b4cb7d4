//! Fan-out: one task run once per profile, each candidate its own task
//! (own worktree, branch, attempts and gate), compared in review, one picked.
//!
//! Pure: the candidates' ids and specs ([`candidate_id`], [`candidate_spec`]),
//! when a candidate has settled ([`settled`]), the checks of a `fanout`
//! list ([`check_profiles`]) and the rows the compare view and
//! `fleetdeck status` show ([`compare`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::core::fleet::Task;
use crate::core::outcome::AttemptOutcome;
use crate::core::status::Status;
use crate::core::task::{TaskId, TaskSpec};

/// Longest task id (it names a directory and a branch).
const MAX_ID_LEN: usize = 64;

/// A profile name as an id part: lowercase letters, digits and single
/// dashes (`Claude Opus` → `claude-opus`); `agent` when nothing is left.
pub fn profile_slug(profile: &str) -> String {
    let mut slug = String::new();
    for c in profile.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "agent".to_owned()
    } else {
        slug.to_owned()
    }
}

/// The id of `parent`'s candidate for `profile`: `<parent>--<slug>`, the
/// parent's part cut so that it fits 64 characters, with `-2`, `-3`...
/// when `taken` says the id exists.
pub fn candidate_id(parent: &TaskId, profile: &str, taken: &dyn Fn(&str) -> bool) -> TaskId {
    let slug: String = profile_slug(profile).chars().take(MAX_ID_LEN / 2).collect();
    let make = |n: u32| {
        let number = if n > 1 {
            format!("-{n}")
        } else {
            String::new()
        };
        let suffix = format!("--{}{number}", slug.trim_end_matches('-'));
        let room = MAX_ID_LEN.saturating_sub(suffix.len());
        let head: String = parent.as_str().chars().take(room).collect();
        format!("{head}{suffix}")
    };
    let mut n = 1u32;
    let mut id = make(n);
    while taken(&id) {
        n += 1;
        id = make(n);
    }
    // Every part is a valid id character and the parent starts the id, so
    // this parses; the parent itself is the fallback that cannot fail.
    TaskId::parse(&id).unwrap_or_else(|_| parent.clone())
}

/// The spec of a candidate: the parent's, run by `profile`, its title
/// naming the profile, never fanned out again nor approved by itself.
pub fn candidate_spec(parent: &TaskSpec, id: TaskId, profile: &str) -> TaskSpec {
    let mut spec = parent.clone();
    spec.title = format!("{} ({profile})", parent.title);
    spec.id = id;
    spec.agent = profile.to_owned();
    spec.fanout = Vec::new();
    spec.candidate_of = Some(parent.id.clone());
    spec.auto_approve = false;
    spec
}

/// `tasks` with every fan-out candidate moved right after its parent (in
/// their own order), where the scheduler added them: the store keeps tasks
/// in the order they were first saved, candidates last. A candidate whose
/// parent is missing stays where it is.
pub fn plan_order(tasks: Vec<Task>) -> Vec<Task> {
    let parents: std::collections::HashSet<TaskId> = tasks
        .iter()
        .filter(|t| t.spec.candidate_of.is_none())
        .map(|t| t.id().clone())
        .collect();
    let (candidates, rest): (Vec<Task>, Vec<Task>) = tasks.into_iter().partition(|t| {
        t.spec
            .candidate_of
            .as_ref()
            .is_some_and(|p| parents.contains(p))
    });
    let mut candidates: Vec<Option<Task>> = candidates.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(rest.len() + candidates.len());
    for task in rest {
        let id = task.id().clone();
        ordered.push(task);
        for slot in candidates.iter_mut() {
            if slot
                .as_ref()
                .is_some_and(|c| c.spec.candidate_of.as_ref() == Some(&id))
            {
                ordered.extend(slot.take());
            }
        }
    }
    ordered
}

/// True when a candidate needs nothing more before the user compares:
/// in review, failed, merging (picked), done or dropped.
pub fn settled(status: &Status) -> bool {
    matches!(
        status,
        Status::Review { .. }
            | Status::Failed { .. }
            | Status::Merging { .. }
            | Status::Done { .. }
            | Status::Dropped
    )
}

/// Why a `fanout` list cannot be used: fewer than two profiles, one named
/// twice, or one that is not defined (`known`).
pub fn check_profiles(profiles: &[String], known: &dyn Fn(&str) -> bool) -> Result<(), String> {
    if profiles.len() < 2 {
        return Err(format!(
            "fanout needs at least two agent profiles, it names {}",
            profiles.len()
        ));
    }
    for (i, p) in profiles.iter().enumerate() {
        if profiles[..i].contains(p) {
            return Err(format!("fanout names agent `{p}` twice"));
        }
        if !known(p) {
            return Err(format!(
                "fanout names agent `{p}`, which is not defined (add [agents.{p}])"
            ));
        }
    }
    Ok(())
}

/// One attempt of a candidate, as the store records it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateAttempt {
    pub task: TaskId,
    pub n: u32,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub outcome: Option<AttemptOutcome>,
}

/// The size of a candidate's changes against its base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffStat {
    pub files: usize,
    pub added: usize,
    pub removed: usize,
}

impl DiffStat {
    /// The stat of changed files given as (old text, new text); `None` for
    /// a side where the file does not exist or is binary (a binary file
    /// counts as changed, with no lines).
    pub fn of_texts<'a>(
        files: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    ) -> Self {
        let mut stat = DiffStat::default();
        for (old, new) in files {
            stat.files += 1;
            let diff = similar::TextDiff::from_lines(old.unwrap_or(""), new.unwrap_or(""));
            for change in diff.iter_all_changes() {
                match change.tag() {
                    similar::ChangeTag::Insert => stat.added += 1,
                    similar::ChangeTag::Delete => stat.removed += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        stat
    }

    /// "2 files +10 -1".
    pub fn describe(&self) -> String {
        let files = if self.files == 1 { "file" } else { "files" };
        format!("{} {files} +{} -{}", self.files, self.added, self.removed)
    }
}

impl CandidateRow {
    /// The row in a few words for listings: "review, gate passed, 3 s, $0.0100, 1 file +1 -0".
    pub fn describe(&self) -> String {
        let gate = if self.gate_passed {
            "gate passed"
        } else {
            "gate not passed"
        };
        let mut text = format!(
            "{}, {gate}, {} s, ${:.4}",
            self.outcome,
            (self.duration_ms + 999) / 1000,
            self.cost_usd
        );
        if let Some(d) = self.diff {
            text.push_str(&format!(", {}", d.describe()));
        }
        if let Some(rank) = self.rank {
            text.push_str(&format!(", ranked {rank}"));
        }
        text
    }
}

/// One candidate as the compare view and `status` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRow {
    pub task: TaskId,
    pub agent: String,
    /// The status name of the candidate (`review`, `failed`, `dropped`...).
    pub status: String,
    /// Its last attempt's outcome word, else its status name.
    pub outcome: String,
    /// Whether its work passed its verify gate.
    pub gate_passed: bool,
    /// Spent by all of its attempts (US dollars, tokens).
    pub cost_usd: f64,
    pub tokens: u64,
    /// Time its attempts ran, summed (ms; a running attempt up to `now_ms`).
    pub duration_ms: i64,
    pub attempts: u32,
    /// Its changes, when the runtime computed them.
    pub diff: Option<DiffStat>,
    /// The reviewer agent's rank of it, when it ranked the candidates.
    pub rank: Option<u32>,
}

/// The rows of `parent`'s candidates (those of `candidates` whose
/// `candidate_of` is `parent`), in the order given.
pub fn compare(
    parent: &TaskId,
    candidates: &[&Task],
    attempts: &[CandidateAttempt],
    diffs: &BTreeMap<TaskId, DiffStat>,
    now_ms: i64,
) -> Vec<CandidateRow> {
    candidates
        .iter()
        .filter(|t| t.spec.candidate_of.as_ref() == Some(parent))
        .map(|t| {
            let own: Vec<&CandidateAttempt> =
                attempts.iter().filter(|a| &a.task == t.id()).collect();
            let last = own.iter().max_by_key(|a| a.n);
            let outcome = last
                .and_then(|a| a.outcome.as_ref())
                .map_or_else(|| t.status.name().to_owned(), AttemptOutcome::word);
            let duration_ms = own
                .iter()
                .map(|a| (a.ended_ms.unwrap_or(now_ms) - a.started_ms).max(0))
                .sum();
            let spent = t.spent + t.live;
            CandidateRow {
                task: t.id().clone(),
                agent: t.spec.agent.clone(),
                status: t.status.name().to_owned(),
                outcome,
                gate_passed: t.verified.is_some(),
                cost_usd: spent.usd,
                tokens: spent.tokens,
                duration_ms,
                attempts: t.attempts,
                diff: diffs.get(t.id()).copied(),
                rank: t.review.as_ref().and_then(|r| r.rank),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::fleet::Verified;
    use crate::core::messages::Spend;

    fn id(s: &str) -> TaskId {
        TaskId::parse(s).expect("an id")
    }

    #[test]
    fn candidate_ids_are_slugged_cut_and_numbered() {
        let none = |_: &str| false;
        assert_eq!(
            candidate_id(&id("t"), "claude", &none).as_str(),
            "t--claude"
        );
        assert_eq!(
            candidate_id(&id("t"), "Claude Opus_4", &none).as_str(),
            "t--claude-opus-4"
        );
        assert_eq!(candidate_id(&id("t"), "..", &none).as_str(), "t--agent");
        let long = id(&"a".repeat(60));
        let c = candidate_id(&long, "codex", &none);
        assert_eq!(c.as_str(), format!("{}--codex", "a".repeat(57)));
        let taken = |s: &str| s == "t--sim" || s == "t--sim-2";
        assert_eq!(candidate_id(&id("t"), "sim", &taken).as_str(), "t--sim-3");
        let long_taken = |s: &str| s.ends_with("--codex");
        let c = candidate_id(&id(&"b".repeat(62)), "codex", &long_taken);
        assert_eq!(c.as_str(), format!("{}--codex-2", "b".repeat(55)));
    }

    #[test]
    fn a_candidate_spec_runs_its_profile_and_is_never_fanned_out_again() {
        let mut parent = TaskSpec::new(id("t"), "T", "do it", "claude");
        parent.fanout = vec!["claude".into(), "codex".into()];
        parent.deps = vec![id("base")];
        parent.auto_approve = true;
        let c = candidate_spec(&parent, id("t--codex"), "codex");
        assert_eq!(c.agent, "codex");
        assert_eq!(c.title, "T (codex)");
        assert_eq!(c.prompt, "do it");
        assert_eq!(c.deps, vec![id("base")]);
        assert!(c.fanout.is_empty() && !c.auto_approve);
        assert_eq!(c.candidate_of, Some(id("t")));
    }

    #[test]
    fn profile_lists_need_two_distinct_known_profiles() {
        let known = |p: &str| p != "nope";
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(check_profiles(&v(&["a", "b"]), &known).is_ok());
        let e = check_profiles(&v(&["a"]), &known).expect_err("one");
        assert!(e.contains("at least two"), "{e}");
        let e = check_profiles(&v(&["a", "a"]), &known).expect_err("twice");
        assert!(e.contains("`a` twice"), "{e}");
        let e = check_profiles(&v(&["a", "nope"]), &known).expect_err("unknown");
        assert!(e.contains("`nope`, which is not defined"), "{e}");
    }

    #[test]
    fn compare_rows_sum_the_candidates_own_attempts() {
        let parent = TaskSpec::new(id("t"), "T", "p", "a");
        let mut a = Task::new(candidate_spec(&parent, id("t--a"), "a"));
        a.status = Status::Review {
            attempt: 2,
            block: None,
        };
        a.attempts = 2;
        a.spent = Spend {
            usd: 0.5,
            tokens: 100,
        };
        a.verified = Some(Verified {
            attempt: 2,
            commit: "c".into(),
        });
        let mut b = Task::new(candidate_spec(&parent, id("t--b"), "b"));
        b.status = Status::Failed {
            reason: "gate".into(),
        };
        let other = Task::new(TaskSpec::new(id("x"), "X", "p", "a"));
        let at = |t: &str, n, s, e| CandidateAttempt {
            task: id(t),
            n,
            started_ms: s,
            ended_ms: e,
            outcome: None,
        };
        let attempts = [
            at("t--a", 1, 0, Some(1000)),
            at("t--a", 2, 2000, Some(2500)),
            at("t--b", 1, 0, None),
        ];
        let mut diffs = BTreeMap::new();
        let stat = DiffStat {
            files: 2,
            added: 10,
            removed: 1,
        };
        diffs.insert(id("t--a"), stat);
        let rows = compare(&id("t"), &[&a, &b, &other], &attempts, &diffs, 700);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].duration_ms, 1500);
        assert!(rows[0].gate_passed && !rows[1].gate_passed);
        assert_eq!((rows[0].cost_usd, rows[0].tokens), (0.5, 100));
        assert_eq!(rows[0].diff, Some(stat));
        assert_eq!(rows[1].outcome, "failed");
        assert_eq!(rows[1].duration_ms, 700);
    }

    #[test]
    fn diff_stats_count_lines_per_file() {
        let stat = DiffStat::of_texts([
            (Some("a\nb\n"), Some("a\nc\nd\n")),
            (None, Some("new\n")),
            (Some("gone\n"), None),
        ]);
        assert_eq!(
            stat,
            DiffStat {
                files: 3,
                added: 3,
                removed: 2
            }
        );
        assert_eq!(stat.describe(), "3 files +3 -2");
    }

    #[test]
    fn settled_candidates_need_nothing_more() {
        assert!(settled(&Status::Failed { reason: "x".into() }));
        assert!(settled(&Status::Dropped));
        assert!(!settled(&Status::Running { attempt: 1 }));
        assert!(!settled(&Status::Verifying { attempt: 1 }));
        assert!(!settled(&Status::Queued { held: false }));
    }
}
