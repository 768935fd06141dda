//! Provider benchmarks (issue #5): exec → handshake line, `terraform providers schema -json`,
//! no-op `terraform plan` of N fleets against moto with AWS API calls counted by action, and a
//! rollout of N fleets in one apply (calls over time, gate detection latency, throttling).
//!
//! Run by `scripts/bench-provider.sh`, which builds the binaries, lays out the filesystem
//! mirror and assembles `bench/results/provider.md`. Each subcommand prints one markdown
//! table on stdout (progress on stderr) and exits non-zero if anything fails to run.
//! This file is the command line; what each subcommand measures, and how, is in
//! `immutable_bench::provider_bench` (`bench/src/provider_bench/`).
//!
//! ```text
//! provider_bench handshake --runs N LABEL=BINARY...
//! provider_bench schema --runs N --mirror DIR [--terraform BIN] LABEL=SOURCE@VERSION...
//! provider_bench plan --runs N --sizes 1,10,100 [--max-describe-groups FLEETS=CALLS]... [--with-hooks-and-policies]
//! provider_bench rollout --sizes 50 [--per-target-group 10] [--hold-secs 40] [--throttle 0.2] [--check] [--logs DIR]
//! ```
//!
//! `plan` and `rollout` run the provider in `$IMMUTABLE_PROVIDER_DIR` (`e2e::provider_dir`).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line benchmark: tables on stdout, progress on stderr"
)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use immutable_bench::provider_bench::{Options, Result, handshake, plan, rollout, schema};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("handshake") => parse_options(&args[1..]).and_then(|o| handshake(&o)),
        Some("schema") => parse_options(&args[1..]).and_then(|o| schema(&o)),
        Some("plan") => parse_options(&args[1..]).and_then(|o| plan(&o)),
        Some("rollout") => parse_options(&args[1..]).and_then(|o| rollout(&o)),
        _ => Err(
            "usage: provider_bench handshake|schema|plan|rollout [--runs N] ... (see the source header)"
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

fn parse_options(args: &[String]) -> Result<Options> {
    let mut options = Options {
        runs: 10,
        per_target_group: 10,
        hold: Duration::from_secs(40),
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
            "--with-hooks-and-policies" => options.hooks_and_policies = true,
            "--per-target-group" => {
                options.per_target_group = parse_number(&value("--per-target-group")?)?;
            }
            "--hold-secs" => {
                options.hold = Duration::from_secs(parse_number(&value("--hold-secs")?)?);
            }
            "--throttle" => {
                let text = value("--throttle")?;
                let p: f64 = text
                    .parse()
                    .map_err(|_| format!("--throttle {text:?}: expected a probability"))?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!(
                        "--throttle {text}: expected a probability from 0 to 1"
                    ));
                }
                options.throttle = Some(p);
            }
            "--check" => options.check = true,
            "--logs" => options.logs = Some(PathBuf::from(value("--logs")?)),
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

#[cfg(test)]
mod tests {
    use super::*;

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
