//! The `picket` binary: hands the command line to [`picket::main`].

/// The process's allocator. The sensor's fold allocates and frees small pieces of candidates
/// all the time (evidence lines, distinct sets): with glibc's malloc the sensor added 1.43 CPU
/// µs a message to TCP ingest, with mimalloc 0.66 (bench/README.md, session 10), and the heap
/// of a long run grows less (bench/LOAD.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    picket::main()
}
