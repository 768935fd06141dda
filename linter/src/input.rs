//! Reading plan inputs: JSON files, standard input, and binary plan files (converted with
//! `terraform show -json`).

use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use miette::Diagnostic;

use crate::plan::{HOW_TO_MAKE_A_PLAN, strip_wrapper_noise};

/// A binary plan file is a zip archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// A plan's text, ready to parse.
#[derive(Debug)]
pub struct PlanInput {
    /// How the plan was named on the command line (`<stdin>` for `-`).
    pub name: String,
    pub text: String,
    /// The JSON document within `text` (CI wrappers may add lines around it).
    pub json: Range<usize>,
    /// Converted from a binary plan with this command.
    pub converted_by: Option<String>,
}

/// Why an input could not be read. Exit status 2.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum InputError {
    #[error("cannot read {name}")]
    #[diagnostic(code(input::read))]
    Unreadable {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name}: not UTF-8 text (invalid byte at offset {offset})")]
    #[diagnostic(
        code(input::encoding),
        help("expected the JSON output of `terraform show -json`; run `{HOW_TO_MAKE_A_PLAN}`")
    )]
    NotUtf8 { name: String, offset: usize },
    #[error("{name} is a binary plan file and `{bin}` was not found")]
    #[diagnostic(
        code(input::terraform_missing),
        help(
            "convert it where Terraform is installed and the configuration is initialised: \
             `terraform show -json {name} > plan.json`, then lint plan.json; \
             or pass --terraform-bin PATH (e.g. --terraform-bin tofu)"
        )
    )]
    TerraformMissing { name: String, bin: String },
    #[error("`{command}` failed ({status}): {stderr}")]
    #[diagnostic(
        code(input::terraform_failed),
        help(
            "run it in the directory where `terraform plan` ran (or pass --source DIR), after `terraform init`"
        )
    )]
    TerraformFailed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("a binary plan cannot be read from standard input")]
    #[diagnostic(
        code(input::binary_stdin),
        help("pass the plan file's path instead of `-`")
    )]
    BinaryOnStdin,
}

/// Reads one plan argument. `workdir` is where `terraform show` runs for binary plans.
pub fn read(
    arg: &str,
    terraform_bin: &str,
    workdir: Option<&Path>,
) -> Result<PlanInput, InputError> {
    let (name, bytes) = if arg == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|source| InputError::Unreadable {
                name: "<stdin>".to_owned(),
                source,
            })?;
        if bytes.starts_with(ZIP_MAGIC) {
            return Err(InputError::BinaryOnStdin);
        }
        ("<stdin>".to_owned(), bytes)
    } else {
        let bytes = std::fs::read(arg).map_err(|source| InputError::Unreadable {
            name: arg.to_owned(),
            source,
        })?;
        (arg.to_owned(), bytes)
    };
    let mut converted_by = None;
    let bytes = if bytes.starts_with(ZIP_MAGIC) {
        let (json, command) = show_json(arg, terraform_bin, workdir)?;
        converted_by = Some(command);
        json
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        name: name.clone(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let json = strip_wrapper_noise(&text);
    Ok(PlanInput {
        name,
        text,
        json,
        converted_by,
    })
}

/// Runs `BIN show -json PLAN` and returns its standard output.
fn show_json(
    plan: &str,
    bin: &str,
    workdir: Option<&Path>,
) -> Result<(Vec<u8>, String), InputError> {
    let absolute: PathBuf = std::path::absolute(plan).unwrap_or_else(|_| PathBuf::from(plan));
    let command = format!("{bin} show -json {plan}");
    tracing::info!("converting binary plan: {command}");
    let mut cmd = Command::new(bin);
    cmd.args(["show", "-json", "-no-color"]).arg(&absolute);
    if let Some(dir) = workdir {
        cmd.current_dir(dir);
    }
    let output = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            InputError::TerraformMissing {
                name: plan.to_owned(),
                bin: bin.to_owned(),
            }
        }
        _ => InputError::TerraformFailed {
            command: command.clone(),
            status: "could not start".to_owned(),
            stderr: e.to_string(),
        },
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .rev()
            .take(12)
            .collect();
        let stderr = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
        return Err(InputError::TerraformFailed {
            command,
            status: output.status.to_string(),
            stderr,
        });
    }
    Ok((output.stdout, command))
}
