fn main() -> std::process::ExitCode {
    fleetdeck::cli::main()
}
