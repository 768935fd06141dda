//! terraform providers schema -json: each provider from one filesystem mirror, against
//! Terraform with no provider at all.

use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::stats::stats;
use super::{Options, Result};

/// A working directory whose only installation method is `mirror`, initialised for
/// `source@version` (or for no provider at all when `source` is empty).
fn schema_workdir(
    terraform_bin: &Path,
    root: &Path,
    label: &str,
    mirror: &Path,
    source: &str,
    version: &str,
) -> Result<PathBuf> {
    let dir = root.join(label.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let write = |path: PathBuf, text: String| {
        fs::create_dir_all(path.parent().unwrap_or(root))
            .and_then(|()| fs::write(&path, text))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(
        dir.join("cli.tfrc"),
        format!(
            "disable_checkpoint = true\nprovider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
            mirror.display().to_string()
        ),
    )?;
    let main_tf = if source.is_empty() {
        "# no providers: Terraform's own cost\n".to_owned()
    } else {
        let local = source.rsplit('/').next().unwrap_or("p");
        format!(
            "terraform {{\n  required_providers {{\n    {local} = {{\n      source  = {source:?}\n      version = {version:?}\n    }}\n  }}\n}}\n"
        )
    };
    write(dir.join("work").join("main.tf"), main_tf)?;
    let init = terraform(terraform_bin, &dir, &["init", "-input=false", "-no-color"])?;
    if !init.0.success() {
        return Err(format!("terraform init for {label} failed:\n{}", init.1));
    }
    Ok(dir)
}

/// Runs terraform in `<dir>/work` with a clean environment; returns status, output, time.
fn terraform(
    terraform_bin: &Path,
    dir: &Path,
    args: &[&str],
) -> Result<(std::process::ExitStatus, String, Duration)> {
    let started = Instant::now();
    let mut child = Command::new(terraform_bin)
        .args(args)
        .current_dir(dir.join("work"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", terraform_bin.display()))?;
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(|e| format!("terraform stdout: {e}"))?;
    }
    if let Some(mut err) = child.stderr.take() {
        err.read_to_string(&mut stderr)
            .map_err(|e| format!("terraform stderr: {e}"))?;
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for terraform: {e}"))?;
    Ok((status, format!("{stdout}\n{stderr}"), started.elapsed()))
}

/// `schema`: times `terraform providers schema -json` for each `LABEL=SOURCE@VERSION`.
pub fn schema(options: &Options) -> Result<String> {
    let mirror = options
        .mirror
        .clone()
        .ok_or("schema: --mirror DIR is required")?;
    let mirror = fs::canonicalize(&mirror).map_err(|e| format!("{}: {e}", mirror.display()))?;
    // The CLI itself by default: .venv/bin/terraform is a Python wrapper that adds its own
    // start-up to every command.
    let terraform_bin = options
        .terraform
        .clone()
        .unwrap_or_else(|| e2e::venv_dir().join("bin").join("terraform"));
    let root = tempfile::Builder::new()
        .prefix("schema-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;

    let mut targets = vec![("terraform alone (no provider)".to_owned(), String::new())];
    targets.extend(options.targets.iter().cloned());
    let mut dirs = Vec::new();
    for (label, spec) in &targets {
        let (source, version) = spec.split_once('@').unwrap_or((spec.as_str(), ""));
        dirs.push(schema_workdir(
            &terraform_bin,
            root.path(),
            label,
            &mirror,
            source,
            version,
        )?);
    }
    let mut samples = vec![Vec::new(); targets.len()];
    let mut bytes = vec![0; targets.len()];
    // Round-robin over the providers, so that a slow spell of this shared machine hits all.
    for run in 0..=options.runs {
        for (index, ((label, spec), dir)) in targets.iter().zip(&dirs).enumerate() {
            let source = spec.split_once('@').map_or(spec.as_str(), |(s, _)| s);
            let (status, output, elapsed) =
                terraform(&terraform_bin, dir, &["providers", "schema", "-json"])?;
            if !status.success() || !output.trim_start().starts_with('{') {
                return Err(format!(
                    "terraform providers schema -json for {label} failed:\n{output}"
                ));
            }
            if !source.is_empty() && !output.contains(source) {
                return Err(format!(
                    "the schema of {label} does not mention {source}:\n{output}"
                ));
            }
            bytes[index] = output.len();
            if run > 0 {
                samples[index].push(elapsed);
            }
        }
    }
    let mut rows = Vec::new();
    for (index, (label, _)) in targets.iter().enumerate() {
        let s = stats(&samples[index]);
        eprintln!(
            "[schema] {label}: median {:.1} ms ({} bytes)",
            s.median_ms, bytes[index]
        );
        rows.push((label.clone(), s, bytes[index]));
    }

    let floor = rows.first().map_or(f64::NAN, |(_, s, _)| s.median_ms);
    let reference = rows.last().map_or(f64::NAN, |(_, s, _)| s.median_ms);
    let reference_label = targets.last().map_or("-", |(label, _)| label.as_str());
    let mut table = format!(
        "| provider | runs | median ms | min ms | schema JSON bytes | ratio to {reference_label} | ratio above terraform alone |\n|---|---|---|---|---|---|---|\n"
    );
    for (label, s, bytes) in &rows {
        let _ = writeln!(
            table,
            "| {label} | {} | {:.1} | {:.1} | {bytes} | {:.2} | {:.2} |",
            options.runs,
            s.median_ms,
            s.min_ms,
            s.median_ms / reference,
            (s.median_ms - floor) / (reference - floor),
        );
    }
    Ok(table)
}
