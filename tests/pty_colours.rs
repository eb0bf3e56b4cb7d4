//! Colour depth in a real terminal: the cockpit (`fleetdeck demo`) in a
//! pseudo-terminal with `TERM=xterm` and no `COLORTERM` writes only
//! 16-colour codes; with `TERM=xterm-256color` it writes 256-colour ones.

mod common;

use common::pty;

/// Runs the demo cockpit with `term` (and no `COLORTERM`) until its board
/// is drawn, quits it, and returns every byte it wrote.
fn cockpit_output(term: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let args = [
        "demo",
        "--long-secs",
        "120",
        "--dir",
        repo.to_str().unwrap(),
    ];
    let mut tty = pty::spawn_with(&args, dir.path(), &[("TERM", term), ("COLORTERM", "")]);
    tty.wait("the board", |s| s.contains(" Done ") && s.contains(" quit"));
    tty.quit();
    tty.output()
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
