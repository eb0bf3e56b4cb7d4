//! The fallback containment, where cgroups cannot be used (forced here): the
//! engine is a child subreaper and sweeps a command's tree from /proc. Its
//! own test binary, as the subreaper and the sweep concern the whole process.

mod common;

use std::path::Path;
use std::time::Duration;

use common::escape::*;
use common::*;
use fleetdeck::runtime::contain::{Containment, FleetContainment, Kind, MODE_VAR, Mode};

/// The process group of `pid`.
fn pgid(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .collect();
    fields[2].parse().unwrap()
}

#[tokio::test]
async fn the_sweep_kills_descendants_that_left_the_group_or_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join(".fleet");
    std::fs::create_dir(&fleet).unwrap();
    let held = FleetContainment::open(&fleet, Some(Mode::Sweep));
    assert_eq!(held.mode(), Mode::Sweep);

    let mut contain = Containment::new(&fleet, Kind::Agent, "t", 1);
    assert_eq!(contain.mode(), Mode::Sweep);
    let script = format!(
        "{}; {}",
        job("1000.1234", "job.pid"),
        escape("1000.1235", "setsid.pid")
    );
    let mut cmd = contain.command(Path::new("bash"), &["-c".into(), script], dir.path());
    let mut child = contain.spawn(&mut cmd).unwrap();
    let agent = child.id().unwrap() as i32;
    let job_pid = pid_in(&dir.path().join("job.pid"));
    let setsid_pid = pid_in(&dir.path().join("setsid.pid"));
    assert!(child.wait().await.unwrap().success());
    // Neither is in the agent's process group: a group kill misses both.
    assert_ne!(pgid(job_pid), agent);
    assert_ne!(pgid(setsid_pid), agent);

    contain.kill_all();
    assert_dies(job_pid, "1000.1234", "the sweep (own process group)");
    assert_dies(
        setsid_pid,
        "1000.1235",
        "the sweep (setsid, no environment)",
    );
    drop(contain);
    drop(held);
}

#[test]
fn in_the_fallback_the_watchdog_kills_the_groups_of_a_killed_engine() {
    let marker = "1000.1236";
    let agent = format!("{}; exec sleep 1000.1239", job(marker, "job.pid"));
    let repo = TestRepo::new(&shell_plan("bash", &agent, &[]), &[]);
    let mut engine = start_headless(&repo, &[(MODE_VAR, "sweep")]);
    let pid = pid_in(&worktree(&repo, "t").join("job.pid"));
    engine.kill().unwrap(); // SIGKILL
    engine.wait().unwrap();
    assert_dies(pid, marker, "the engine (fallback)");
    assert_fleet_gone(&repo);
}

/// True when a SIGKILL is pending for `pid` (its `SigPnd` or `ShdPnd` mask), or it is gone.
fn sigkill_pending(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return true;
    };
    status.lines().any(|l| {
        let mask = l
            .strip_prefix("SigPnd:")
            .or_else(|| l.strip_prefix("ShdPnd:"));
        mask.and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|m| m & (1 << 8) != 0)
    }) || status
        .lines()
        .any(|l| l.starts_with("State:") && (l.contains('Z') || l.contains('X')))
}

#[test]
fn the_fallback_watchdog_kills_its_own_engines_processes_only() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = dir.path().join(".fleet");
    let start = |contain: &str, marker: &str| {
        std::process::Command::new("sleep")
            .arg(marker)
            .env("FLEET_DIR", &fleet)
            .env("FLEET_CONTAIN", contain)
            .spawn()
            .unwrap()
    };
    let mut ours = start("e1x1.0-agent-t-1", "1000.1241");
    let mut newer = start("e2x2.0-agent-t-2", "1000.1242");
    wait_for(
        Duration::from_secs(10),
        "both environments in /proc",
        || {
            pids_whose("environ", |e| {
                e.windows(b"FLEET_CONTAIN=".len())
                    .any(|w| w == b"FLEET_CONTAIN=")
                    && e.windows(fleet.as_os_str().len())
                        .any(|w| w == fleet.as_os_str().as_encoded_bytes())
            })
            .len()
            .ge(&2)
            .then_some(())
        },
    );
    // The engine is gone at once: stdin is at end of file.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_fleetdeck"))
        .arg("__watchdog")
        .arg(&fleet)
        .arg("e1x1")
        .stdin(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&ours.wait().unwrap()),
        Some(9)
    );
    // A SIGKILL sent before the watchdog exited is pending or already done.
    assert!(
        newer.try_wait().unwrap().is_none() && !sigkill_pending(newer.id()),
        "a newer engine's agent is left alone"
    );
    newer.kill().unwrap();
    newer.wait().unwrap();
}
