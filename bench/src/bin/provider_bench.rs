//! Provider benchmarks (issue #5): exec → handshake line, `terraform providers schema -json`,
//! and no-op `terraform plan` of N fleets against moto with AWS API calls counted by action.
//!
//! Run by `scripts/bench-provider.sh`, which builds the binaries, lays out the filesystem
//! mirror and assembles `bench/results/provider.md`. Each subcommand prints one markdown
//! table on stdout (progress on stderr) and exits non-zero if anything fails to run.
//!
//! ```text
//! provider_bench handshake --runs N LABEL=BINARY...
//! provider_bench schema --runs N --mirror DIR [--terraform BIN] LABEL=SOURCE@VERSION...
//! provider_bench plan --runs N --sizes 1,10,100 [--max-describe-groups FLEETS=CALLS]...
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line benchmark: tables on stdout, progress on stderr"
)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use e2e::{Moto, TerraformWorkdir, hcl, http_request};

/// go-plugin's magic cookie for Terraform providers (Terraform's internal/plugin/serve.go,
/// `Handshake`).
const MAGIC_COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// The call whose count the plan target is about.
const DESCRIBE_GROUPS: &str = "autoscaling:DescribeAutoScalingGroups";

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("handshake") => handshake(&args[1..]),
        Some("schema") => schema(&args[1..]),
        Some("plan") => plan(&args[1..]),
        _ => Err(
            "usage: provider_bench handshake|schema|plan [--runs N] ... (see the source header)"
                .to_owned(),
        ),
    };
    match result {
        Ok(table) => {
            println!("{table}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("provider_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Options shared by the subcommands, plus the positional `LABEL=VALUE` pairs.
#[derive(Debug, Default)]
struct Options {
    runs: usize,
    mirror: Option<PathBuf>,
    terraform: Option<PathBuf>,
    sizes: Vec<usize>,
    /// Fleets → the most DescribeAutoScalingGroups calls a no-op plan of that many may make.
    limits: BTreeMap<usize, u64>,
    targets: Vec<(String, String)>,
}

fn parse_options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        runs: 10,
        ..Options::default()
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--runs" => options.runs = parse_number(&value("--runs")?)?,
            "--mirror" => options.mirror = Some(PathBuf::from(value("--mirror")?)),
            "--terraform" => options.terraform = Some(PathBuf::from(value("--terraform")?)),
            "--sizes" => {
                options.sizes = value("--sizes")?
                    .split(',')
                    .map(parse_number)
                    .collect::<Result<_>>()?;
            }
            "--max-describe-groups" => {
                let spec = value("--max-describe-groups")?;
                let (fleets, calls) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--max-describe-groups {spec:?}: expected N=CALLS"))?;
                options
                    .limits
                    .insert(parse_number(fleets)?, parse_number(calls)?);
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            pair => {
                let (label, target) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("{pair:?}: expected LABEL=VALUE"))?;
                options.targets.push((label.to_owned(), target.to_owned()));
            }
        }
    }
    if options.runs == 0 {
        return Err("--runs must be at least 1".to_owned());
    }
    Ok(options)
}

fn parse_number<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a non-negative integer"))
}

/// Median and minimum of a sample, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Stats {
    median_ms: f64,
    min_ms: f64,
}

fn stats(samples: &[Duration]) -> Stats {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let median_ms = match ms.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => ms[n / 2],
        n => f64::midpoint(ms[n / 2 - 1], ms[n / 2]),
    };
    Stats {
        median_ms,
        min_ms: ms.first().copied().unwrap_or(f64::NAN),
    }
}

// ---------------------------------------------------------------------------------------------
// exec → handshake line

/// A client certificate shaped like go-plugin's AutoMTLS one (ECDSA P-521, self-signed CA for
/// `localhost`), so the servers do the same certificate work they do under Terraform.
fn client_cert_pem() -> Result<String> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    };
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned()]).map_err(|e| e.to_string())?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(cert.pem())
}

/// Execs `binary` with the environment Terraform gives a plugin and returns the time until
/// its first stdout line, and that line. The process is then killed by its PID.
fn time_handshake(
    binary: &Path,
    scratch: &Path,
    client_cert: Option<&str>,
) -> Result<(Duration, String)> {
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        // Both servers put their Unix socket here; killed servers leave it behind.
        .env("TMPDIR", scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(pem) = client_cert {
        command.env("PLUGIN_CLIENT_CERT", pem);
    }
    let started = Instant::now();
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot exec {}: {e}", binary.display()))?;
    let mut line = String::new();
    let read = match child.stdout.take() {
        Some(stdout) => BufReader::new(stdout).read_line(&mut line),
        None => Ok(0),
    };
    let elapsed = started.elapsed();
    // Kill by PID, then reap; an error means it already exited, which the line check reports.
    let _ = child.kill();
    let _ = child.wait();
    read.map_err(|e| format!("{}: reading stdout: {e}", binary.display()))?;
    Ok((elapsed, line.trim_end().to_owned()))
}

/// Checks the go-plugin handshake line (`1|APPVER|NETWORK|ADDR|grpc|CERT`).
fn check_handshake(line: &str, tls: bool) -> Result<()> {
    let fields: Vec<&str> = line.split('|').collect();
    let shaped = fields.len() == 6
        && fields[0] == "1"
        && matches!(fields[2], "unix" | "tcp")
        && fields[4] == "grpc"
        && (fields[5].len() > 50) == tls;
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "not a {} handshake line: {line:?}",
            if tls { "TLS" } else { "plaintext" }
        ))
    }
}

fn handshake(args: &[String]) -> Result<String> {
    let options = parse_options(args)?;
    if options.targets.is_empty() {
        return Err("handshake: give at least one LABEL=BINARY".to_owned());
    }
    let scratch = tempfile::Builder::new()
        .prefix("handshake-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let pem = client_cert_pem()?;

    // The cost of exec and of reading one line, whatever the program: the floor.
    let mut floor = Vec::new();
    for _ in 0..options.runs {
        let started = Instant::now();
        let status = Command::new("/bin/echo")
            .arg("1|5|unix|/x|grpc|")
            .stdout(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot exec /bin/echo: {e}"))?;
        floor.push(started.elapsed());
        if !status.status.success() {
            return Err("/bin/echo failed".to_owned());
        }
    }

    let mut rows = Vec::new();
    for (label, binary) in &options.targets {
        for tls in [true, false] {
            let mut samples = Vec::new();
            // One unmeasured run: page cache and dynamic loading, as for Terraform's 2nd start.
            for run in 0..=options.runs {
                let (elapsed, line) = time_handshake(
                    Path::new(binary),
                    scratch.path(),
                    tls.then_some(pem.as_str()),
                )?;
                check_handshake(&line, tls).map_err(|e| format!("{label}: {e}"))?;
                if run > 0 {
                    samples.push(elapsed);
                }
            }
            let s = stats(&samples);
            eprintln!(
                "[handshake] {label} tls={tls}: median {:.2} ms, min {:.2} ms",
                s.median_ms, s.min_ms
            );
            rows.push((label.clone(), tls, s));
        }
    }

    let reference = options.targets.last().map(|(label, _)| label.clone());
    let mut table = format!(
        "| binary | mTLS | runs | median ms | min ms | ratio to {} (same mTLS) |\n|---|---|---|---|---|---|\n",
        reference.as_deref().unwrap_or("-")
    );
    for (label, tls, s) in &rows {
        let base = rows
            .iter()
            .find(|(l, t, _)| Some(l) == reference.as_ref() && t == tls)
            .map_or(f64::NAN, |(_, _, b)| b.median_ms);
        let _ = writeln!(
            table,
            "| {label} | {} | {} | {:.2} | {:.2} | {:.2} |",
            if *tls { "yes" } else { "no" },
            options.runs,
            s.median_ms,
            s.min_ms,
            s.median_ms / base
        );
    }
    let f = stats(&floor);
    let _ = writeln!(
        table,
        "| exec floor (/bin/echo, one line) | - | {} | {:.2} | {:.2} | - |",
        options.runs, f.median_ms, f.min_ms
    );
    Ok(table)
}

// ---------------------------------------------------------------------------------------------
// terraform providers schema -json

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

fn schema(args: &[String]) -> Result<String> {
    let options = parse_options(args)?;
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

// ---------------------------------------------------------------------------------------------
// no-op plans against moto

/// One plan size's result.
struct PlanRow {
    fleets: usize,
    wall: Stats,
    /// Calls per action, mean over the runs rounded up (`calls_vary` says when runs differed).
    calls: BTreeMap<String, u64>,
    min_describe_groups: u64,
    max_describe_groups: u64,
    calls_vary: bool,
}

fn plan(args: &[String]) -> Result<String> {
    let options = parse_options(args)?;
    if options.sizes.is_empty() {
        return Err("plan: --sizes is required".to_owned());
    }
    let moto = Moto::start();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for &fleets in &options.sizes {
        let row = plan_size(&moto, fleets, options.runs)?;
        if let Some(&limit) = options.limits.get(&fleets)
            && row.max_describe_groups > limit
        {
            failures.push(format!(
                "a no-op plan of {fleets} fleets made {} DescribeAutoScalingGroups calls; the design allows {limit}",
                row.max_describe_groups
            ));
        }
        rows.push(row);
    }
    let table = plan_table(&rows, options.runs);
    if failures.is_empty() {
        Ok(table)
    } else {
        println!("{table}");
        Err(failures.join("\n"))
    }
}

/// Applies `fleets` fleets to an emptied moto, then times `runs` no-op plans and counts their
/// API calls (the access key `bench-plan-<fleets>` scopes the counts).
fn plan_size(moto: &Moto, fleets: usize, runs: usize) -> Result<PlanRow> {
    // A fresh account per size: the counts are then those of exactly `fleets` fleets.
    let reset = http_request(moto.port(), "POST", "/moto-api/reset", &[], b"")
        .map_err(|e| format!("moto reset: {e}"))?;
    if reset.status != 200 {
        return Err(format!("moto reset answered {}", reset.status));
    }
    let faults = moto.faults();
    // Subnet ids change with every reset.
    let subnets = moto.aws().default_subnet_ids();
    let key = format!("bench-plan-{fleets}");
    let mut workdir = TerraformWorkdir::new(moto).with_access_key(&key);
    workdir.set_timeout(Duration::from_mins(30));
    let fleet_blocks: Vec<hcl::Fleet> = (0..fleets)
        .map(|i| hcl::Fleet::new(&format!("f{i}"), &format!("bench-{fleets}-{i}"), &subnets))
        .collect();
    let refs: Vec<&hcl::Fleet> = fleet_blocks.iter().collect();
    workdir.write("main.tf", &hcl::config(&hcl::provider_block(), &refs));
    let started = Instant::now();
    workdir.apply(&[]);
    eprintln!(
        "[plan] {fleets} fleets applied in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    let mut samples = Vec::new();
    let mut per_run: Vec<BTreeMap<String, u64>> = Vec::new();
    for _ in 0..runs {
        faults.reset_calls(&key);
        let output = workdir.run_expecting(&["plan", "-input=false", "-detailed-exitcode"], &[0]);
        samples.push(output.elapsed);
        per_run.push(faults.calls(&key));
    }
    let mut calls: BTreeMap<String, u64> = BTreeMap::new();
    for run in &per_run {
        for (action, n) in run {
            *calls.entry(action.clone()).or_default() += n;
        }
    }
    let runs = u64::try_from(runs).unwrap_or(1);
    for n in calls.values_mut() {
        *n = n.div_ceil(runs);
    }
    let describe_groups: Vec<u64> = per_run
        .iter()
        .map(|run| run.get(DESCRIBE_GROUPS).copied().unwrap_or(0))
        .collect();
    eprintln!(
        "{}",
        e2e::format_calls(
            &format!("no-op plan of {fleets} fleets, mean per run"),
            &calls
        )
    );
    Ok(PlanRow {
        fleets,
        wall: stats(&samples),
        calls,
        min_describe_groups: describe_groups.iter().copied().min().unwrap_or(0),
        max_describe_groups: describe_groups.iter().copied().max().unwrap_or(0),
        calls_vary: per_run.windows(2).any(|w| w[0] != w[1]),
    })
}

fn plan_table(rows: &[PlanRow], runs: usize) -> String {
    let mut table = String::from(
        "| fleets | runs | median wall s | min wall s | DescribeAutoScalingGroups per run (min–max) | all calls per run (mean) | calls by action (mean per run) |\n|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let by_action: Vec<String> = row
            .calls
            .iter()
            .map(|(action, n)| format!("{action} {n}"))
            .collect();
        let _ = writeln!(
            table,
            "| {} | {runs} | {:.2} | {:.2} | {}–{} | {} | {}{} |",
            row.fleets,
            row.wall.median_ms / 1e3,
            row.wall.min_ms / 1e3,
            row.min_describe_groups,
            row.max_describe_groups,
            row.calls.values().sum::<u64>(),
            by_action.join(", "),
            if row.calls_vary {
                " (counts varied between runs)"
            } else {
                ""
            },
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_samples() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|m| Duration::from_millis(*m))
                .collect::<Vec<_>>()
        };
        assert!((stats(&ms(&[5, 1, 3])).median_ms - 3.0).abs() < 1e-9);
        assert!((stats(&ms(&[4, 1, 3, 2])).median_ms - 2.5).abs() < 1e-9);
        assert!((stats(&ms(&[4, 1])).min_ms - 1.0).abs() < 1e-9);
    }

    #[test]
    fn handshake_lines_are_checked_for_tls() {
        let cert = "A".repeat(60);
        assert!(check_handshake(&format!("1|5|unix|/tmp/p|grpc|{cert}"), true).is_ok());
        assert!(check_handshake("1|5|unix|/tmp/p|grpc|", false).is_ok());
        assert!(check_handshake("1|5|unix|/tmp/p|grpc|", true).is_err());
        assert!(check_handshake("This binary is a plugin", false).is_err());
    }

    #[test]
    fn limits_parse_as_fleets_equals_calls() {
        let args: Vec<String> = ["--sizes", "1,10", "--max-describe-groups", "10=1", "a=b"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let options = parse_options(&args).unwrap_or_default();
        assert_eq!(options.sizes, [1, 10]);
        assert_eq!(options.limits.get(&10), Some(&1));
        assert_eq!(options.targets, [("a".to_owned(), "b".to_owned())]);
        assert!(parse_options(&["--runs".to_owned(), "0".to_owned()]).is_err());
    }
}
