//! Writes a large, realistic `terraform show -json` plan (format 1.2, one line, as Terraform
//! writes it) for benchmarking `immutable-lint`.
//!
//! ```text
//! gen-plan --resources N [--seed S] [--target-bytes B] -o FILE
//! ```
//!
//! Seed 1 by default. The output is a pure function of the arguments; `--target-bytes` pads
//! the tag maps so the file comes out near that size. What the plan holds, and how it is
//! streamed, is `immutable_bench::plan_gen`; this file is its command line.

use std::process::ExitCode;

use immutable_bench::cli::{self, ArgList};
use immutable_bench::plan_gen::write_plan;

const PROGRAM: &str = "gen-plan";
const USAGE: &str = "usage: gen-plan --resources N [--seed S] [--target-bytes B] -o FILE";

struct Args {
    resources: usize,
    seed: u64,
    target_bytes: Option<u64>,
    output: String,
}

fn parse_args(args: &mut ArgList) -> Result<Args, String> {
    let (mut resources, mut seed, mut target_bytes, mut output) = (None, 1, None, None);
    while let Some(arg) = args.next_flag() {
        match arg.as_str() {
            "--resources" => resources = Some(args.number("--resources")?),
            "--seed" => seed = args.number("--seed")?,
            "--target-bytes" => target_bytes = Some(args.number("--target-bytes")?),
            "-o" | "--output" => output = Some(args.value("-o")?),
            other => return Err(cli::refuse(other)),
        }
    }
    Ok(Args {
        resources: resources.ok_or("--resources is required")?,
        seed,
        target_bytes,
        output: output.ok_or("-o FILE is required")?,
    })
}

fn main() -> ExitCode {
    let args = match cli::parse_args(PROGRAM, USAGE, parse_args) {
        Ok(args) => args,
        Err(code) => return code,
    };
    let result =
        write_plan(&args.output, args.resources, args.seed, args.target_bytes).map(|bytes| {
            format!(
                "{} resources, {bytes} bytes -> {}",
                args.resources, args.output
            )
        });
    cli::finish(PROGRAM, &args.output, result)
}
