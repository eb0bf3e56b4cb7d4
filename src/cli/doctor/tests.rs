use super::*;

fn sh(script: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", script, "sh"]);
    cmd
}

#[test]
fn version_probes() {
    let five = VERSION_TIMEOUT;
    let version = run_version(
        sh("printf '\\n  \\033[1mtool 1.2\\033[0m \\nmore\\n'"),
        five,
    );
    assert_eq!(version, Probe::Version("tool 1.2".into()));
    let on_stderr = run_version(sh("echo 'v 3' >&2"), five);
    assert_eq!(on_stderr, Probe::Version("v 3".into()));
    let failed = run_version(sh("echo nope; exit 3"), five);
    let (status, line) = ("exit status 3".to_owned(), Some("nope".to_owned()));
    assert_eq!(failed, Probe::Failed { status, line });
    assert_eq!(
        first_line("x".repeat(200).as_bytes()).map(|l| l.chars().count()),
        Some(VERSION_WIDTH)
    );
}

#[test]
fn a_hanging_program_is_killed_with_its_children_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let script = format!("sleep 60 & echo $! > '{}'; wait", pid_file.display());
    let start = Instant::now();
    assert_eq!(
        run_version(sh(&script), Duration::from_millis(300)),
        Probe::TimedOut
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Alive: it exists and is not a zombie waiting for whoever adopted it.
    let stat = format!("/proc/{pid}/stat");
    let alive = || std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "));
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    assert!(!alive(), "the script's child {pid} survived");
}

#[test]
fn colours_follow_no_color_colorterm_and_term() {
    let cases = [
        (
            Some("xterm-256color"),
            Some("truecolor"),
            true,
            Colours::None,
        ),
        (
            Some("xterm-256color"),
            Some("truecolor"),
            false,
            Colours::TrueColor,
        ),
        (Some("tmux-256color"), None, false, Colours::Ansi256),
        (Some("xterm-direct"), None, false, Colours::TrueColor),
        (Some("xterm"), Some("24bit"), false, Colours::TrueColor),
        (Some("xterm"), None, false, Colours::Ansi16),
        (Some("dumb"), Some("truecolor"), false, Colours::None),
        (None, None, false, Colours::None),
    ];
    for (term, colorterm, no_color, want) in cases {
        assert_eq!(
            colours(term, colorterm, no_color),
            want,
            "{term:?} {colorterm:?}"
        );
    }
}
