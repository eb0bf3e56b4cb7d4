//! Logging to `.fleet/fleetdeck.log`, never to the terminal (the cockpit owns
//! the screen; headless output is for state changes only).

use std::path::Path;

use tracing_subscriber::EnvFilter;

use crate::store::private;

/// The log file name inside `.fleet/`.
pub const LOG_FILE: &str = "fleetdeck.log";

/// Sends tracing output to `<root>/.fleet/fleetdeck.log` (appending, 0600).
/// The level comes from `FLEETDECK_LOG` (default `info`). Failing to open the
/// log is not fatal: logging is then off.
pub fn init(root: &Path) {
    let dir = root.join(".fleet");
    let file = private::create_dir_private(&dir).and_then(|()| {
        private::open_private(
            &dir.join(LOG_FILE),
            std::fs::OpenOptions::new().create(true).append(true),
        )
    });
    let Ok(file) = file else { return };
    let filter =
        EnvFilter::try_from_env("FLEETDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}
