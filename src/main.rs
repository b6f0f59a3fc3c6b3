//! The `kafkasim` binary: parse arguments, run, map errors to exit codes (2 = bad input).

fn main() -> std::process::ExitCode {
    kafkasim::cli::main()
}
