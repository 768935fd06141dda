//! End-to-end harness: the real Terraform CLI (1.0.3, from `.venv/`, or the one
//! `$IMMUTABLE_TERRAFORM` names: [`terraform_binary`]) drives `terraform-provider-immutable`
//! (from `target/`) against moto (from `.venv/`) on loopback.
//!
//! - [`Moto`] starts one moto per test process, behind a fault proxy, and guarantees it is
//!   stopped by PID when the process ends, however it ends.
//! - [`Faults`] (`moto.faults()`) injects errors, latency and unhealthy states and counts API
//!   calls, per access key id ([`TerraformWorkdir::with_access_key`]).
//! - [`TerraformWorkdir`] is a throw-away Terraform working directory wired to the provider
//!   binary through `dev_overrides` and to moto through the environment.
//! - [`Aws`] is a set of SDK clients pointed at moto, for assertions about what really exists.
//! - [`hcl`] writes `immutable_fleet` configurations; [`plan`] reads `terraform show -json`.
//!
//! Everything here panics on failure with the full context (command, exit code, stdout, stderr):
//! it is test support, and a failed precondition must stop the test loudly.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::print_stderr,
    reason = "test harness: failures are panics carrying their context, progress goes to the test's captured stderr"
)]

mod aws;
pub mod chaos;
mod faults;
pub mod hcl;
mod http;
mod https_static;
mod loopback;
mod moto;
pub mod plan;
pub mod rng;
pub mod sampler;
mod terraform;
pub mod timestamp;

use std::env;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub use aws::{ASG_NAME_TAG, Aws, FLEET_TAG, GENERATION_TAG, asg_tag};
pub use faults::{Faults, Rule, Service, TimedCall, format_calls};
pub use http::{HttpResponse, http_request};
pub use https_static::HttpsStaticServer;
pub use loopback::LoopbackServer;
pub use moto::{Moto, http_get_status};
pub use terraform::{RunningTerraform, TerraformWorkdir, TfOutput};
/// Source address of the provider under test (provider/src/main.rs, README.md); the key of the
/// `dev_overrides` entry.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/immutable-infra/immutable";
/// File name of the provider binary that `cargo build -p terraform-provider-immutable` produces.
pub const PROVIDER_BINARY: &str = "terraform-provider-immutable";
/// Region every test uses; moto's default VPC and AMIs live there.
pub const REGION: &str = "us-east-1";
/// Static credentials moto accepts; never valid anywhere else.
pub const TEST_ACCESS_KEY: &str = "testing";
pub const TEST_SECRET_KEY: &str = "testing";
/// A default AMI that moto ships (its own test image).
pub const MOTO_AMI: &str = "ami-12c6146b";
/// A second default AMI that moto ships, for image changes.
pub const MOTO_AMI_2: &str = "ami-03cf127a";

/// Root of the repository (the parent of this crate).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives in <repo>/tests")
}

/// The project-local virtualenv: `$IMMUTABLE_VENV` if set, else `<repo>/.venv`.
pub fn venv_dir() -> PathBuf {
    env::var_os("IMMUTABLE_VENV").map_or_else(|| repo_root().join(".venv"), PathBuf::from)
}

/// An executable of the virtualenv (`terraform`, `moto_server`, `python`), or a panic that says
/// how to create it. Never skips: a missing venv is a failed test, not a silent pass.
pub fn venv_tool(name: &str) -> PathBuf {
    venv_tool_in(&venv_dir(), name).unwrap_or_else(|message| panic!("{message}"))
}

/// [`venv_tool`] for an explicit virtualenv directory.
pub fn venv_tool_in(venv: &Path, name: &str) -> Result<PathBuf, String> {
    let path = venv.join("bin").join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} does not exist: run scripts/setup-venv.sh (it creates {} with Terraform 1.0.3 and moto)",
            path.display(),
            venv.display()
        ))
    }
}

/// Set to a Terraform executable to run every [`TerraformWorkdir`] with it instead of the
/// virtualenv's Terraform 1.0.3 (`scripts/test.sh` runs the lifecycle scenarios a second time
/// this way, with the newer Terraform on the machine's `PATH`). The harness's own checks
/// (`harness.rs`) assert 1.0.3 and fail under another version.
pub const TERRAFORM_ENV: &str = "IMMUTABLE_TERRAFORM";

/// The Terraform CLI the harness runs and its version, looked up once per process.
static TERRAFORM: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();

/// The Terraform executable every [`TerraformWorkdir`] runs: `$IMMUTABLE_TERRAFORM` if set, else
/// the virtualenv's (`.venv/bin/terraform`, 1.0.3). The first call runs `terraform version` and
/// prints the path and version once per process, past the test's output capture, so every run's
/// log says which Terraform it used. Panics if the executable is missing or is no Terraform.
pub fn terraform_binary() -> &'static Path {
    match TERRAFORM.get_or_init(find_terraform) {
        Ok((path, _)) => path,
        Err(message) => panic!("{message}"),
    }
}

/// `(major, minor)` of [`terraform_binary`]'s version, e.g. `(1, 0)` for 1.0.3: for the few
/// scenarios that use what newer versions add (`import` blocks from 1.5).
pub fn terraform_version() -> (u32, u32) {
    let version = match TERRAFORM.get_or_init(find_terraform) {
        Ok((_, version)) => version,
        Err(message) => panic!("{message}"),
    };
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn find_terraform() -> Result<(PathBuf, String), String> {
    let (path, source) = match env::var_os(TERRAFORM_ENV) {
        Some(path) if !path.is_empty() => (PathBuf::from(path), format!("${TERRAFORM_ENV}")),
        _ => (
            venv_tool_in(&venv_dir(), "terraform")?,
            format!("the virtualenv; ${TERRAFORM_ENV} chooses another"),
        ),
    };
    if !path.is_file() {
        return Err(format!(
            "{TERRAFORM_ENV}={} does not exist (unset it to use .venv's Terraform 1.0.3)",
            path.display()
        ));
    }
    // Hermetic: no CLI configuration, no update check, nothing from the caller's environment.
    let output = Command::new(&path)
        .arg("version")
        .env_clear()
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .env("HOME", scratch_dir())
        .output()
        .map_err(|err| format!("cannot run {} version: {err}", path.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let version = stdout
        .lines()
        .next()
        .and_then(|line| line.trim().strip_prefix("Terraform v"))
        .filter(|_| output.status.success())
        .map(str::to_owned)
        .ok_or_else(|| {
            format!(
                "{} (from {source}) is not a Terraform CLI: `version` exited {} and printed\n{stdout}{}",
                path.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    // Straight to the process's stderr, not through eprintln!, which the test harness captures:
    // the line must reach the log even when every test passes.
    let _ = writeln!(
        std::io::stderr().lock(),
        "[e2e] this test process runs Terraform {version}: {} (from {source})",
        path.display()
    );
    Ok((path, version))
}

/// The directory holding the provider binary, for `dev_overrides`.
///
/// Looked up in: `$IMMUTABLE_PROVIDER_DIR`; the profile directory of this test executable
/// (`<target>/debug`, which follows `CARGO_TARGET_DIR`); `$CARGO_TARGET_DIR/debug`;
/// `<repo>/target/debug`. Panics, saying how to build it, if none holds the binary.
pub fn provider_dir() -> PathBuf {
    provider_dir_from(&provider_dir_candidates()).unwrap_or_else(|message| panic!("{message}"))
}

/// The first of `candidates` that holds an executable named [`PROVIDER_BINARY`].
pub fn provider_dir_from(candidates: &[PathBuf]) -> Result<PathBuf, String> {
    candidates
        .iter()
        .find(|dir| dir.join(PROVIDER_BINARY).is_file())
        .cloned()
        .ok_or_else(|| {
            let searched: Vec<String> = candidates
                .iter()
                .map(|dir| format!("  {}", dir.join(PROVIDER_BINARY).display()))
                .collect();
            format!(
                "the provider binary was not found; run cargo build -p terraform-provider-immutable\nsearched:\n{}",
                searched.join("\n")
            )
        })
}

fn provider_dir_candidates() -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = env::var_os("IMMUTABLE_PROVIDER_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    // The test executable is <target>/<profile>/deps/e2e-<hash>.
    if let Ok(exe) = env::current_exe()
        && let Some(profile_dir) = exe.parent().and_then(Path::parent)
    {
        candidates.push(profile_dir.to_path_buf());
    }
    if let Some(target) = env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(target).join("debug"));
    }
    candidates.push(repo_root().join("target").join("debug"));
    candidates.dedup();
    candidates
}

/// Scratch space for work directories and logs: `<repo>/.e2e/` (git-ignored), so that a
/// failed test's directory is easy to find next to the code.
pub fn scratch_dir() -> PathBuf {
    let dir = repo_root().join(".e2e");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
    dir
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
pub fn free_loopback_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_or_else(
            |err| panic!("cannot bind a loopback port: {err}"),
            |addr| addr.port(),
        )
}
