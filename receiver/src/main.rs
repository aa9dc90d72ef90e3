//! The `picket` binary: hands the command line to [`picket::main`].

fn main() -> std::process::ExitCode {
    picket::main()
}
