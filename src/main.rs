//! The `k2sim` command: parse arguments, call the library, map errors to exit codes.

mod cli;
mod cli_study;

fn main() -> std::process::ExitCode {
    cli::main()
}
