//! `doorstep`: the one binary.

/// mimalloc rather than glibc's malloc: a busy server spent a sixth of its
/// CPU in glibc's allocator (consolidating and unlinking chunks), most of
/// it for the many small allocations of a request and a statement.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(doorstep::cli::run());
    // Work still running (a request abandoned at shutdown, a blocking task)
    // does not keep the process: its transactions roll back with it.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}
