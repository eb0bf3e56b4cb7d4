//! cgroup v2 for containment: where the hierarchy is mounted, the fleet's
//! cgroup below the engine's own, one leaf per agent or verify command,
//! and killing, emptying and removing leaves.
//!
//! Layout: `<cgroup2 mount><engine's cgroup>/fleetdeck-<hash of the fleet
//! dir>/<leaf>`; the fleet cgroup holds no process itself and enables no
//! controller, so the "no internal processes" rule never applies to it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why cgroups cannot be used (the engine falls back to process sweeps).
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("no cgroup2 file system is mounted (looked in /proc/self/mounts)")]
    NotMounted,
    #[error("cannot tell this process's cgroup v2 (no `0::` line in /proc/self/cgroup)")]
    NoOwnCgroup,
    #[error("cannot create the cgroup {}: {source}; agents are contained by process sweeps instead", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How long ending a leaf waits for its processes to be gone before it gives up on removing it.
pub const EMPTY_WAIT: Duration = Duration::from_secs(5);

/// The mount point of the cgroup2 hierarchy, from the text of `/proc/self/mounts`.
pub fn mount_point(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let mut fields = line.split_whitespace();
        let (_src, dir, fstype) = (fields.next()?, fields.next()?, fields.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(unescape_mount(dir)))
    })
}

/// `/proc/self/mounts` writes spaces and the like as octal escapes (`\040`).
fn unescape_mount(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup v2 path (relative to the mount), from the text of `/proc/self/cgroup`.
pub fn own_path(cgroup: &str) -> Option<PathBuf> {
    cgroup.lines().find_map(|line| {
        let path = line.strip_prefix("0::")?;
        Some(PathBuf::from(path.trim_start_matches('/')))
    })
}

/// The name of a fleet's cgroup: `fleetdeck-` and a hash of its directory.
pub fn fleet_name(fleet_dir: &Path) -> String {
    // FNV-1a: stable across builds and Rust versions (DefaultHasher is not).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in fleet_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fleetdeck-{hash:016x}")
}

/// Where the cgroup of `fleet_dir` is (or would be) on this machine.
pub fn fleet_cgroup_path(fleet_dir: &Path) -> Result<PathBuf, CgroupError> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mount = mount_point(&mounts).ok_or(CgroupError::NotMounted)?;
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let own = own_path(&own).ok_or(CgroupError::NoOwnCgroup)?;
    Ok(mount.join(own).join(fleet_name(fleet_dir)))
}

/// Creates the fleet's cgroup (if needed) and checks that leaves can be
/// made in it; the fleet cgroup's path.
pub fn create_fleet_cgroup(fleet_dir: &Path) -> Result<PathBuf, CgroupError> {
    let path = fleet_cgroup_path(fleet_dir)?;
    let create = |path: &Path| match std::fs::create_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CgroupError::Create {
            path: path.to_owned(),
            source,
        }),
    };
    create(&path)?;
    // A cgroup directory made on a plain file system would have no cgroup.procs.
    if !path.join("cgroup.procs").exists() {
        return Err(CgroupError::Create {
            path,
            source: std::io::Error::other("it has no cgroup.procs: not a cgroup2 file system"),
        });
    }
    Ok(path)
}

/// Creates the leaf `name` in the fleet cgroup `fleet`.
pub fn create_leaf(fleet: &Path, name: &str) -> Result<PathBuf, CgroupError> {
    let path = fleet.join(name);
    std::fs::create_dir(&path).map_err(|source| CgroupError::Create {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Kills every process in the cgroup `dir`: `cgroup.kill` (Linux 5.14), or
/// on older kernels SIGKILL to each pid in `cgroup.procs` until it is empty
/// (bounded). A cgroup that is already gone is not an error.
pub fn kill(dir: &Path) {
    match std::fs::write(dir.join("cgroup.kill"), "1") {
        Ok(()) => return,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir.exists() => return,
        Err(e) => {
            tracing::debug!(cgroup = %dir.display(), "no cgroup.kill ({e}); killing each process")
        }
    }
    let deadline = Instant::now() + EMPTY_WAIT;
    while Instant::now() < deadline {
        let pids = procs(dir);
        if pids.is_empty() {
            return;
        }
        for pid in pids {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The pids in the cgroup `dir` (empty when it is gone).
pub fn procs(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// True while a process lives in `dir` or below (`populated 1` in `cgroup.events`).
pub fn populated(dir: &Path) -> bool {
    match std::fs::read_to_string(dir.join("cgroup.events")) {
        Ok(events) => events.lines().any(|l| l.trim() == "populated 1"),
        Err(_) => !procs(dir).is_empty(),
    }
}

/// Waits (at most [`EMPTY_WAIT`]) until `dir` has no process, then removes
/// it; false when it could not be removed (it stays for the next start's sweep).
pub fn remove(dir: &Path) -> bool {
    let deadline = Instant::now() + EMPTY_WAIT;
    let mut pause = Duration::from_millis(1);
    while populated(dir) && Instant::now() < deadline {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    match std::fs::remove_dir(dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => {
            tracing::warn!(cgroup = %dir.display(), "cannot remove the cgroup: {e}");
            false
        }
    }
}

/// The leaves of the fleet cgroup `fleet` whose names start with `prefix`.
pub fn leaves(fleet: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fleet) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect()
}

/// Kills and removes every leaf of `fleet` whose name starts with `prefix`
/// (all of them for an empty prefix); the number of leaves that held processes.
pub fn sweep(fleet: &Path, prefix: &str) -> usize {
    let leaves = leaves(fleet, prefix);
    let mut busy = 0;
    for leaf in &leaves {
        if populated(leaf) {
            busy += 1;
        }
        kill(leaf);
    }
    for leaf in &leaves {
        remove(leaf);
    }
    busy
}

/// False when `/proc/<pid>/cgroup` shows `pid` outside the cgroup `dir`
/// (true when it cannot be read: a zombie still shows its cgroup, so only
/// a process already reaped is unreadable).
pub fn contains(dir: &Path, pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return true;
    };
    // `dir` is <mount>/<path>: compare the path's tail.
    own_path(&text).is_some_and(|own| !own.as_os_str().is_empty() && dir.ends_with(&own))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hierarchy_and_our_place_in_it_are_read_from_proc() {
        let hybrid = "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n\
                      cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";
        assert_eq!(
            mount_point(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        assert_eq!(
            mount_point("none /a\\040b cgroup2 rw 0 0\n"),
            Some(PathBuf::from("/a b"))
        );
        assert_eq!(mount_point("tmpfs /tmp tmpfs rw 0 0\n"), None);
        assert_eq!(
            own_path("4:memory:/x\n0::/user.slice/session-1.scope\n"),
            Some(PathBuf::from("user.slice/session-1.scope"))
        );
        assert_eq!(own_path("0::/\n"), Some(PathBuf::new()));
        assert_eq!(own_path("1:cpu:/\n"), None);
    }

    #[test]
    fn a_fleet_name_is_stable_and_differs_between_fleets() {
        let a = fleet_name(Path::new("/repo/a/.fleet"));
        assert_eq!(a, fleet_name(Path::new("/repo/a/.fleet")));
        assert_ne!(a, fleet_name(Path::new("/repo/b/.fleet")));
        assert!(a.starts_with("fleetdeck-") && a.len() == "fleetdeck-".len() + 16);
    }
}
