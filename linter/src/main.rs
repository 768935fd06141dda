use std::process::ExitCode;

// The plan model and the rules make millions of small, short-lived allocations on a large
// plan; mimalloc serves them faster than the system allocator (measured in
// bench/results/linter.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let code = immutable_lint::cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}
