//! Containment: nothing an agent or a verify command starts outlives it.
//!
//! Every contained command's process tree dies when the command ends (agent
//! exit, stop, timeout; a verify command's end), when the engine stops, and
//! when the engine dies:
//! - **cgroup v2** where this process may create cgroups: a fleet cgroup
//!   below the engine's own ([`cgroup`]) and a leaf per command, joined
//!   between fork and exec; ending the command writes `cgroup.kill`, so
//!   descendants that called `setsid` or cleared their environment die too.
//! - **the fallback** otherwise (no cgroup2, not permitted, or
//!   `FLEETDECK_CONTAIN=sweep`): the engine becomes a child subreaper and the
//!   command's end sweeps its tree from /proc ([`sweep`], which says what it
//!   cannot catch).
//! - **engine death**: the [`watchdog`] kills this engine's leaves (in the
//!   fallback: the groups it was told about and the fleet's `FLEET_DIR`
//!   processes) when the engine's end of a pipe closes.
//! - **the next start** kills leftover leaves of the fleet and every process
//!   carrying its `FLEET_DIR` ([`kill_leftovers`]), the last line of defence.
//!
//! The process group, parent-death signal and `FLEET_DIR` of
//! [`process::command`] are kept in both modes (pause is SIGSTOP of the group).

pub mod cgroup;
pub mod sweep;
pub mod watchdog;

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once};

use nix::sys::signal::Signal as NixSignal;
use tokio::process::{Child, Command};

use super::process;
use watchdog::Watchdog;

/// The environment variable carrying a contained command's id (its leaf
/// name), inherited by its descendants: how the fallback recognises them.
pub const CONTAIN_VAR: &str = "FLEET_CONTAIN";

/// Set to `sweep` to force the fallback (for tests, or where cgroups misbehave).
pub const MODE_VAR: &str = "FLEETDECK_CONTAIN";

/// How commands are contained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A cgroup v2 leaf per command.
    Cgroup,
    /// Subreaper and /proc sweeps.
    Sweep,
}

/// What a contained command is, for its leaf's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Agent,
    Verify,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Verify => "verify",
        }
    }
}

/// One fleet's containment in this process.
struct Fleet {
    fleet_dir: PathBuf,
    /// The fleet cgroup, in [`Mode::Cgroup`].
    cgroup: Option<PathBuf>,
    /// Prefix of this engine's leaves and ids: unique per engine.
    token: String,
    seq: AtomicU64,
    watchdog: Option<Watchdog>,
}

/// What this process contains now.
#[derive(Default)]
struct Registry {
    fleets: HashMap<PathBuf, Arc<Fleet>>,
    /// Running contained commands: id → (pid, start ticks).
    live: HashMap<String, (i32, u64)>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes this process a child subreaper (once): orphans of its commands are
/// reparented to it, where the fallback sweep finds them.
fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            tracing::warn!(
                "cannot become a child subreaper ({e}): orphans of agents escape the sweep"
            );
        }
    });
}

fn requested_mode() -> Option<Mode> {
    (std::env::var(MODE_VAR).as_deref() == Ok("sweep")).then_some(Mode::Sweep)
}

impl Fleet {
    /// Sets up containment for `fleet_dir` in `mode` (detected when None).
    fn new(fleet_dir: &Path, mode: Option<Mode>, with_watchdog: bool) -> Fleet {
        let cgroup = match mode.or_else(requested_mode) {
            Some(Mode::Sweep) => None,
            _ => match cgroup::create_fleet_cgroup(fleet_dir) {
                Ok(dir) => Some(dir),
                Err(e) => {
                    tracing::info!("{e}");
                    None
                }
            },
        };
        if cgroup.is_none() {
            become_subreaper();
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("e{}x{nanos:x}", std::process::id());
        let watchdog = with_watchdog
            .then(|| Watchdog::spawn(fleet_dir, cgroup.as_deref(), &token))
            .flatten();
        Fleet {
            fleet_dir: fleet_dir.to_owned(),
            cgroup,
            token,
            seq: AtomicU64::new(0),
            watchdog,
        }
    }

    fn tell_watchdog(&self, line: &str) {
        if let Some(w) = &self.watchdog {
            w.tell(line);
        }
    }
}

impl Drop for Fleet {
    /// When the last user of the fleet is gone: without a watchdog (which
    /// removes it after its sweep), removes the fleet cgroup here; this fails,
    /// harmlessly, while another engine's leaves or a leaf being removed are in it.
    fn drop(&mut self) {
        if let (Some(dir), None) = (&self.cgroup, &self.watchdog) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Held by an engine for as long as it runs a fleet: the mode, the
/// watchdog, and the place where the fleet's [`Containment`]s find them.
/// Dropping it closes the watchdog's pipe (it cleans up and exits).
pub struct FleetContainment {
    fleet: Arc<Fleet>,
}

impl FleetContainment {
    /// Sets up containment for `fleet_dir` and starts its watchdog; `mode`
    /// None detects it (cgroups when they can be created, unless
    /// `FLEETDECK_CONTAIN=sweep`). Never fails: the fallback is always there.
    pub fn open(fleet_dir: &Path, mode: Option<Mode>) -> FleetContainment {
        let fleet = Arc::new(Fleet::new(fleet_dir, mode, true));
        tracing::info!(mode = ?fleet_mode(&fleet), "containing agents");
        registry()
            .fleets
            .insert(fleet_dir.to_owned(), Arc::clone(&fleet));
        FleetContainment { fleet }
    }

    pub fn mode(&self) -> Mode {
        fleet_mode(&self.fleet)
    }

    /// The watchdog's pid, when it runs.
    pub fn watchdog_pid(&self) -> Option<i32> {
        self.fleet.watchdog.as_ref().and_then(Watchdog::pid)
    }
}

fn fleet_mode(fleet: &Fleet) -> Mode {
    if fleet.cgroup.is_some() {
        Mode::Cgroup
    } else {
        Mode::Sweep
    }
}

impl Drop for FleetContainment {
    fn drop(&mut self) {
        let mut reg = registry();
        if reg
            .fleets
            .get(&self.fleet.fleet_dir)
            .is_some_and(|f| Arc::ptr_eq(f, &self.fleet))
        {
            reg.fleets.remove(&self.fleet.fleet_dir);
        }
    }
}

/// Kills what a dead engine of `fleet_dir` left: every leaf of the fleet
/// cgroup (whichever engine made it) and every process carrying its
/// `FLEET_DIR`. For the start of an engine that holds the fleet lock.
pub fn kill_leftovers(fleet_dir: &Path) -> Vec<i32> {
    if let Ok(dir) = cgroup::fleet_cgroup_path(fleet_dir) {
        let busy = cgroup::sweep(&dir, "");
        if busy > 0 {
            tracing::warn!(
                count = busy,
                "killed the cgroups a previous fleetdeck left running"
            );
        }
    }
    process::kill_leftovers(fleet_dir)
}

/// True when the fleet cgroup of `fleet_dir` has leaves (a dead engine's).
pub fn has_leftovers(fleet_dir: &Path) -> bool {
    cgroup::fleet_cgroup_path(fleet_dir).is_ok_and(|dir| !cgroup::leaves(&dir, "").is_empty())
}

/// One contained agent or verify command. Create it, build the command with
/// [`Containment::command`], start it with [`Containment::spawn`]; when the
/// command ends call [`Containment::kill_all`] (or just drop it: `Drop`
/// kills what is left and removes the leaf).
pub struct Containment {
    fleet: Arc<Fleet>,
    /// `FLEET_CONTAIN` of the command, and its leaf's name.
    id: String,
    /// The leaf, in cgroup mode.
    leaf: Option<PathBuf>,
    /// The started process: (pid, start ticks).
    child: Option<(i32, u64)>,
}

impl Containment {
    /// Containment for a command of `task`'s `attempt` in the fleet of
    /// `fleet_dir` (the engine's [`FleetContainment`], or a detected mode
    /// without watchdog when no engine holds the fleet in this process).
    pub fn new(fleet_dir: &Path, kind: Kind, task: &str, attempt: u32) -> Containment {
        let registered = registry().fleets.get(fleet_dir).cloned();
        let fleet = registered.unwrap_or_else(|| Arc::new(Fleet::new(fleet_dir, None, false)));
        let n = fleet.seq.fetch_add(1, Ordering::Relaxed);
        let id = format!("{}.{n}-{}-{task}-{attempt}", fleet.token, kind.name());
        let leaf = fleet
            .cgroup
            .as_deref()
            .and_then(|dir| match cgroup::create_leaf(dir, &id) {
                Ok(leaf) => Some(leaf),
                Err(e) => {
                    tracing::warn!("{e}");
                    become_subreaper();
                    None
                }
            });
        Containment {
            fleet,
            id,
            leaf,
            child: None,
        }
    }

    pub fn mode(&self) -> Mode {
        if self.leaf.is_some() {
            Mode::Cgroup
        } else {
            Mode::Sweep
        }
    }

    /// [`process::command`] with `FLEET_CONTAIN` set and, in cgroup mode, the
    /// child moved into the leaf before it executes `program`.
    pub fn command(&self, program: &Path, args: &[String], cwd: &Path) -> Command {
        let mut cmd = process::command(program, args, cwd, &self.fleet.fleet_dir);
        cmd.env(CONTAIN_VAR, &self.id);
        let procs = self
            .leaf
            .as_ref()
            .and_then(|l| CString::new(l.join("cgroup.procs").as_os_str().as_bytes()).ok());
        if let Some(procs) = procs {
            // SAFETY: between fork and exec only open, write and close, which
            // are async-signal-safe; the path was allocated before the fork.
            // A failure is seen by `spawn`, which checks the membership.
            unsafe {
                cmd.pre_exec(move || {
                    use nix::libc;
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd >= 0 {
                        libc::write(fd, b"0".as_ptr().cast(), 1);
                        libc::close(fd);
                    }
                    Ok(())
                });
            }
        }
        cmd
    }

    /// Starts `cmd` (made by [`Containment::command`]) and records its
    /// process. If it did not land in its leaf, this command falls back to
    /// the sweep (logged).
    pub fn spawn(&mut self, cmd: &mut Command) -> std::io::Result<Child> {
        let child = cmd.spawn()?;
        let Some(pid) = child.id() else {
            return Ok(child); // already reaped: nothing left to contain
        };
        if let Some(leaf) = &self.leaf
            && !cgroup::contains(leaf, pid)
        {
            tracing::warn!(cgroup = %leaf.display(), pid, "the command did not join its cgroup: sweeping its processes instead");
            become_subreaper();
            cgroup::remove(leaf);
            self.leaf = None;
        }
        let pid = pid as i32;
        let start = sweep::process(pid).map_or(0, |p| p.start);
        self.child = Some((pid, start));
        registry().live.insert(self.id.clone(), (pid, start));
        if self.leaf.is_none() {
            self.fleet.tell_watchdog(&format!("+{pid}"));
        }
        Ok(child)
    }

    /// Kills every process of the command (its process group, its leaf or
    /// the processes the sweep attributes to it). Idempotent; when the
    /// command ends, and on drop.
    pub fn kill_all(&self) {
        let Some((pid, start)) = self.child else {
            return;
        };
        process::signal_group(pid, NixSignal::SIGKILL);
        match &self.leaf {
            Some(leaf) => cgroup::kill(leaf),
            None => {
                let (others, known) = {
                    let reg = registry();
                    let others: Vec<u64> = reg
                        .live
                        .iter()
                        .filter(|(id, _)| **id != self.id)
                        .map(|(_, (_, s))| *s)
                        .collect();
                    let mut known: Vec<i32> = reg.live.values().map(|(p, _)| *p).collect();
                    known.extend(
                        reg.fleets
                            .values()
                            .filter_map(|f| f.watchdog.as_ref()?.pid()),
                    );
                    (others, known)
                };
                let target = sweep::Target {
                    id: &self.id,
                    pid,
                    start,
                    others_started: &others,
                    known: &known,
                };
                sweep::sweep(&target);
            }
        }
    }
}

impl Drop for Containment {
    /// Kills what is left, forgets the command and removes its leaf (in the
    /// background: the kernel takes a moment to empty it).
    fn drop(&mut self) {
        self.kill_all();
        if let Some((pid, _)) = self.child {
            registry().live.remove(&self.id);
            if self.leaf.is_none() {
                self.fleet.tell_watchdog(&format!("-{pid}"));
            }
        }
        if let Some(leaf) = self.leaf.take() {
            let removed = std::thread::Builder::new()
                .name("fleetdeck-cgroup-rmdir".into())
                .spawn(move || cgroup::remove(&leaf));
            if let Err(e) = removed {
                tracing::warn!("cannot remove a cgroup in the background: {e}");
            }
        }
    }
}
