//! `terraform-provider-immutable`: started by Terraform/OpenTofu, or by hand with `--debug`.

use std::process::ExitCode;
use std::time::Duration;

use tfplugin_server::{ServeConfig, check_magic_cookie, init_logging, serve};

const SOURCE_ADDRESS: &str = "registry.terraform.io/immutable-infra/immutable";
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[allow(
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "the only human-facing output"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!("terraform-provider-immutable {VERSION}");
        return ExitCode::SUCCESS;
    }
    let debug = args.iter().any(|a| a == "--debug");
    if let Some(unknown) = args.iter().find(|a| *a != "--debug") {
        eprintln!(
            "error: unknown argument {unknown:?}\nusage: terraform-provider-immutable [--debug | --version]"
        );
        return ExitCode::from(2);
    }
    if !debug && let Err(e) = check_magic_cookie() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    init_logging();
    // Names the build in every provider log (Terraform prefixes only the binary name).
    tracing::info!(
        version = VERSION,
        source = SOURCE_ADDRESS,
        "terraform-provider-immutable v{VERSION}"
    );
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = ServeConfig {
        provider_address: SOURCE_ADDRESS.to_owned(),
        debug,
        version: VERSION,
    };
    let result = runtime.block_on(serve(
        terraform_provider_immutable::provider_service(),
        config,
    ));
    // Terraform SIGKILLs 2 s after Shutdown: never let a stuck task hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Logging may already be torn down; stderr is what Terraform shows.
            eprintln!("terraform-provider-immutable: {e}");
            ExitCode::FAILURE
        }
    }
}
