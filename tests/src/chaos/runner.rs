//! Plays one scenario end to end: the fleet's creation, each change with its faults (and a
//! re-apply after a crash), a clean final apply, the convergence checks and a destroy. Every
//! apply is sampled every 200 ms and checked against the invariants.

use std::collections::BTreeMap;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::convergence::{self, Expected};
use super::inject::{self, Injected, Target};
use super::invariants::{self, Invariant, Violation, tail};
use super::scenario::{Config, Fault, Scenario};
use crate::hcl;
use crate::sampler::FleetProbe;
use crate::{Aws, Faults, Moto, TerraformWorkdir, TfOutput, scratch_dir};

/// How often the sampler reads moto while an apply runs.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// What one run found.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub seed: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<&'static str, u32>,
    /// Faults drawn but never injected (the apply ended first, or nothing to act on).
    pub skipped: u32,
    pub violations: Vec<Violation>,
    /// The run could not be played to its end (a harness failure, not an invariant).
    pub error: Option<String>,
    pub applies: u32,
    pub elapsed: Duration,
    /// Where its logs were kept (failed runs only).
    pub kept: Option<PathBuf>,
}

impl RunReport {
    pub fn failed(&self) -> bool {
        !self.violations.is_empty() || self.error.is_some()
    }
}

/// Plays the scenario of `seed` against `moto` and reports it. Never panics: a harness
/// failure is the report's `error`.
pub fn run_seed(moto: &Moto, seed: u64) -> RunReport {
    let started = Instant::now();
    let scenario = Scenario::generate(seed);
    say(seed, &scenario.to_string());
    let dir = scratch_dir().join("chaos").join(format!("seed-{seed}"));
    let _ = fs::remove_dir_all(&dir);
    let mut report = RunReport {
        seed,
        ..RunReport::default()
    };
    if let Err(err) = fs::create_dir_all(&dir) {
        report.error = Some(format!("cannot create {}: {err}", dir.display()));
        return report;
    }
    let played = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut run = Run::new(moto, &scenario, dir.clone());
        run.play(&mut report);
        run.cleanup(&mut report);
    }));
    if let Err(payload) = played {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned());
        report.error = Some(tail(&message, 2000));
        best_effort_destroy(moto, &scenario, &dir);
    }
    report.elapsed = started.elapsed();
    if report.failed() || std::env::var_os("CHAOS_KEEP_LOGS").is_some() {
        report.kept = Some(dir);
    } else {
        let _ = fs::remove_dir_all(&dir);
    }
    let verdict = if report.failed() { "FAILED" } else { "ok" };
    say(
        seed,
        &format!(
            "{verdict} after {:.1}s, {} applies, faults {:?}, {} skipped, {} violation(s){}",
            report.elapsed.as_secs_f64(),
            report.applies,
            report.faults,
            report.skipped,
            report.violations.len(),
            report
                .error
                .as_deref()
                .map(|e| format!(", harness error: {e}"))
                .unwrap_or_default()
        ),
    );
    for violation in &report.violations {
        say(seed, &format!("VIOLATION {violation}"));
    }
    if report.failed() {
        say(
            seed,
            &format!(
                "seed={seed} failed; logs in {}; replay: scripts/chaos.sh --replay {seed}",
                report
                    .kept
                    .as_ref()
                    .map_or_else(String::new, |d| d.display().to_string())
            ),
        );
    }
    report
}

/// A line of the run's log, prefixed with its seed (runs interleave with `--jobs`).
pub fn say(seed: u64, text: &str) {
    for line in text.lines() {
        eprintln!("[chaos seed={seed}] {line}");
    }
}

struct Run<'a> {
    moto: &'a Moto,
    scenario: &'a Scenario,
    aws: Aws,
    faults: Faults,
    key: String,
    view_key: String,
    subnets: Vec<String>,
    target_group: Option<String>,
    alarm: Option<String>,
    workdir: TerraformWorkdir,
    dir: PathBuf,
    applies: u32,
}

impl<'a> Run<'a> {
    fn new(moto: &'a Moto, scenario: &'a Scenario, dir: PathBuf) -> Self {
        let aws = moto.aws();
        let key = format!("chaos-{}", scenario.seed);
        let view_key = format!("chaos-{}-view", scenario.seed);
        let faults = moto.faults();
        for scope in [&key, &view_key] {
            faults.clear(scope);
            faults.reset_calls(scope);
        }
        let subnets: Vec<String> = aws.default_subnet_ids().into_iter().take(2).collect();
        let target_group = scenario
            .settings
            .target_group
            .then(|| aws.create_target_group(&scenario.fleet));
        let alarm = scenario
            .settings
            .rollout
            .as_ref()
            .is_some_and(|r| r.alarm)
            .then(|| format!("{}-5xx", scenario.fleet));
        if let Some(alarm) = &alarm {
            aws.put_alarm(alarm);
            aws.set_alarm_state(alarm, "OK", "chaos: the baseline is healthy");
        }
        let mut workdir = TerraformWorkdir::new(moto).with_access_key(&key);
        // Provider lines at DEBUG reach the log: a panic's message is a raw stderr line, which
        // Terraform logs at DEBUG. The provider itself logs at INFO (RUST_LOG).
        workdir.set_env("TF_LOG_PROVIDER", "DEBUG");
        workdir.set_env("RUST_LOG", "info");
        Self {
            moto,
            scenario,
            aws,
            faults,
            key,
            view_key,
            subnets,
            target_group,
            alarm,
            workdir,
            dir,
            applies: 0,
        }
    }

    fn play(&mut self, report: &mut RunReport) {
        let first = self.scenario.first_config();
        let faults = self.scenario.create_faults.clone();
        let injected = self.apply("apply 0 (create)", &first, &faults, report);
        if injected.crashed {
            self.apply("apply 0 (re-apply after crash)", &first, &[], report);
        }
        let configs = self.scenario.configs();
        for (index, (step, config)) in self.scenario.steps.iter().zip(&configs).enumerate() {
            let label = format!("apply {}", index + 1);
            let injected = self.apply(&label, config, &step.faults, report);
            if injected.crashed {
                self.apply(
                    &format!("{label} (re-apply after crash)"),
                    config,
                    &[],
                    report,
                );
            }
        }
        let last = configs.last().unwrap_or(&first).clone();
        let output = {
            inject::clear(&self.target());
            if let Some(alarm) = &self.alarm {
                self.aws
                    .set_alarm_state(alarm, "OK", "chaos: the final apply runs without faults");
            }
            self.apply_output("final (clean apply)", &last, report)
        };
        if !output.success() {
            report.violations.push(Violation {
                invariant: Invariant::Convergence,
                apply: "final".to_owned(),
                detail: format!(
                    "the clean final apply failed (exit {:?}): {}",
                    output.code,
                    tail(&output.stderr, 1500)
                ),
            });
            return;
        }
        let address = hcl::Fleet::new("this", &self.scenario.fleet, &[]).address();
        let expected = Expected {
            fleet: &self.scenario.fleet,
            address: &address,
            image_id: &last.image_id,
            desired: last.desired,
            min_size: self.scenario.settings.min_size.min(last.desired),
            max_size: last.max_size,
            keep_previous: self
                .scenario
                .settings
                .rollout
                .as_ref()
                .is_some_and(|r| r.keep_previous),
        };
        let found = convergence::check(&self.aws, &self.workdir, &expected);
        say(
            self.scenario.seed,
            &format!("convergence: {} violation(s)", found.len()),
        );
        report.violations.extend(found);
    }

    fn target(&self) -> Target<'_> {
        Target {
            fleet: &self.scenario.fleet,
            faults: &self.faults,
            provider_scope: &self.key,
            view_scope: &self.view_key,
            aws: &self.aws,
            alarm: self.alarm.as_deref(),
            target_group: self.target_group.as_deref(),
            log: &self.dir,
        }
    }

    /// The final apply: no faults, the output returned.
    fn apply_output(&mut self, label: &str, config: &Config, report: &mut RunReport) -> TfOutput {
        self.apply_with(label, config, &[], report).0
    }

    fn apply(
        &mut self,
        label: &str,
        config: &Config,
        faults: &[Fault],
        report: &mut RunReport,
    ) -> Injected {
        self.apply_with(label, config, faults, report).1
    }

    /// One sampled apply of `config` with `faults`; its violations go into `report`.
    fn apply_with(
        &mut self,
        label: &str,
        config: &Config,
        faults: &[Fault],
        report: &mut RunReport,
    ) -> (TfOutput, Injected) {
        let seed = self.scenario.seed;
        let fleet = self.scenario.fleet_block(
            config,
            &self.subnets,
            self.target_group.as_deref(),
            self.alarm.as_deref(),
        );
        self.workdir
            .write("main.tf", &hcl::config(&hcl::provider_block(), &[&fleet]));
        let log = self.dir.join(format!("{:02}.log", self.applies));
        self.applies += 1;
        report.applies = self.applies;
        self.workdir
            .set_env("TF_LOG_PATH", &log.display().to_string());

        let mut probe = FleetProbe::new(&self.scenario.fleet);
        if let Some(arn) = &self.target_group {
            probe = probe.with_target_group(arn);
        }
        let sampler = probe.sample(self.moto.aws_as(&self.view_key, 3), SAMPLE_EVERY);
        sampler.wait_for("the first sample", Duration::from_mins(1), |_| true);
        let mut running = self
            .workdir
            .spawn(&["apply", "-auto-approve", "-input=false"]);
        let target = Target {
            log: &log,
            ..self.target()
        };
        let injected = inject::play(&target, faults, &mut running);
        let output = running.wait();
        let taken = sampler.finish();
        inject::clear(&target);
        if let Some(alarm) = &self.alarm {
            self.aws
                .set_alarm_state(alarm, "OK", "chaos: between applies");
        }
        let _ = fs::write(
            self.dir.join(format!("{:02}.out", self.applies - 1)),
            output.to_string(),
        );
        for (kind, count) in &injected.fired {
            *report.faults.entry(kind).or_default() += count;
        }
        report.skipped += injected.skipped;
        let log_text = fs::read_to_string(&log).unwrap_or_default();
        let full_label = format!("{label} [{}]", log.display());
        let found: Vec<Violation> = [
            invariants::capacity(
                &full_label,
                &taken,
                self.scenario.settings.min_healthy_percent,
                config.desired,
            ),
            invariants::no_panic(&full_label, &log_text, &output),
            invariants::diagnostic(&full_label, &output, &log_text, injected.crashed),
        ]
        .into_iter()
        .flatten()
        .collect();
        let serving: Vec<usize> = taken
            .iter()
            .map(|s| invariants::serving(&s.value).len())
            .collect();
        say(
            seed,
            &format!(
                "{label}: exit {:?} in {:.1}s, {} samples, serving min {} max {}, {} violation(s)",
                output.code,
                output.elapsed.as_secs_f64(),
                taken.len(),
                serving.iter().min().copied().unwrap_or(0),
                serving.iter().max().copied().unwrap_or(0),
                found.len()
            ),
        );
        for note in &injected.notes {
            say(seed, &format!("  fault {note}"));
        }
        if !output.success() {
            let errors: Vec<&str> = output
                .stderr
                .lines()
                .filter(|line| line.contains("Error: "))
                .collect();
            say(seed, &format!("  diagnostics: {}", errors.join(" / ")));
        }
        report.violations.extend(found);
        (output, injected)
    }

    /// Destroys the fleet (twice if need be) and removes the run's target group and alarm.
    fn cleanup(&mut self, report: &mut RunReport) {
        inject::clear(&self.target());
        self.workdir.set_env(
            "TF_LOG_PATH",
            &self.dir.join("destroy.log").display().to_string(),
        );
        let mut destroyed = false;
        for _ in 0..2 {
            let output = self
                .workdir
                .try_run(&["destroy", "-auto-approve", "-input=false"]);
            if output.success() {
                destroyed = true;
                break;
            }
        }
        let left = self.aws.fleet_asgs(&self.scenario.fleet).len();
        if !destroyed || left > 0 {
            report.error = Some(format!(
                "cleanup: destroy {}, {left} group(s) of the fleet left",
                if destroyed { "succeeded" } else { "failed" }
            ));
        }
        delete_extras(&self.aws, self.scenario, self.target_group.as_deref());
    }
}

/// After a harness failure: a destroy with a fresh working directory cannot know the state, so
/// delete the fleet's groups and templates directly, then the extras.
fn best_effort_destroy(moto: &Moto, scenario: &Scenario, dir: &std::path::Path) {
    let cleaned = panic::catch_unwind(AssertUnwindSafe(|| {
        let aws = moto.aws();
        for group in aws.fleet_asgs(&scenario.fleet) {
            if let Some(name) = group.auto_scaling_group_name() {
                aws.delete_asg(name);
            }
        }
        for template in aws.fleet_launch_templates(&scenario.fleet) {
            if let Some(id) = template.launch_template_id() {
                aws.delete_launch_template(id);
            }
        }
        let arn = scenario
            .settings
            .target_group
            .then(|| {
                aws.block_on(
                    aws.elbv2
                        .describe_target_groups()
                        .names(&scenario.fleet)
                        .send(),
                )
                .ok()
                .and_then(|out| {
                    out.target_groups()
                        .first()
                        .and_then(|tg| tg.target_group_arn().map(str::to_owned))
                })
            })
            .flatten();
        delete_extras(&aws, scenario, arn.as_deref());
    }));
    if cleaned.is_err() {
        say(
            scenario.seed,
            &format!(
                "could not clean up after the failure; see {}",
                dir.display()
            ),
        );
    }
}

fn delete_extras(aws: &Aws, scenario: &Scenario, target_group: Option<&str>) {
    if let Some(arn) = target_group {
        let _ = aws.block_on(aws.elbv2.delete_target_group().target_group_arn(arn).send());
    }
    let _ = aws.block_on(
        aws.cloudwatch
            .delete_alarms()
            .alarm_names(format!("{}-5xx", scenario.fleet))
            .send(),
    );
}
