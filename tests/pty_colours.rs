//! Colour depth in a real terminal: the cockpit (`fleetdeck demo`) in a
//! pseudo-terminal with `TERM=xterm` and no `COLORTERM` writes only
//! 16-colour codes; with `TERM=xterm-256color` it writes 256-colour ones.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

/// Runs the demo cockpit with `term` until its board is drawn, quits it,
/// and returns every byte it wrote.
fn cockpit_output(term: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.args([
        "demo",
        "--long-secs",
        "120",
        "--dir",
        repo.to_str().unwrap(),
    ]);
    cmd.cwd(dir.path());
    cmd.env("TERM", term);
    cmd.env_remove("COLORTERM");
    cmd.env_remove("NO_COLOR");
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let mut writer = pty.master.take_writer().unwrap();
    let raw = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = raw.clone();
    std::thread::spawn(move || {
        let _master = pty.master;
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let text = || String::from_utf8_lossy(&raw.lock().unwrap()).into_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(text().contains("fleetdeck") && text().contains(" Done ") && text().contains(" quit")) {
        assert!(Instant::now() < deadline, "no board drawn: {:?}", text());
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.write_all(b"q").unwrap();
    writer.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if text().contains("Quit?") {
            writer.write_all(b"y").unwrap();
            writer.flush().unwrap();
        }
        assert!(Instant::now() < deadline, "the cockpit did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    text()
}

#[test]
fn a_16_colour_terminal_gets_16_colour_codes_only() {
    let out = cockpit_output("xterm");
    for seq in ["38;2;", "48;2;", "38;5;", "48;5;"] {
        assert!(!out.contains(seq), "{seq:?} written to TERM=xterm");
    }
    assert!(
        ["\x1b[3", ";3", "\x1b[9", ";9"]
            .iter()
            .any(|s| out.contains(s)),
        "some colour is drawn"
    );
    // The same cockpit in a 256-colour terminal uses 256-colour codes.
    let rich = cockpit_output("xterm-256color");
    assert!(rich.contains("38;5;"), "TERM=xterm-256color");
}
