//! The real binary in a pseudo-terminal, its screen read through vt100.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

pub struct Tty {
    pub screen: Arc<Mutex<vt100::Parser>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Every byte the program wrote, as written (escape codes included).
    pub raw: Arc<Mutex<Vec<u8>>>,
}

impl Tty {
    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits (polling the screen, with a timeout) until `check` holds.
    pub fn wait(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_at_most(Duration::from_secs(60), what, check)
    }

    pub fn wait_at_most(
        &self,
        limit: Duration,
        what: &str,
        check: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let text = self.contents();
            if check(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits (with a timeout) for the program to exit, and its status.
    pub fn exit_status(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "fleetdeck did not exit; the screen:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `bytes`, then waits until `check` holds of the screen.
    pub fn press(&mut self, bytes: &[u8], what: &str, check: impl Fn(&str) -> bool) -> String {
        self.keys(bytes);
        self.wait(what, check)
    }

    /// Everything the program wrote so far, escape codes included.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// Presses `q`, answers the cockpit's quit question if it asks, and
    /// waits (with a timeout) for the program to exit.
    pub fn quit(&mut self) -> portable_pty::ExitStatus {
        self.keys(b"q");
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut answered = false;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if !answered && self.contents().contains("Quit?") {
                self.keys(b"y");
                answered = true;
            }
            assert!(
                Instant::now() < deadline,
                "fleetdeck did not quit; the screen:\n{}",
                self.contents()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn keys(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
        self.writer.flush().unwrap();
    }
}

/// Runs the real binary with `args` in `cwd` in a 120x40 pseudo-terminal.
pub fn spawn(args: &[&str], cwd: &std::path::Path) -> Tty {
    spawn_with(args, cwd, &[])
}

/// [`spawn`] with extra environment variables; an empty value removes the
/// variable (e.g. `("COLORTERM", "")`).
pub fn spawn_with(args: &[&str], cwd: &std::path::Path, env: &[(&str, &str)]) -> Tty {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols: 120,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_fleetdeck"));
    cmd.args(args);
    cmd.cwd(cwd);
    cmd.env("TERM", "xterm-256color");
    cmd.env_remove("NO_COLOR");
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    let child = pty.slave.spawn_command(cmd).unwrap();
    drop(pty.slave);
    let mut reader = pty.master.try_clone_reader().unwrap();
    let writer = pty.master.take_writer().unwrap();
    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let screen = Arc::new(Mutex::new(vt100::Parser::new(size(40), size(120), 0)));
    let sink = screen.clone();
    let raw = Arc::new(Mutex::new(Vec::new()));
    let raw_sink = raw.clone();
    std::thread::spawn(move || {
        let _master = pty.master; // keep the pty open while reading
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().process(&buf[..n]);
            raw_sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    Tty {
        screen,
        writer,
        child,
        raw,
    }
}
