//! Processes that escape their agent (a new session, a cleared
//! environment), each marked by its own `sleep <marker>` argument, and
//! checks that they die.

use std::path::Path;
use std::time::Duration;

use super::{TestRepo, wait_for};

/// Shell code that starts `sleep <marker>` in a new session with an empty
/// environment, writes its pid to `pid_file` and waits until the file is written.
pub fn escape(marker: &str, pid_file: &str) -> String {
    background("env -i setsid", marker, pid_file)
}

/// Bash code that starts `sleep <marker>` as a job of its own process group
/// (job control), in the same session and with the environment kept; writes
/// its pid to `pid_file` and waits until the file is written.
pub fn job(marker: &str, pid_file: &str) -> String {
    format!("set -m; {}", background("", marker, pid_file))
}

fn background(launcher: &str, marker: &str, pid_file: &str) -> String {
    format!(
        "{launcher} sh -c 'echo $$ > {pid_file}.tmp && mv {pid_file}.tmp {pid_file}; exec sleep {marker}' </dev/null >/dev/null 2>&1 & \
         while [ ! -s {pid_file} ]; do :; done"
    )
}

/// The pid written in `file`, once it is there.
pub fn pid_in(file: &Path) -> i32 {
    wait_for(
        Duration::from_secs(20),
        "the escaped process's pid file",
        || std::fs::read_to_string(file).ok()?.trim().parse().ok(),
    )
}

/// True while `pid` is alive and runs `sleep <marker>` or is about to (zombies do not count).
pub fn alive(pid: i32, marker: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = stat
        .rfind(')')
        .is_some_and(|i| stat[i + 1..].trim_start().starts_with('Z'));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    // Before its `exec sleep` the process is still the `sh -c` whose script names the marker.
    !zombie
        && cmdline
            .windows(marker.len())
            .any(|w| w == marker.as_bytes())
}

/// Waits up to a few seconds for `pid` to die; kills it if it does not, so
/// a failing run leaves nothing behind, and fails.
pub fn assert_dies(pid: i32, marker: &str, when: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive(pid, marker) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid, marker) {
        sigkill(pid);
        panic!("the escaped descendant {pid} (sleep {marker}) outlived {when}");
    }
}

/// A plan of one task `t` whose agent (format text) is `shell -c agent_script`,
/// with `verify` as the verify commands.
pub fn shell_plan(shell: &str, agent_script: &str, verify: &[String]) -> String {
    let verify: Vec<String> = verify.iter().map(|c| format!("{c:?}")).collect();
    format!(
        "[verify]\ncommands = [{}]\n[agents.shell]\ncommand = [{shell:?}, \"-c\", {agent_script:?}]\nformat = \"text\"\n\
         [[task]]\nid = \"t\"\nagent = \"shell\"\nprompt = \"x\"\n",
        verify.join(", ")
    )
}

/// Starts `fleetdeck run --headless` on `repo` with `env` added.
pub fn start_headless(repo: &TestRepo, env: &[(&str, &str)]) -> std::process::Child {
    repo.command(&["run", "--headless"])
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGKILL to `pid`, which may be gone already.
pub fn sigkill(pid: i32) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

/// Waits up to 5 s until no process carries the `FLEET_DIR` of `repo`.
pub fn assert_fleet_gone(repo: &TestRepo) {
    let fleet_dir = repo.path().canonicalize().unwrap().join(".fleet");
    wait_for(
        Duration::from_secs(5),
        "every process of the fleet to die",
        || {
            fleetdeck::runtime::process::processes_of(&fleet_dir)
                .is_empty()
                .then_some(())
        },
    );
}

/// Pids of the processes whose `/proc/<pid>/<file>` satisfies `check`.
pub fn pids_whose(file: &str, check: impl Fn(&[u8]) -> bool) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read(format!("/proc/{pid}/{file}")).is_ok_and(|c| check(&c)))
        .collect()
}
