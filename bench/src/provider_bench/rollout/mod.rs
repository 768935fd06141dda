//! A blue/green rollout of N fleets in one `terraform apply -parallelism=N` against moto (issue
//! #16): every fleet's image changes, so every fleet launches a new generation and waits in
//! its health gate at the same time. Measured at the fault proxy: every AWS call by action,
//! per second over the apply, and while only the gates run; and each gate's detection latency.
//!
//! The scenario, per size:
//!
//! 1. N fleets (min 1, max 2, desired 1; gate type `ELB`, `healthy_for = 0s`, timeout 20m), in
//!    target groups of `--per-target-group` fleets each (5 groups of 10 for 50 fleets), all
//!    watching one CloudWatch alarm (`rollout { alarms, assess_for = "0s" }`), are applied
//!    (not measured beyond its wall time and call count).
//! 2. A `target_health` rule reports every instance that exists now as kept and every other one
//!    (the new generations') `unhealthy` in DescribeTargetHealth, so no gate can pass.
//! 3. The image of every fleet changes and the apply starts (TF_LOG_PROVIDER=INFO into a log).
//!    Once the proxy has answered N CreateAutoScalingGroup calls (every new group exists), the
//!    harness waits `--hold-secs` more and removes the rule: that moment, T on the proxy's
//!    clock, is when every new instance satisfies its gate. The second half of the hold, when
//!    only gates run and each has settled into its steady polling (a gate's backoff reaches
//!    its 10 s ceiling 15.5 s ± 20 % after its first poll), gives the "gates waiting" rates.
//! 4. Detection latency of a fleet = its `<fleet>: gate passed` log line's timestamp − T.
//!    Terraform writes the provider's own timestamp (`timestamp=…`, UTC, from the provider's
//!    JSON log line); the proxy's clock is this machine's wall clock too.
//! 5. The same replacement (back to the first image) with `--throttle P`: every service's calls
//!    answered with its throttling error with probability P during the whole apply. Reported:
//!    exit code, fleets left on the new image (the rest were rolled back), calls, wall time.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use e2e::{
    MOTO_AMI, MOTO_AMI_2, Moto, Rule, Service, TerraformWorkdir, TimedCall, hcl, http_request,
};

use e2e::timestamp::parse_rfc3339;

use super::{Options, Result};

mod tables;

use self::tables::rollout_tables;
#[cfg(test)]
use self::tables::split_others;

/// Every gate's timeout: long enough for N gates held for `--hold-secs` on a busy machine.
const GATE_TIMEOUT: &str = "20m";
/// The longest the harness waits for every new group to be created.
const CREATE_TIMEOUT: Duration = Duration::from_mins(10);
/// How often the harness reads the proxy's timeline while it waits for the creates.
const POLL: Duration = Duration::from_millis(250);

/// The calls the table has a column for (the gate's reads), in column order.
const GATE_READS: [(&str, &str); 5] = [
    (
        "autoscaling:DescribeAutoScalingGroups",
        "DescribeAutoScalingGroups",
    ),
    (
        "elasticloadbalancing:DescribeTargetHealth",
        "DescribeTargetHealth",
    ),
    ("monitoring:DescribeAlarms", "DescribeAlarms"),
    (
        "elasticloadbalancing:DescribeTargetGroups",
        "DescribeTargetGroups",
    ),
    (
        "autoscaling:DescribeScalingActivities",
        "DescribeScalingActivities",
    ),
];

/// Which image a run moves the fleets to.
#[derive(Clone, Copy)]
enum Run {
    Replace,
    Throttled(f64),
}

impl Run {
    fn label(self) -> String {
        match self {
            Run::Replace => "replace".to_owned(),
            Run::Throttled(p) => format!("replace, {:.0} % throttled", p * 100.0),
        }
    }
}

/// What one measured apply did.
struct RunResult {
    fleets: usize,
    label: String,
    exit: Option<i32>,
    wall: Duration,
    /// Fleets whose state holds the run's image afterwards.
    replaced: usize,
    /// Fleets whose provider log says the new generation was rolled back.
    rolled_back: usize,
    /// Error diagnostics in Terraform's output (first lines, for the notes).
    errors: Vec<String>,
    calls: BTreeMap<String, u64>,
    throttled: u64,
    peak: Peak,
    /// Calls while only the gates ran: from the last CreateAutoScalingGroup to T.
    window: Window,
    /// How long before T the last new group was created (negative: after T, an invalid run).
    create_margin_s: f64,
    /// Gate passes after T, in seconds, sorted.
    latencies: Vec<f64>,
    /// Gates that passed before T (impossible unless the harness is broken).
    early: usize,
}

/// The busiest second of the apply.
struct Peak {
    calls: u64,
    gate_reads: u64,
    /// Seconds since the apply started.
    at_s: u64,
    /// The most gate reads in any one second.
    most_gate_reads: u64,
}

struct Window {
    secs: f64,
    calls: BTreeMap<String, u64>,
}

/// `rollout`: the scenario above for each of `--sizes`; with `--check`, fails unless every
/// apply completed as the design says (counts and completion only, never times).
#[allow(
    clippy::print_stdout,
    reason = "the table is still printed when a check fails"
)]
pub fn rollout(options: &Options) -> Result<String> {
    if options.sizes.is_empty() {
        return Err("rollout: --sizes is required".to_owned());
    }
    // What every workdir runs: `$IMMUTABLE_PROVIDER_DIR` (see `e2e::provider_dir`).
    let provider = e2e::provider_dir();
    eprintln!(
        "[rollout] provider: {}",
        provider.join(e2e::PROVIDER_BINARY).display()
    );
    let moto = Moto::start();
    let mut results = Vec::new();
    for &fleets in &options.sizes {
        results.extend(rollout_size(&moto, fleets, options)?);
    }
    let table = rollout_tables(&results);
    let failures: Vec<String> = if options.check {
        results.iter().flat_map(check).collect()
    } else {
        Vec::new()
    };
    if failures.is_empty() {
        Ok(table)
    } else {
        println!("{table}");
        Err(failures.join("\n"))
    }
}

/// What `--check` requires of one run.
fn check(run: &RunResult) -> Vec<String> {
    let mut failures = Vec::new();
    let name = format!("{} fleets, {}", run.fleets, run.label);
    if run.exit != Some(0) {
        failures.push(format!("{name}: terraform apply exited {:?}", run.exit));
    }
    if run.replaced != run.fleets {
        failures.push(format!(
            "{name}: {} of {} fleets on the new image ({} rolled back)",
            run.replaced, run.fleets, run.rolled_back
        ));
    }
    if run.latencies.len() != run.fleets || run.early > 0 {
        failures.push(format!(
            "{name}: {} gates passed after the targets turned healthy, {} before; expected {} and 0",
            run.latencies.len(),
            run.early,
            run.fleets
        ));
    }
    if run.create_margin_s < 0.0 {
        failures.push(format!(
            "{name}: the last new group was created {:.1}s after the targets turned healthy",
            -run.create_margin_s
        ));
    }
    failures
}

fn rollout_size(moto: &Moto, fleets: usize, options: &Options) -> Result<Vec<RunResult>> {
    let reset = http_request(moto.port(), "POST", "/moto-api/reset", &[], b"")
        .map_err(|e| format!("moto reset: {e}"))?;
    if reset.status != 200 {
        return Err(format!("moto reset answered {}", reset.status));
    }
    let aws = moto.aws();
    let subnets = aws.default_subnet_ids();
    let per_tg = options.per_target_group.max(1);
    let target_groups: Vec<String> = (0..fleets.div_ceil(per_tg))
        .map(|i| aws.create_target_group(&format!("bench-ro-{fleets}-tg{i}")))
        .collect();
    let alarm = format!("bench-rollout-{fleets}");
    aws.put_alarm(&alarm);
    aws.set_alarm_state(&alarm, "OK", "bench: the baseline is healthy");

    let key = format!("bench-rollout-{fleets}");
    let mut workdir = TerraformWorkdir::new(moto).with_access_key(&key);
    workdir.set_timeout(Duration::from_mins(40));
    let mut fleet_blocks: Vec<hcl::Fleet> = (0..fleets)
        .map(|i| {
            let mut fleet = hcl::Fleet::new(
                &format!("f{i}"),
                &format!("bench-ro-{fleets}-{i}"),
                &subnets,
            );
            fleet.max_size = 2;
            fleet.target_group_arns = vec![target_groups[i / per_tg].clone()];
            fleet.health_check = Some(hcl::HealthCheck {
                check_type: "ELB".to_owned(),
                timeout: GATE_TIMEOUT.to_owned(),
                ..hcl::HealthCheck::default()
            });
            fleet.rollout = Some(hcl::Rollout {
                assess_for: Some("0s".to_owned()),
                alarms: vec![alarm.clone()],
                ..hcl::Rollout::default()
            });
            fleet
        })
        .collect();
    write_config(&workdir, &fleet_blocks);
    let parallelism = format!("-parallelism={fleets}");
    let started = Instant::now();
    moto.faults().reset_calls(&key);
    workdir.apply(&[&parallelism]);
    let created_calls: u64 = moto.faults().calls(&key).values().sum();
    eprintln!(
        "[rollout] {fleets} fleets created in {:.1}s, {created_calls} calls",
        started.elapsed().as_secs_f64()
    );

    let mut results = Vec::new();
    let mut runs = vec![(Run::Replace, MOTO_AMI_2)];
    if let Some(p) = options.throttle.filter(|p| *p > 0.0) {
        runs.push((Run::Throttled(p), MOTO_AMI));
    }
    for (run, image) in runs {
        for fleet in &mut fleet_blocks {
            image.clone_into(&mut fleet.image_id);
        }
        write_config(&workdir, &fleet_blocks);
        results.push(measure(
            moto,
            &mut workdir,
            fleets,
            run,
            image,
            options.hold,
            options.logs.as_deref(),
        ));
    }
    Ok(results)
}

fn write_config(workdir: &TerraformWorkdir, fleets: &[hcl::Fleet]) {
    let refs: Vec<&hcl::Fleet> = fleets.iter().collect();
    workdir.write("main.tf", &hcl::config(&hcl::provider_block(), &refs));
}

/// One measured replacement of every fleet (see the module comment, steps 2–5).
fn measure(
    moto: &Moto,
    workdir: &mut TerraformWorkdir,
    fleets: usize,
    run: Run,
    image: &str,
    hold: Duration,
    logs: Option<&Path>,
) -> RunResult {
    let faults = moto.faults();
    let key = workdir.access_key().to_owned();
    let label = run.label();
    // Every instance that exists now keeps moto's `healthy`; the new generations' do not.
    let existing: Vec<String> = moto
        .aws()
        .all_instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    faults.clear(&key);
    faults.reset_calls(&key);
    let unhealthy = faults.add(
        &key,
        Rule::target_health(&existing, "unhealthy", "Target.FailedHealthChecks"),
    );
    if let Run::Throttled(p) = run {
        for service in [
            Service::Ec2,
            Service::AutoScaling,
            Service::Elbv2,
            Service::CloudWatch,
        ] {
            faults.add(&key, Rule::throttle(service).probability(p));
        }
    }
    let log = workdir
        .path()
        .join(format!("apply-{}.log", label.replace([' ', ',', '%'], "")));
    workdir.set_env("TF_LOG_PROVIDER", "INFO");
    workdir.set_env("TF_LOG_PATH", &log.display().to_string());
    let parallelism = format!("-parallelism={fleets}");
    eprintln!("[rollout] {fleets} fleets: {label}: apply");
    let started_at = SystemTime::now();
    let mut apply = workdir.spawn(&["apply", "-auto-approve", "-input=false", &parallelism]);
    let last_create = wait_for_creates(&faults, &key, &mut apply, fleets);
    let hold_until = last_create.unwrap_or_else(SystemTime::now) + hold;
    if let Ok(remaining) = hold_until.duration_since(SystemTime::now()) {
        thread::sleep(remaining);
    }
    let healthy_at = faults.remove(unhealthy);
    eprintln!(
        "[rollout] {fleets} fleets: {label}: new targets healthy {:.1}s into the apply",
        secs_between(started_at, healthy_at)
    );
    let output = apply.wait();
    workdir.set_env("TF_LOG_PROVIDER", "");
    workdir.set_env("TF_LOG_PATH", "");
    faults.clear(&key);

    let timeline = faults.timeline(&key);
    let calls = faults.calls(&key);
    eprintln!(
        "{}",
        e2e::format_calls(&format!("{fleets} fleets, {label}"), &calls)
    );
    let log_text = fs::read_to_string(&log).unwrap_or_default();
    if let Some(dir) = logs {
        let kept = dir.join(format!("rollout-{fleets}-{}", file_name(&log)));
        match fs::copy(&log, &kept) {
            Ok(_) => eprintln!("[rollout] provider log: {}", kept.display()),
            Err(e) => eprintln!(
                "[rollout] cannot copy {} to {}: {e}",
                log.display(),
                kept.display()
            ),
        }
    }
    if output.code != Some(0) {
        eprintln!("[rollout] {fleets} fleets: {label}: apply failed\n{output}");
    }
    let (latencies, early) = latencies(&log_text, healthy_at);
    // The second half of the hold: every gate past its backoff's ramp.
    let window_start = last_create.map_or(healthy_at, |at| at + hold / 2);
    RunResult {
        fleets,
        label,
        exit: output.code,
        wall: output.elapsed,
        replaced: fleets_on_image(workdir, image),
        rolled_back: rolled_back_fleets(&log_text),
        errors: output
            .stderr
            .lines()
            .chain(output.stdout.lines())
            .filter(|line| line.starts_with("Error: "))
            .map(str::to_owned)
            .collect(),
        throttled: u64::try_from(timeline.iter().filter(|c| c.faulted).count()).unwrap_or(0),
        peak: peak(&timeline, started_at),
        calls,
        window: Window {
            secs: secs_between(window_start, healthy_at).max(0.0),
            calls: count_between(&timeline, window_start, healthy_at),
        },
        create_margin_s: last_create.map_or(f64::NAN, |at| secs_between(at, healthy_at)),
        latencies,
        early,
    }
}

/// Waits until the proxy has answered `fleets` CreateAutoScalingGroup calls of `key` (answered
/// by moto, not by an injected error), or the apply ends, or [`CREATE_TIMEOUT`]; returns when
/// the last of them arrived.
fn wait_for_creates(
    faults: &e2e::Faults,
    key: &str,
    apply: &mut e2e::RunningTerraform,
    fleets: usize,
) -> Option<SystemTime> {
    let waited = Instant::now();
    loop {
        let creates: Vec<SystemTime> = faults
            .timeline(key)
            .iter()
            .filter(|c| c.action == "autoscaling:CreateAutoScalingGroup" && !c.faulted)
            .map(|c| c.at)
            .collect();
        if creates.len() >= fleets {
            return creates.iter().max().copied();
        }
        if !apply.is_running() || waited.elapsed() > CREATE_TIMEOUT {
            eprintln!(
                "[rollout] only {} of {fleets} new groups were created; apply running: {}",
                creates.len(),
                apply.is_running()
            );
            return creates.iter().max().copied();
        }
        thread::sleep(POLL);
    }
}

/// Each gate's pass − `healthy_at` in seconds, sorted, for the passes after it; and how many
/// passed before it.
fn latencies(log: &str, healthy_at: SystemTime) -> (Vec<f64>, usize) {
    let mut latencies: Vec<f64> = gate_passes(log)
        .values()
        .map(|at| secs_between(healthy_at, *at))
        .collect();
    let early = latencies.iter().filter(|l| **l < 0.0).count();
    latencies.retain(|l| *l >= 0.0);
    latencies.sort_by(f64::total_cmp);
    (latencies, early)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Seconds from `from` to `to` (negative when `to` is earlier).
fn secs_between(from: SystemTime, to: SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Calls by action received in `[from, to)`.
fn count_between(
    timeline: &[TimedCall],
    from: SystemTime,
    to: SystemTime,
) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for call in timeline.iter().filter(|c| c.at >= from && c.at < to) {
        *counts.entry(call.action.clone()).or_default() += 1;
    }
    counts
}

/// The busiest whole second since `start`, by all calls; with the gate reads of that second.
fn peak(timeline: &[TimedCall], start: SystemTime) -> Peak {
    let mut seconds: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for call in timeline {
        let second = call.at.duration_since(start).map_or(0, |d| d.as_secs());
        let bucket = seconds.entry(second).or_default();
        bucket.0 += 1;
        if is_gate_read(&call.action) {
            bucket.1 += 1;
        }
    }
    let most_gate_reads = seconds.values().map(|b| b.1).max().unwrap_or(0);
    seconds
        .iter()
        .max_by(|a, b| a.1.0.cmp(&b.1.0).then(b.0.cmp(a.0)))
        .map_or(
            Peak {
                calls: 0,
                gate_reads: 0,
                at_s: 0,
                most_gate_reads,
            },
            |(&at_s, &(calls, gate_reads))| Peak {
                calls,
                gate_reads,
                at_s,
                most_gate_reads,
            },
        )
}

fn is_gate_read(action: &str) -> bool {
    GATE_READS.iter().any(|(key, _)| *key == action)
}

/// Reads that are not the gate's (refresh listings, teardown waits, ...).
fn is_read(action: &str) -> bool {
    let name = action.rsplit(':').next().unwrap_or(action);
    ["Describe", "Get", "List"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// Fleet name → when its gate passed, from Terraform's log of the provider (`<fleet>: gate
/// passed`, the last one per fleet).
fn gate_passes(log: &str) -> BTreeMap<String, SystemTime> {
    let mut passes = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains(": gate passed")) {
        let Some(fleet) = field(line, "fleet=") else {
            continue;
        };
        // The provider's own timestamp; else the one Terraform put at the start of the line.
        let at = field(line, "timestamp=")
            .and_then(parse_rfc3339)
            .or_else(|| line.split_whitespace().next().and_then(parse_rfc3339));
        if let Some(at) = at {
            passes.insert(fleet.to_owned(), at);
        }
    }
    passes
}

/// Fleets whose provider log says the new generation was rolled back (`<fleet>: rolled back:`).
fn rolled_back_fleets(log: &str) -> usize {
    let mut fleets: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(": rolled back: "))
        .filter_map(|l| field(l, "fleet="))
        .collect();
    fleets.sort_unstable();
    fleets.dedup();
    fleets.len()
}

/// The value of `name` (e.g. `fleet=`) among the `key=value` fields of an hclog line.
fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name))
        .map(|value| value.trim_matches('"'))
}

/// How many fleets of the state have `image` (i.e. were not rolled back).
fn fleets_on_image(workdir: &TerraformWorkdir, image: &str) -> usize {
    let output = workdir.try_run(&["show", "-json"]);
    let Ok(state) = serde_json::from_str::<serde_json::Value>(&output.stdout) else {
        return 0;
    };
    e2e::plan::module_resources(&state["values"]["root_module"])
        .iter()
        .filter(|r| r["type"] == "immutable_fleet" && r["values"]["image_id"] == image)
        .count()
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn unix(t: SystemTime) -> f64 {
        t.duration_since(UNIX_EPOCH)
            .map_or(-1.0, |d| d.as_secs_f64())
    }

    #[test]
    fn gate_passes_come_from_the_provider_lines() {
        let log = "2026-12-06T03:50:01.000Z [INFO]  provider.terraform-provider-immutable: bench-1: 1/1 healthy: fleet=bench-1 timestamp=2026-12-06T03:50:00.900Z\n\
                   2026-12-06T03:50:02.000Z [INFO]  provider.terraform-provider-immutable: bench-1: gate passed: asg=bench-1-g2 fleet=bench-1 timestamp=2026-12-06T03:50:01.500Z\n\
                   2026-12-06T03:50:03.000Z [INFO]  provider.terraform-provider-immutable: bench-2: gate passed: asg=bench-2-g2 fleet=bench-2\n\
                   2026-12-06T03:50:04.000Z [INFO]  provider.terraform-provider-immutable: bench-3: rolled back: bench-3-g2 deleted: fleet=bench-3\n";
        let passes = gate_passes(log);
        assert_eq!(passes.len(), 2);
        let one = passes.get("bench-1").copied().map_or(-1.0, unix);
        assert!((one - 1_796_529_001.5).abs() < 1e-3, "{one}");
        let two = passes.get("bench-2").copied().map_or(-1.0, unix);
        assert!((two - 1_796_529_003.0).abs() < 1e-3, "{two}");
        assert_eq!(rolled_back_fleets(log), 1);
    }

    #[test]
    fn the_peak_is_the_busiest_second() {
        let start = UNIX_EPOCH + Duration::from_secs(100);
        let call = |ms: u64, action: &str| TimedCall {
            at: start + Duration::from_millis(ms),
            action: action.to_owned(),
            faulted: false,
        };
        let timeline = [
            call(100, "autoscaling:CreateAutoScalingGroup"),
            call(1_100, "autoscaling:DescribeAutoScalingGroups"),
            call(1_200, "monitoring:DescribeAlarms"),
            call(1_900, "ec2:RunInstances"),
            call(2_500, "autoscaling:DescribeAutoScalingGroups"),
        ];
        let peak = peak(&timeline, start);
        assert_eq!((peak.calls, peak.gate_reads, peak.at_s), (3, 2, 1));
        assert_eq!(peak.most_gate_reads, 2);
        let window = count_between(
            &timeline,
            start + Duration::from_secs(1),
            start + Duration::from_secs(2),
        );
        assert_eq!(window.values().sum::<u64>(), 3);
        let (reads, writes) = split_others(&BTreeMap::from([
            ("ec2:DescribeInstances".to_owned(), 2),
            ("ec2:RunInstances".to_owned(), 3),
            ("monitoring:DescribeAlarms".to_owned(), 5),
        ]));
        assert_eq!((reads, writes), (2, 3));
    }
}
