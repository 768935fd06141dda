//! Writes the provider's registry docs (`docs/index.md`, `docs/resources/*.md`) from the
//! schema, `templates/` and `examples/`. Run through `scripts/gen-docs.sh`; an example target
//! so it never ships in the provider binary.
//!
//! Usage: `cargo run -q -p terraform-provider-immutable --example gen-docs -- [--check] [ROOT]`
//! (ROOT: the repository root, default the current directory). `--check` writes nothing and
//! exits 1 when a committed page is stale.

use std::path::PathBuf;
use std::process::ExitCode;

use terraform_provider_immutable::docs;
use terraform_provider_immutable::provider::ImmutableProvider;

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool"
)]
fn main() -> ExitCode {
    let mut check = false;
    let mut root = PathBuf::from(".");
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: gen-docs [--check] [REPOSITORY_ROOT]");
                return ExitCode::SUCCESS;
            }
            other => root = PathBuf::from(other),
        }
    }
    let pages = match docs::pages(&ImmutableProvider::default(), &root) {
        Ok(pages) => pages,
        Err(e) => {
            eprintln!("gen-docs: {e}");
            return ExitCode::from(2);
        }
    };
    if check {
        let stale = docs::stale(&root, &pages);
        for message in &stale {
            eprintln!("{message}");
        }
        return if stale.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    match docs::write(&root, &pages) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-docs: {e}");
            ExitCode::from(2)
        }
    }
}
