//! Commit messages, signatures and the `Fleet-*` trailers.
//!
//! Every commit fleetdeck makes ends with exactly three trailer lines after a
//! blank line: `Fleet-Task: <id>`, `Fleet-Agent: <profile>`,
//! `Fleet-Attempt: <n>`. The author is `<profile> (fleetdeck)
//! <fleetdeck@localhost>`; the committer is the repository's configured
//! identity, or `fleetdeck <fleetdeck@localhost>` when none is configured.

use git2::{Repository, Signature};

use super::Attribution;
use super::error::{Context, GitError};

/// Email of every signature fleetdeck invents.
const EMAIL: &str = "fleetdeck@localhost";

/// The `Fleet-*` trailers read back from a commit message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetTrailers {
    /// Value of `Fleet-Task`.
    pub task: String,
    /// Value of `Fleet-Agent`.
    pub agent: String,
    /// Value of `Fleet-Attempt`.
    pub attempt: u32,
}

/// Reads the `Fleet-*` trailers of a commit message; `None` when any of the
/// three is missing or the attempt is not a number (e.g. a user's commit).
pub fn parse_trailers(message: &str) -> Option<FleetTrailers> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    let (mut task, mut agent, mut attempt) = (None, None, None);
    for (key, value) in trailers.iter() {
        match key {
            "Fleet-Task" => task = Some(value.to_owned()),
            "Fleet-Agent" => agent = Some(value.to_owned()),
            "Fleet-Attempt" => attempt = value.parse().ok(),
            _ => {}
        }
    }
    Some(FleetTrailers {
        task: task?,
        agent: agent?,
        attempt: attempt?,
    })
}

/// Every set of `Fleet-*` trailers in a message, in order: a group's
/// landing commit carries one `Fleet-Task`/`Fleet-Agent`/`Fleet-Attempt`
/// set per member; any other fleetdeck commit one. A set missing a key
/// (or with an attempt that is not a number) is left out.
pub fn parse_trailer_sets(message: &str) -> Vec<FleetTrailers> {
    let Ok(trailers) = git2::message_trailers_strs(message) else {
        return Vec::new();
    };
    let mut sets: Vec<(String, Option<String>, Option<u32>)> = Vec::new();
    for (key, value) in trailers.iter() {
        match (key, sets.last_mut()) {
            ("Fleet-Task", _) => sets.push((value.to_owned(), None, None)),
            ("Fleet-Agent", Some(set)) => set.1 = Some(value.to_owned()),
            ("Fleet-Attempt", Some(set)) => set.2 = value.parse().ok(),
            _ => {}
        }
    }
    sets.into_iter()
        .filter_map(|(task, agent, attempt)| {
            Some(FleetTrailers {
                task,
                agent: agent?,
                attempt: attempt?,
            })
        })
        .collect()
}

/// Flattens `text` to one line without angle brackets, so it is safe in a
/// subject, a trailer value and a signature name; `fallback` when empty.
fn one_line(text: &str, fallback: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| *c != '<' && *c != '>')
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        fallback.to_owned()
    } else {
        flat
    }
}

/// The three trailer lines for `attr`, without a trailing newline.
fn trailers(attr: &Attribution) -> String {
    format!(
        "Fleet-Task: {}\nFleet-Agent: {}\nFleet-Attempt: {}",
        attr.task,
        one_line(attr.agent, "agent"),
        attr.attempt
    )
}

/// Message of the commit that records an attempt's result.
pub(crate) fn attempt_message(attr: &Attribution) -> String {
    format!(
        "fleet({}): {}\n\nAttempt {} by {}.\n\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        attr.attempt,
        one_line(attr.agent, "agent"),
        trailers(attr)
    )
}

/// Message of the merge commit that lands a task on the target branch.
pub(crate) fn merge_message(attr: &Attribution) -> String {
    format!(
        "Merge fleet/{}: {}\n\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        trailers(attr)
    )
}

/// Message of the one commit that lands a task on the target branch in the
/// `squash` style: the merge's subject, with the trailers.
pub(crate) fn squash_message(attr: &Attribution) -> String {
    format!(
        "fleet({}): {}\n\nSquashed fleet/{}: attempt {} by {}.\n\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        attr.task,
        attr.attempt,
        one_line(attr.agent, "agent"),
        trailers(attr)
    )
}

/// Message of a member's commit on its group's integration branch: the
/// attempt's message with `Fleet-Group` before the member's trailers.
pub(crate) fn group_member_message(attr: &Attribution, group: &str) -> String {
    format!(
        "fleet({}): {}\n\nAttempt {} by {}, member of group {group}.\n\nFleet-Group: {group}\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        attr.attempt,
        one_line(attr.agent, "agent"),
        trailers(attr)
    )
}

/// Message of the merge commit that lands group `group` on the target:
/// names the group and its members, and carries every member's trailers
/// (so each member counts as merged) after `Fleet-Group`.
pub(crate) fn group_merge_message(group: &str, title: &str, members: &[Attribution]) -> String {
    let names: Vec<String> = members
        .iter()
        .map(|m| {
            format!(
                "{} (attempt {} by {})",
                m.task,
                m.attempt,
                one_line(m.agent, "agent")
            )
        })
        .collect();
    let sets: Vec<String> = members.iter().map(trailers).collect();
    format!(
        "Merge fleet/group/{group}: {}\n\nGroup {group}, {} members: {}.\n\nFleet-Group: {group}\n{}\n",
        one_line(title, group),
        members.len(),
        names.join(", "),
        sets.join("\n")
    )
}

/// Message of the commit that saves a dropped task's work (its branch and
/// its worktree's uncommitted changes) before its worktree is removed; `why`
/// is "split" or "dropped". `Fleet-Base` names the commit the work started
/// from (read back by [`parse_base`]).
pub(crate) fn dropped_message(attr: &Attribution, base: git2::Oid, why: &str) -> String {
    format!(
        "fleet({}): {} ({why})\n\nWork of `{}` up to attempt {} (its branch and its worktree's uncommitted\nchanges), saved before its worktree was removed.\n\nFleet-Base: {base}\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        attr.task,
        attr.attempt,
        trailers(attr)
    )
}

/// The `Fleet-Base` trailer of a message written by [`dropped_message`].
pub(crate) fn parse_base(message: &str) -> Option<git2::Oid> {
    let trailers = git2::message_trailers_strs(message).ok()?;
    let base = trailers
        .iter()
        .find_map(|(key, value)| (key == "Fleet-Base").then(|| value.to_owned()))?;
    git2::Oid::from_str(&base).ok()
}

/// Message of the commit that saves an attempt's work before a reset:
/// `why` is "interrupted" or "rejected".
pub(crate) fn saved_message(attr: &Attribution, reset_to: git2::Oid, why: &str) -> String {
    format!(
        "fleet({}): {} ({why})\n\nWork of attempt {} by {}, saved before resetting to {}.\n\n{}\n",
        attr.task,
        one_line(attr.title, "untitled"),
        attr.attempt,
        one_line(attr.agent, "agent"),
        reset_to,
        trailers(attr)
    )
}

/// The author of every commit made for an agent: `<profile> (fleetdeck)`.
pub(crate) fn author(attr: &Attribution) -> Result<Signature<'static>, GitError> {
    let name = format!("{} (fleetdeck)", one_line(attr.agent, "agent"));
    Signature::now(&name, EMAIL).ctx(|| format!("make author signature `{name}`"))
}

/// The committer: the repository's configured identity, or
/// `fleetdeck <fleetdeck@localhost>` when `user.name`/`user.email` are not set.
pub(crate) fn committer(repo: &Repository) -> Result<Signature<'static>, GitError> {
    match repo.signature() {
        Ok(sig) => Ok(sig),
        Err(_) => Signature::now("fleetdeck", EMAIL).ctx(|| "make fallback committer signature"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr() -> Attribution<'static> {
        Attribution {
            task: "add-login",
            agent: "claude",
            attempt: 2,
            title: "Add a login\npage <now>",
        }
    }

    #[test]
    fn attempt_message_ends_with_parseable_trailers() {
        let msg = attempt_message(&attr());
        assert!(
            msg.starts_with("fleet(add-login): Add a login page now\n\nAttempt 2 by claude.\n\n")
        );
        assert!(
            msg.ends_with("\n\nFleet-Task: add-login\nFleet-Agent: claude\nFleet-Attempt: 2\n")
        );
        let t = parse_trailers(&msg).expect("trailers");
        assert_eq!(t.task, "add-login");
        assert_eq!(t.agent, "claude");
        assert_eq!(t.attempt, 2);
    }

    #[test]
    fn merge_message_shape() {
        let msg = merge_message(&attr());
        assert_eq!(
            msg,
            "Merge fleet/add-login: Add a login page now\n\n\
             Fleet-Task: add-login\nFleet-Agent: claude\nFleet-Attempt: 2\n"
        );
    }

    #[test]
    fn a_group_merge_carries_every_members_trailers() {
        let a = attr();
        let b = Attribution {
            task: "login-tests",
            agent: "codex",
            attempt: 1,
            title: "Tests",
        };
        let msg = group_merge_message("login", "The login", &[a, b]);
        assert!(
            msg.starts_with("Merge fleet/group/login: The login\n"),
            "{msg}"
        );
        let sets = parse_trailer_sets(&msg);
        assert_eq!(sets.len(), 2, "{msg}");
        assert_eq!((sets[0].task.as_str(), sets[0].attempt), ("add-login", 2));
        assert_eq!(
            (sets[1].task.as_str(), sets[1].agent.as_str()),
            ("login-tests", "codex")
        );
        let member = group_member_message(&attr(), "login");
        assert_eq!(
            parse_trailers(&member).map(|t| t.task),
            Some("add-login".into())
        );
        assert_eq!(parse_trailer_sets(&member).len(), 1);
        assert!(member.contains("\nFleet-Group: login\n"), "{member}");
    }

    #[test]
    fn user_messages_have_no_trailers() {
        assert_eq!(parse_trailers("fix a bug\n\nSigned-off-by: me\n"), None);
        assert_eq!(parse_trailers("plain"), None);
    }
}
