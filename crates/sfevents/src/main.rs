fn main() -> std::process::ExitCode {
    sfevents::cli::main()
}
