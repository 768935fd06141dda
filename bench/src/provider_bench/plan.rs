//! No-op plans against moto: N fleets applied, then `terraform plan` timed and its AWS API
//! calls counted by action at the fault proxy.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use e2e::{Moto, TerraformWorkdir, hcl, http_request};

use super::stats::{Stats, stats};
use super::{Options, Result};

/// The call whose count the plan target is about.
const DESCRIBE_GROUPS: &str = "autoscaling:DescribeAutoScalingGroups";

/// What `--with-hooks-and-policies` adds to every fleet.
const PRODUCTION_SETTINGS: &str = "lifecycle_hook {
  name       = \"warm-up\"
  transition = \"launching\"
}
scaling_policy {
  name         = \"cpu\"
  metric       = \"cpu\"
  target_value = 50
}";

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

/// `plan`: times no-op plans of each of `--sizes` fleets and checks `--max-describe-groups`.
#[allow(
    clippy::print_stdout,
    reason = "the table is still printed when a limit fails"
)]
pub fn plan(options: &Options) -> Result<String> {
    if options.sizes.is_empty() {
        return Err("plan: --sizes is required".to_owned());
    }
    let moto = Moto::start();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for &fleets in &options.sizes {
        let row = plan_size(&moto, fleets, options.runs, options.hooks_and_policies)?;
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
fn plan_size(moto: &Moto, fleets: usize, runs: usize, hooks_and_policies: bool) -> Result<PlanRow> {
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
        .map(|i| {
            let mut fleet =
                hcl::Fleet::new(&format!("f{i}"), &format!("bench-{fleets}-{i}"), &subnets);
            if hooks_and_policies {
                PRODUCTION_SETTINGS.clone_into(&mut fleet.extra_hcl);
            }
            fleet
        })
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
