//! `chaos`: the seeded fault campaign (issue #16). Run it through `scripts/chaos.sh`, which
//! builds it and the provider and sets up the virtualenv.
//!
//! ```text
//! chaos [--runs N] [--seed S] [--jobs K]   seeds S, S+1, …, S+N-1 (default: 10 runs from 1)
//! chaos --replay S                         the one scenario of seed S
//! chaos --seeds 3,17,42                    these seeds
//! ```
//!
//! Exits 0 when every run kept every invariant, 1 otherwise (the table says which seeds), 2 on
//! a usage error.

use std::process::ExitCode;

use e2e::Moto;
use e2e::chaos::run_campaign;

const USAGE: &str = "usage: chaos [--runs N] [--seed S] [--jobs K] | --replay S | --seeds S1,S2,…";

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: the table goes to stdout, progress to stderr"
)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (seeds, jobs) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("chaos: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "[chaos] {} run(s), {jobs} at a time, seeds {:?}",
        seeds.len(),
        seeds
    );
    let moto = Moto::start();
    let report = run_campaign(&moto, &seeds, jobs);
    drop(moto);
    println!("{report}");
    if report.failed_seeds().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn parse(args: &[String]) -> Result<(Vec<u64>, usize), String> {
    let mut runs: u64 = 10;
    let mut seed: u64 = 1;
    let mut jobs: usize = 1;
    let mut list: Option<Vec<u64>> = None;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .ok_or_else(|| format!("{flag} needs a value"))
                .cloned()
        };
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: {text:?} is not a number"))
        };
        match flag.as_str() {
            "--runs" => runs = number(value()?)?,
            "--seed" => seed = number(value()?)?,
            "--jobs" => jobs = usize::try_from(number(value()?)?).unwrap_or(1),
            "--replay" => list = Some(vec![number(value()?)?]),
            "--seeds" => {
                list = Some(
                    value()?
                        .split(',')
                        .map(|s| number(s.trim().to_owned()))
                        .collect::<Result<_, _>>()?,
                );
            }
            "-h" | "--help" => return Err("help".to_owned()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let seeds = list.unwrap_or_else(|| (seed..seed.saturating_add(runs)).collect());
    if seeds.is_empty() {
        return Err("no runs".to_owned());
    }
    Ok((seeds, jobs.max(1)))
}
