fn main() -> std::process::ExitCode {
    scenarios::cli::main_with_args(std::env::args_os())
}
