//! Writes a large, realistic Terraform configuration (a repository of `.tf` files) for
//! benchmarking `immutable-lint`'s configuration mode against checkov's HCL scan.
//!
//! ```text
//! gen-config [--files N] [--resources M] [--seed S] -o DIR
//! ```
//!
//! Defaults: 1,000 files, 10,000 resources, seed 1. The numbers of findings planted are
//! printed (and written to `DIR/.gen-config`), so a benchmark can check that a tool found all
//! of them. The output is a pure function of the arguments. DIR must not exist, be empty, or
//! hold an earlier output of gen-config (which is then replaced).
//!
//! The generator, and what the repository holds, is `immutable_bench::config_gen`; this file is
//! its command line.

use std::path::PathBuf;
use std::process::ExitCode;

use immutable_bench::cli::{self, ArgList};
use immutable_bench::config_gen::{generate, write_repository};

const PROGRAM: &str = "gen-config";
const USAGE: &str = "usage: gen-config [--files N] [--resources M] [--seed S] -o DIR";

struct Args {
    files: usize,
    resources: usize,
    seed: u64,
    output: PathBuf,
}

fn parse_args(args: &mut ArgList) -> Result<Args, String> {
    let (mut files, mut resources, mut seed, mut output) = (1000, 10_000, 1, None);
    while let Some(arg) = args.next_flag() {
        match arg.as_str() {
            "--files" => files = args.number("--files")?,
            "--resources" => resources = args.number("--resources")?,
            "--seed" => seed = args.number("--seed")?,
            "-o" | "--output" => output = Some(PathBuf::from(args.value("-o")?)),
            other => return Err(cli::refuse(other)),
        }
    }
    if files < 1 {
        return Err("--files must be at least 1".to_owned());
    }
    Ok(Args {
        files,
        resources,
        seed,
        output: output.ok_or("-o DIR is required")?,
    })
}

fn main() -> ExitCode {
    let args = match cli::parse_args(PROGRAM, USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let (files, planted) = generate(args.files, args.resources, args.seed);
    let result = write_repository(&args.output, &files, &planted).map(|()| {
        let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
        format!(
            "{} files, {} resources, {bytes} bytes -> {}\n{}",
            planted.files,
            planted.resources,
            args.output.display(),
            // finish ends the report with a newline
            planted.summary().trim_end()
        )
    });
    cli::finish(PROGRAM, &args.output.display(), result)
}
