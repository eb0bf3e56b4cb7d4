fn main() -> std::process::ExitCode {
    // Behave like other command-line tools when the reader of our output goes
    // away (`fleetdeck log x | head`): end quietly instead of panicking on EPIPE.
    // SAFETY: setting a signal disposition to SIG_DFL at start-up, before any thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    fleetdeck::cli::main()
}
