//! Owning the terminal: raw mode, the alternate screen, mouse capture and
//! bracketed paste on the way in; all of it undone on the way out, on every
//! path (normal exit, error, panic).

use std::io::{self, Stdout, Write};
use std::sync::Once;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use super::sgr16::Sgr16;

pub type Tui = Terminal<CrosstermBackend<Sgr16<Stdout>>>;

/// Restores the terminal when dropped.
pub struct Guard {
    pub terminal: Tui,
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal in cockpit mode. The panic hook restores it before the
/// panic message is printed, so the message is readable and the shell usable.
/// `sixteen`: the terminal has 16 colours, colours are written as such.
pub fn enter(mouse: bool, sixteen: bool) -> io::Result<Guard> {
    install_panic_hook();
    enter_modes(mouse)?;
    let terminal = Terminal::new(CrosstermBackend::new(Sgr16::new(io::stdout(), sixteen)));
    match terminal {
        Ok(terminal) => Ok(Guard { terminal }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Raw mode, the alternate screen, paste (and mouse) on: on entering, and
/// again after the user's editor had the terminal.
pub fn enter_modes(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    let entered = execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide
    )
    .and_then(|()| {
        if mouse {
            execute!(out, EnableMouseCapture)
        } else {
            Ok(())
        }
    });
    if let Err(e) = entered {
        restore();
        return Err(e);
    }
    Ok(())
}

/// Leaves cockpit mode; harmless when not in it.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
