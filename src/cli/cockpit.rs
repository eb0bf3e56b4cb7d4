//! `fleetdeck` / `fleetdeck run`: the full-screen cockpit over the engine.

use std::path::Path;

use tokio::sync::mpsc;

use super::logging;
use crate::config::FILE_NAME;
use crate::core::Command;
use crate::runtime::{Engine, EngineOptions};
use crate::ui::app::App;
use crate::ui::keymap::Keymap;
use crate::ui::model::Model;
use crate::ui::run::{UiMsg, event_loop, spawn_terminal_reader};
use crate::ui::terminal;
use crate::ui::theme::Theme;

pub fn main(root: &Path, theme: Option<&str>) -> i32 {
    main_with(root, theme, None)
}

/// [`main`], sending `first` to the engine as soon as it has started
/// (`fleetdeck demo` submits its goal so).
pub fn main_with(root: &Path, theme: Option<&str>, first: Option<Command>) -> i32 {
    if !root.join(FILE_NAME).exists() {
        eprintln!(
            "fleetdeck: there is no {FILE_NAME} in {}.\n`fleetdeck init` writes one to start from; `fleetdeck demo` shows the cockpit on a scratch repository.",
            root.display()
        );
        return 2;
    }
    logging::init(root);
    super::block_on(cockpit(root, theme, first))
}

/// Opens the fleet and runs the cockpit until the user quits; `first` is
/// sent once the engine has started.
pub async fn cockpit(root: &Path, theme: Option<&str>, first: Option<Command>) -> i32 {
    let started = std::time::Instant::now();
    let mut engine = match Engine::open(root, EngineOptions::default()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return e.exit_code();
        }
    };
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1000.0, "engine open");
    let config = engine.config().clone();
    let keymap = match Keymap::with_overrides(&config.ui.keys) {
        Ok((keymap, warnings)) => {
            for w in warnings {
                tracing::warn!("[ui.keys]: {w}");
            }
            keymap
        }
        Err(e) => {
            eprintln!("fleetdeck: {}: [ui.keys]: {e}", config.path.display());
            return 2;
        }
    };
    // A relative theme path in fleet.toml is relative to the repository.
    let configured = config.ui.theme.as_deref().map(|t| {
        if t.ends_with(".toml") && !Path::new(t).is_absolute() {
            root.join(t).display().to_string()
        } else {
            t.to_owned()
        }
    });
    let (theme, warnings) = Theme::load(
        theme.or(configured.as_deref()),
        crate::ui::theme::no_color_env(),
    );
    for w in warnings {
        tracing::warn!("theme: {w}");
    }
    // A terminal with 16 colours gets 16-colour codes (see crate::ui::sgr16).
    let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
    let sixteen = matches!(
        super::doctor::colours(var("TERM").as_deref(), var("COLORTERM").as_deref(), false),
        super::doctor::Colours::Ansi16
    );
    let theme = if sixteen { theme.to_ansi16() } else { theme };
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "theme and keys"
    );
    let notes = engine.subscribe();
    engine.start();
    if let Some(command) = first {
        let what = command.describe();
        if let Err(e) = engine.command(command) {
            tracing::warn!("{what}: {e}");
        }
    }
    let snapshot = match engine.snapshot() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fleetdeck: {e}");
            return 1;
        }
    };
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "started, snapshot taken"
    );
    let handle = engine.handle();
    let engine_task = tokio::spawn(async move { engine.run(false).await });

    let mut app = App::new(Model::new(snapshot), keymap, theme);
    app.mouse = config.ui.mouse;
    let (tx, rx) = mpsc::unbounded_channel();
    forward_signals(tx.clone());
    let mut guard = match terminal::enter(app.mouse, sixteen) {
        Ok(g) => g,
        Err(e) => {
            handle.shutdown();
            let _ = engine_task.await;
            eprintln!(
                "fleetdeck: cannot take over the terminal: {e} (use `fleetdeck run --headless` without one)"
            );
            return 1;
        }
    };
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "terminal entered"
    );
    if let Ok(size) = guard.terminal.size() {
        app.size = (size.width, size.height);
    }
    spawn_terminal_reader(tx.clone());
    let result = event_loop(&mut app, &mut guard.terminal, notes, rx, tx, handle.clone()).await;
    drop(guard); // give the terminal back before waiting for agents to stop
    let live = app.model.fleet.live_agents();
    handle.shutdown();
    let _ = engine_task.await;
    if let Err(e) = result {
        eprintln!("fleetdeck: the terminal failed: {e}");
        return 1;
    }
    if live > 0 {
        println!(
            "fleetdeck: stopped {live} running agent(s); their attempts are redone when the fleet next starts (it starts paused: press P)."
        );
    }
    0
}

/// SIGTERM and SIGHUP (a closed SSH session) leave like a quit, so the terminal is restored.
fn forward_signals(tx: mpsc::UnboundedSender<UiMsg>) {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [SignalKind::terminate(), SignalKind::hangup()] {
        let tx = tx.clone();
        if let Ok(mut s) = signal(kind) {
            tokio::spawn(async move {
                if s.recv().await.is_some() {
                    let _ = tx.send(UiMsg::Terminate);
                }
            });
        }
    }
}
