//! The `picket` binary: hands the command line to [`picket::cli`].

fn main() -> std::process::ExitCode {
    picket::cli::main()
}
