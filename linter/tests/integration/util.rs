//! Helpers: run the linter in-process or as a process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Output of an in-process run.
pub struct Run {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `immutable-lint ARGS` in-process. Paths are relative to the crate root, which is
/// the working directory of integration tests.
pub fn run(args: &[&str]) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut command_line = vec!["immutable-lint"];
    command_line.extend_from_slice(args);
    let code = immutable_lint::cli::run(command_line, &mut out, &mut err);
    Run {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_immutable-lint"))
}

/// Runs the binary with `args` in `dir`, feeding `stdin`.
pub fn process(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(dir)
        .env_remove("IMMUTABLE_LINT_TERRAFORM")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        pipe.write_all(bytes).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> String {
    format!("tests/fixtures/{name}")
}
