//! The fallback where cgroups cannot be used: the engine is a child
//! subreaper, so orphaned descendants of its agents are reparented to it
//! instead of init, and an attempt's end sweeps its process tree from
//! `/proc`.
//!
//! What the sweep kills, for one contained command:
//! - its process group, and every descendant of its process (ppid chains,
//!   read before anything is killed);
//! - every process whose environment carries its `FLEET_CONTAIN` id;
//! - the engine's reparented children that are its own: by `FLEET_CONTAIN`
//!   when their environment says so; when it says nothing of fleetdeck (an
//!   agent's descendant that cleared its environment), by start time: it
//!   started while this command ran and no other contained command of this
//!   engine was running yet when it started (otherwise it is left to the
//!   last of those to end).
//!
//! What it cannot catch: a descendant that escapes to another subreaper
//! below the agent (its own init, a container runtime) or outside the tree
//! (started through a daemon: systemd-run, at, D-Bus activation, ssh to
//! localhost); and once the engine itself is dead, an orphan that cleared its
//! environment is reparented to init and no one can tell it from any other
//! process (the watchdog kills only the process groups and the environment it
//! knows). Linux only (reads /proc); elsewhere the sweep is the group kill.

use std::collections::HashSet;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    /// Clock ticks after boot at which it started.
    pub start: u64,
    pub zombie: bool,
}

/// Parses the text of `/proc/<pid>/stat`.
pub fn parse_stat(stat: &str) -> Option<Proc> {
    let pid = stat.split_whitespace().next()?.parse().ok()?;
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some(Proc {
        pid,
        zombie: matches!(*fields.first()?, "Z" | "X"),
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

/// One process, if it still exists.
pub fn process(pid: i32) -> Option<Proc> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Every process on the machine (empty where there is no /proc).
pub fn all() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(process)
        .collect()
}

/// What a process's environment says about fleetdeck.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Started by the contained command with this `FLEET_CONTAIN` id.
    Contained(String),
    /// Carries a `FLEET_DIR` but no `FLEET_CONTAIN`: not a contained command's.
    Fleet,
    /// Nothing of fleetdeck (cleared environment), or unreadable.
    Unknown,
}

/// The origin of `pid` from its environment.
pub fn origin(pid: i32) -> Origin {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    origin_of(&environ)
}

/// The origin a `/proc/<pid>/environ` text tells.
pub fn origin_of(environ: &[u8]) -> Origin {
    let contain = format!("{}=", super::CONTAIN_VAR);
    let fleet = format!("{}=", crate::runtime::process::FLEET_DIR_VAR);
    let mut seen_fleet = false;
    for var in environ.split(|b| *b == 0) {
        if let Some(id) = var.strip_prefix(contain.as_bytes()) {
            return Origin::Contained(String::from_utf8_lossy(id).into_owned());
        }
        seen_fleet |= var.starts_with(fleet.as_bytes());
    }
    if seen_fleet {
        Origin::Fleet
    } else {
        Origin::Unknown
    }
}

/// The pids of `roots` and of all their descendants in `procs`.
pub fn descendants(procs: &[Proc], roots: &[i32]) -> HashSet<i32> {
    let mut found: HashSet<i32> = roots.iter().copied().collect();
    let mut grew = true;
    while grew {
        grew = false;
        for p in procs {
            if !found.contains(&p.pid) && found.contains(&p.ppid) {
                found.insert(p.pid);
                grew = true;
            }
        }
    }
    found
}

/// The contained command a sweep is for.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Its `FLEET_CONTAIN` id.
    pub id: &'a str,
    /// Its process (also its process group).
    pub pid: i32,
    pub start: u64,
    /// Start times of the engine's other contained commands still running.
    pub others_started: &'a [u64],
    /// Children of the engine that are no one's orphans (the watchdog, other commands).
    pub known: &'a [i32],
}

/// The processes of `target` in `procs`, as the module documentation says;
/// `me` and `my_pgid` are the engine's pid and process group.
pub fn belonging(procs: &[Proc], target: &Target, me: i32, my_pgid: i32) -> HashSet<i32> {
    let mut roots = vec![target.pid];
    for p in procs {
        if p.pid == me || p.zombie || target.known.contains(&p.pid) {
            continue;
        }
        let ours = match origin(p.pid) {
            Origin::Contained(id) => id == target.id,
            Origin::Fleet => false,
            Origin::Unknown => {
                p.ppid == me
                    && p.pgid != my_pgid
                    && p.start >= target.start
                    && target.others_started.iter().all(|s| p.start < *s)
            }
        };
        if ours || (p.pgid == target.pid && target.pid > 1) {
            roots.push(p.pid);
        }
    }
    descendants(procs, &roots)
}

/// Kills the processes of `target` (a few rounds, for processes forked
/// meanwhile) and reaps the ones that were the engine's children other than
/// `target.pid` (which its owner waits for); the number killed.
pub fn sweep(target: &Target) -> usize {
    let me = std::process::id() as i32;
    let my_pgid = nix::unistd::getpgrp().as_raw();
    let mut killed = HashSet::new();
    for _round in 0..3 {
        let procs = all();
        let doomed: Vec<i32> = belonging(&procs, target, me, my_pgid)
            .into_iter()
            .filter(|pid| *pid != me && *pid > 1 && !killed.contains(pid))
            .filter(|pid| procs.iter().any(|p| p.pid == *pid && !p.zombie))
            .collect();
        if doomed.is_empty() {
            break;
        }
        for pid in doomed {
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
                killed.insert(pid);
            }
        }
    }
    reap_orphans(target, &killed);
    killed.len()
}

/// Reaps the engine's children that are orphans reparented to it: the
/// ones just `killed` (waiting for them briefly) and any other zombie orphan
/// (not the target's own process, which its owner waits for, nor a known child).
fn reap_orphans(target: &Target, killed: &HashSet<i32>) {
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    let me = std::process::id() as i32;
    let my_pgid = nix::unistd::getpgrp().as_raw();
    let orphan = |p: &Proc| {
        p.ppid == me && p.pgid != my_pgid && p.pid != target.pid && !target.known.contains(&p.pid)
    };
    let mut pending: Vec<i32> = all()
        .into_iter()
        .filter(|p| orphan(p) && (p.zombie || killed.contains(&p.pid)))
        .map(|p| p.pid)
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    while !pending.is_empty() && std::time::Instant::now() < deadline {
        pending.retain(|pid| {
            matches!(
                waitpid(Pid::from_raw(*pid), Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if !pending.is_empty() {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_parsed_even_with_odd_command_names() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10";
        let p = parse_stat(stat).unwrap();
        assert_eq!((p.pid, p.ppid, p.pgid, p.start), (4242, 1, 4242, 98765));
        assert!(!p.zombie);
        assert!(
            parse_stat("12 (x) Z 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5")
                .unwrap()
                .zombie
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn an_environment_says_whose_a_process_is() {
        assert_eq!(
            origin_of(b"A=1\0FLEET_DIR=/x\0FLEET_CONTAIN=e1.2\0"),
            Origin::Contained("e1.2".into())
        );
        assert_eq!(origin_of(b"FLEET_DIR=/x\0"), Origin::Fleet);
        assert_eq!(origin_of(b""), Origin::Unknown);
        assert_eq!(origin_of(b"PATH=/bin\0"), Origin::Unknown);
    }

    #[test]
    fn descendants_follow_ppid_chains() {
        let p = |pid, ppid| Proc {
            pid,
            ppid,
            pgid: pid,
            start: 0,
            zombie: false,
        };
        let procs = [p(10, 1), p(11, 10), p(12, 11), p(20, 1), p(21, 20)];
        let found = descendants(&procs, &[10]);
        assert_eq!(found, HashSet::from([10, 11, 12]));
    }
}
