//! One process owns a fleet at a time: an exclusive `flock` on the `.fleet`
//! directory itself, with our pid noted in `.fleet/lock`.
//!
//! Why the directory: a lock is only as good as the inode it sits on. A lock
//! on a file inside `.fleet` is bypassed by deleting that file: the next
//! process creates a new file (a new inode) and locks it, while the first
//! still holds its lock on the unlinked one. That is true of `.fleet/lock`
//! and equally of `fleet.db` (a second engine would create a new, empty
//! database). The directory cannot be replaced while it holds the worktrees
//! and the database, and deleting `.fleet` wholesale under a running engine
//! is out of scope. Linux lets any open directory descriptor be flocked.
//!
//! `flock` locks are independent of the POSIX `fcntl` record locks SQLite
//! uses, so this lock never interferes with the database (tested below).
//!
//! The lock file is still flocked too, so that an older fleetdeck (which
//! only locks the file) and this one exclude each other; and it carries the
//! holder's pid for the "already running (pid N)" message. Deleting it only
//! loses the pid in that message, never the exclusion.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::private;

/// Held for as long as this process owns the fleet; released on drop (and by the OS on a crash).
#[derive(Debug)]
pub struct FleetLock {
    _dir: File,
    _note: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another fleetdeck{} is already running this fleet ({}); stop it first, or use `fleetdeck status` to look at it",
        holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        path.display()
    )]
    Busy { path: PathBuf, holder: Option<u32> },
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The lock file name inside `.fleet/` (the holder's pid).
pub const LOCK_FILE: &str = "lock";

impl FleetLock {
    /// Whether an engine holds the fleet in `fleet_dir` now. Probed with a
    /// shared lock on the directory taken and released at once, so it never
    /// blocks an engine for longer than the probe; false when there is no
    /// `.fleet`.
    pub fn is_held(fleet_dir: &Path) -> bool {
        let Ok(dir) = std::fs::File::open(fleet_dir) else {
            return false;
        };
        match dir.try_lock_shared() {
            Ok(()) => {
                let _ = dir.unlock();
                false
            }
            Err(std::fs::TryLockError::WouldBlock) => true,
            Err(std::fs::TryLockError::Error(_)) => false,
        }
    }

    /// Takes the lock without waiting (creating `.fleet/` as 0700 when
    /// needed), then writes our pid into `.fleet/lock`. Called first when an
    /// engine opens a fleet, before the database is opened or created.
    pub fn acquire(fleet_dir: &Path) -> Result<FleetLock, LockError> {
        Self::acquire_waiting(fleet_dir, ORPHAN_WAIT, || {})
    }

    /// [`FleetLock::acquire`], where a lock whose noted holder is known dead (or
    /// is this very process) is waited for, up to `wait`: a child still
    /// between fork and exec holds a copy of its parent's descriptors (they
    /// close at exec, or when its parent-death signal kills it, a moment
    /// later), so a killed engine's lock can outlive it briefly. `on_retry`
    /// runs before each new try.
    fn acquire_waiting(
        fleet_dir: &Path,
        wait: std::time::Duration,
        mut on_retry: impl FnMut(),
    ) -> Result<FleetLock, LockError> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            match Self::try_acquire(fleet_dir) {
                Err(LockError::Busy { holder, .. })
                    if holder.is_some_and(|pid| pid == std::process::id() || !alive(pid))
                        && std::time::Instant::now() < deadline =>
                {
                    on_retry();
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    fn try_acquire(fleet_dir: &Path) -> Result<FleetLock, LockError> {
        let io = |path: &Path, source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        private::create_dir_private(fleet_dir).map_err(|e| io(fleet_dir, e))?;
        let dir = File::open(fleet_dir).map_err(|e| io(fleet_dir, e))?;
        let path = fleet_dir.join(LOCK_FILE);
        let busy = |path: &Path| LockError::Busy {
            path: path.to_owned(),
            holder: read_pid(path),
        };
        match dir.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(&path)),
            Err(TryLockError::Error(source)) => return Err(io(fleet_dir, source)),
        }
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        let mut note = private::open_private(&path, &mut options).map_err(|e| io(&path, e))?;
        match note.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(&path)),
            Err(TryLockError::Error(source)) => return Err(io(&path, source)),
        }
        note.set_len(0).map_err(|e| io(&path, e))?;
        note.seek(SeekFrom::Start(0)).map_err(|e| io(&path, e))?;
        writeln!(note, "{}", std::process::id()).map_err(|e| io(&path, e))?;
        note.flush().map_err(|e| io(&path, e))?;
        Ok(FleetLock {
            _dir: dir,
            _note: note,
            path,
        })
    }

    /// The pid note, `.fleet/lock`.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// How long [`FleetLock::acquire`] waits for a lock whose holder is dead.
const ORPHAN_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Whether process `pid` exists (a zombie counts until it is reaped).
fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(e) => e != nix::errno::Errno::ESRCH,
    }
}

/// The pid in the note, if it is still there and readable.
fn read_pid(path: &Path) -> Option<u32> {
    let mut text = String::new();
    File::open(path).ok()?.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_pid_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = FleetLock::acquire(dir.path()).unwrap();
        let err = FleetLock::try_acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("another fleetdeck"), "{text}");
        drop(first);
        FleetLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_lock_left_to_a_dead_holders_child_is_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let first = FleetLock::acquire(dir.path()).unwrap();
        // The noted holder is dead (a reaped child's pid); the descriptor
        // lives on elsewhere, here in `first`, until it is closed.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), format!("{dead}\n")).unwrap();
        let mut first = Some(first);
        let mut retries = 0;
        let lock = FleetLock::acquire_waiting(dir.path(), ORPHAN_WAIT, || {
            retries += 1;
            first.take(); // the orphan closes it
        })
        .unwrap();
        assert_eq!(retries, 1);
        drop(lock);

        // A live holder is refused at once.
        let _live = FleetLock::acquire(dir.path()).unwrap();
        let mut init = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), format!("{}\n", init.id())).unwrap();
        let err = FleetLock::acquire_waiting(dir.path(), ORPHAN_WAIT, || {
            panic!("a live holder is not waited for")
        });
        init.kill().unwrap();
        init.wait().unwrap();
        assert!(matches!(err, Err(LockError::Busy { .. })));
    }

    #[test]
    fn deleting_the_lock_file_or_the_database_does_not_free_the_fleet() {
        let dir = tempfile::tempdir().unwrap();
        let _first = FleetLock::acquire(dir.path()).unwrap();
        std::fs::write(dir.path().join(super::super::DB_FILE), "").unwrap();
        std::fs::remove_file(dir.path().join(LOCK_FILE)).unwrap();
        std::fs::remove_file(dir.path().join(super::super::DB_FILE)).unwrap();
        let err = FleetLock::try_acquire(dir.path()).unwrap_err();
        assert!(matches!(err, LockError::Busy { holder: None, .. }), "{err}");
    }

    #[test]
    fn the_lock_does_not_get_in_the_way_of_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let _lock = FleetLock::acquire(dir.path()).unwrap();
        // Two connections (SQLite's own fcntl locks) read and write as usual.
        let a = super::super::Store::open(dir.path()).unwrap();
        let b = super::super::Store::open(dir.path()).unwrap();
        a.set_meta("k", "1").unwrap();
        assert_eq!(b.meta("k").unwrap().as_deref(), Some("1"));
        b.set_meta("k", "2").unwrap();
        assert_eq!(a.meta("k").unwrap().as_deref(), Some("2"));
    }
}
