//! The `k2sim` command: parse arguments, call the library, map errors to exit codes.

mod cli;
mod cli_fit;
mod cli_study;
mod cli_validate;

fn main() -> std::process::ExitCode {
    cli::main()
}
