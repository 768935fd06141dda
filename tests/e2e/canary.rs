//! The canary scenarios of issue #13: a `rollout` block (steps, `assess_for`, CloudWatch
//! alarms, `shrink_previous`, `keep_previous_for`) applied by the real Terraform CLI against
//! moto behind the fault proxy.
//!
//! Every scenario asserts on what moto holds, sampled every 200 ms by a background thread
//! ([`e2e::sampler`]) while `terraform apply` runs, not only on the end state. The sampler signs
//! with its own access key, so the scenario's faults and call counts stay its own. Durations
//! are small (`assess_for` of seconds, no bake), so the module runs in a few minutes; its
//! scenarios run in parallel with unique fleet, alarm and target group names.
//!
//! Times are never asserted as performance. The only time-based checks are lower bounds that
//! are part of the contract ("each step is held for `assess_for`"), computed so that a slow
//! machine can only make them pass more easily (see [`held_at_least`]).

use std::thread;
use std::time::{Duration, Instant};

use e2e::hcl::{Fleet, HealthCheck, Rollout};
use e2e::plan::{self, actions, replaces_because_of};
use e2e::sampler::{FleetProbe, FleetSnapshot, Sample, Sampler};
use e2e::{Faults, MOTO_AMI, RunningTerraform, TerraformWorkdir, TfOutput};

use crate::{Scenario, instance_ids, state_of, string_attr};

mod alarms;
mod interrupt;
mod park;
mod shrink;
mod steps;

/// The fleet's target capacity in every scenario: steps [25, 50] give 1 → 2 → 4.
const TARGET: i32 = 4;
/// How often the sampler reads moto.
const SAMPLE_EVERY: Duration = Duration::from_millis(200);
/// How long a scenario waits for a step to be reached.
const STEP_WAIT: Duration = Duration::from_mins(2);

/// One canary scenario: its fleet, working directory and fault scope.
struct Canary {
    scenario: Scenario,
    workdir: TerraformWorkdir,
    faults: Faults,
    key: &'static str,
    fleet: Fleet,
}

impl Canary {
    /// `access_key` scopes faults and counts; `fleet_name` is unique per scenario. The fleet:
    /// desired 4 (max 4), a gate without bake and a 1-minute timeout, and a `rollout` block of
    /// steps [25, 50] held 1 s each (scenarios lengthen `assess_for` for the rollout they
    /// watch).
    fn start(name: &'static str, access_key: &'static str, fleet_name: &str) -> Self {
        let scenario = Scenario::start(name);
        let mut workdir = scenario.workdir().with_access_key(access_key);
        // The progress lines (`<fleet>: step 2/3 (50%): …`) land in stderr.
        workdir.set_env("TF_LOG_PROVIDER", "INFO");
        let faults = scenario.moto.faults();
        faults.clear(access_key);
        faults.reset_calls(access_key);
        let mut fleet = scenario.fleet("this", fleet_name);
        fleet.min_size = 1;
        fleet.max_size = i64::from(TARGET);
        fleet.desired_capacity = Some(i64::from(TARGET));
        fleet.health_check = Some(HealthCheck {
            timeout: "1m".to_owned(),
            ..HealthCheck::default()
        });
        fleet.rollout = Some(Rollout {
            steps: vec![25, 50],
            assess_for: Some("1s".to_owned()),
            ..Rollout::default()
        });
        Self {
            scenario,
            workdir,
            faults,
            key: access_key,
            fleet,
        }
    }

    fn step(&self, what: &str) {
        self.scenario.step(what);
    }

    fn rollout(&mut self) -> &mut Rollout {
        self.fleet.rollout.get_or_insert_with(Rollout::default)
    }

    fn write_config(&self) {
        self.scenario.write_config(&self.workdir, &[&self.fleet]);
    }

    /// Creates an alarm of this scenario in state `OK`.
    fn alarm_ok(&self, name: &str) {
        self.scenario.aws.put_alarm(name);
        self.scenario
            .aws
            .set_alarm_state(name, "OK", "e2e: the baseline is healthy");
    }

    /// Applies the current configuration on `MOTO_AMI` and returns the generation in AWS.
    fn apply_first_generation(&self) -> Generation {
        self.step(&format!("apply {} on {MOTO_AMI}", self.fleet.name));
        self.write_config();
        self.workdir.apply(&[]);
        self.generation(MOTO_AMI)
    }

    /// The one generation AWS holds, which must run `image_id` at the target capacity.
    fn generation(&self, image_id: &str) -> Generation {
        let (asg, template, instances) =
            self.scenario
                .assert_one_generation(&self.fleet.name, image_id, TARGET);
        Generation {
            asg_name: asg.auto_scaling_group_name().unwrap().to_owned(),
            template_name: template.launch_template_name().unwrap().to_owned(),
            instance_ids: instance_ids(&instances),
        }
    }

    /// Switches the configuration to `image_id`, each step held `assess_for`.
    fn change_image(&mut self, image_id: &str, assess_for: &str) {
        image_id.clone_into(&mut self.fleet.image_id);
        self.rollout().assess_for = Some(assess_for.to_owned());
        self.write_config();
    }

    /// Samples the fleet's ASGs and launch templates (plus what `probe` adds) with an access key
    /// of its own.
    fn sample(&self, probe: FleetProbe) -> Sampler<FleetSnapshot> {
        let aws = self
            .scenario
            .moto
            .aws_as(&format!("{}-sampler", self.key), 3);
        probe.sample(aws, SAMPLE_EVERY)
    }

    /// Like [`Canary::sample`], but signing with the scenario's own access key: the sampler
    /// then sees the faults injected for Terraform (e.g. target health), as the provider does.
    fn sample_as_terraform(&self, probe: FleetProbe) -> Sampler<FleetSnapshot> {
        probe.sample(self.scenario.moto.aws_as(self.key, 3), SAMPLE_EVERY)
    }

    fn probe(&self) -> FleetProbe {
        FleetProbe::new(&self.fleet.name)
    }

    fn spawn_apply(&self) -> RunningTerraform {
        self.workdir
            .spawn(&["apply", "-auto-approve", "-input=false"])
    }

    /// Waits until the new generation (any ASG but `old`) is pinned at `desired` with that many
    /// instances InService: the rollout is in that step. Returns the new group's name.
    fn wait_for_step(
        &self,
        sampler: &Sampler<FleetSnapshot>,
        old: &Generation,
        desired: i32,
    ) -> String {
        let sample = sampler.wait_for(
            &format!(
                "a new generation of {} at desired {desired}",
                self.fleet.name
            ),
            STEP_WAIT,
            |snapshot| {
                new_group(snapshot, old).is_some_and(|g| {
                    g.desired == desired && g.in_service() == usize::try_from(desired).unwrap()
                })
            },
        );
        let name = new_group(&sample.value, old).unwrap().name.clone();
        self.step(&format!("{name} is at step capacity {desired}"));
        name
    }

    /// The old generation is the fleet, whole, and nothing else exists: same ASG, template and
    /// instances at the target capacity, and the state points at it.
    fn assert_old_generation_current(&self, old: &Generation, image_id: &str) {
        let now = self.generation(image_id);
        assert_eq!(now.asg_name, old.asg_name, "the old ASG is still the fleet");
        assert_eq!(now.template_name, old.template_name);
        assert_eq!(
            now.instance_ids, old.instance_ids,
            "the old instances are untouched"
        );
        let values = state_of(&self.workdir, &self.fleet.address());
        assert_eq!(
            string_attr(&values, "id"),
            old.asg_name,
            "the old generation is current in state"
        );
        assert_eq!(values["image_id"], image_id);
    }

    /// The next plan proposes the same replacement again.
    fn assert_replacement_planned(&self) {
        let planned = self.workdir.plan_json(&[]);
        let change = plan::resource_change(&planned, &self.fleet.address());
        assert_eq!(actions(change), ["create", "delete"], "{change:#}");
        assert!(replaces_because_of(change, "image_id"), "{change:#}");
    }

    /// Asserts that Terraform (through the fault proxy's count of this scenario's calls since
    /// the last reset) created no launch template, group or instance. Unlike samples, a count
    /// cannot miss a generation that was launched and removed between two samples.
    fn assert_nothing_created(&self, context: &str) {
        let calls = self.faults.calls(self.key);
        let created: Vec<(&String, &u64)> = calls
            .iter()
            .filter(|(call, _)| {
                [
                    "autoscaling:CreateAutoScalingGroup",
                    "ec2:CreateLaunchTemplate",
                    "ec2:RunInstances",
                ]
                .contains(&call.as_str())
            })
            .collect();
        assert!(
            created.is_empty(),
            "{context}: the provider created {created:?}; every call: {calls:?}"
        );
    }

    /// `terraform destroy`, then nothing of the fleet is left: every scenario ends this way so
    /// that the shared moto does not accumulate generations (moto lists at most 15 launch
    /// templates per DescribeLaunchTemplates call unless asked for more).
    fn destroy(&self) {
        self.workdir.destroy(&[]);
        let aws = &self.scenario.aws;
        assert!(
            aws.fleet_asgs(&self.fleet.name).is_empty(),
            "destroy left ASGs of {}",
            self.fleet.name
        );
        assert!(
            e2e::sampler::fleet_template_names(aws, &self.fleet.name).is_empty(),
            "destroy left launch templates of {}",
            self.fleet.name
        );
    }

    fn report_calls(&self, label: &str) {
        self.faults
            .report_calls(self.key, &format!("{} {label}", self.scenario.name));
    }
}

impl Drop for Canary {
    fn drop(&mut self) {
        self.faults.clear(self.key);
    }
}

/// One generation as found in AWS.
#[derive(Debug, Clone)]
struct Generation {
    asg_name: String,
    template_name: String,
    instance_ids: Vec<String>,
}

/// The fleet's ASG that is not `old` (the new generation), if any.
fn new_group<'a>(
    snapshot: &'a FleetSnapshot,
    old: &Generation,
) -> Option<&'a e2e::sampler::GroupView> {
    snapshot.groups.iter().find(|g| g.name != old.asg_name)
}

/// Asserts that no sample shows an ASG or launch template of the fleet other than `old`'s:
/// nothing was launched.
fn assert_nothing_launched(samples: &[Sample<FleetSnapshot>], old: &Generation) {
    assert!(!samples.is_empty(), "no samples");
    for sample in samples {
        let groups: Vec<&str> = sample
            .value
            .groups
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(
            groups,
            [old.asg_name.as_str()],
            "an ASG was created: {:#?}",
            sample.value
        );
        assert_eq!(
            sample.value.templates,
            std::slice::from_ref(&old.template_name),
            "a launch template was created: {:#?}",
            sample.value
        );
    }
}

/// Asserts that every sample shows `old` at the target capacity with its own instances, all
/// InService: the old generation was never touched.
fn assert_old_untouched(samples: &[Sample<FleetSnapshot>], old: &Generation) {
    for sample in samples {
        let group = sample
            .value
            .group(&old.asg_name)
            .unwrap_or_else(|| panic!("the old ASG disappeared: {:#?}", sample.value));
        assert_eq!(group.desired, TARGET, "old desired: {group:#?}");
        assert_eq!(
            group.instance_ids(),
            old.instance_ids,
            "old instances: {group:#?}"
        );
        assert_eq!(
            group.in_service(),
            old.instance_ids.len(),
            "every old instance InService and Healthy: {group:#?}"
        );
    }
}

/// Whether the true time between two changes was at least `least`, judged from samples:
/// `before` is the last sample that still showed the state before the first change, `after`
/// the first one that showed the second change. The span from `before`'s start to `after`'s
/// end covers the true interval, so a slow sampler can only lengthen it, never fail a correct
/// provider.
fn held_at_least<T>(before: &Sample<T>, after: &Sample<T>, least: Duration) -> (bool, Duration) {
    let span = after.done.saturating_duration_since(before.at);
    (span >= least, span)
}

/// Terraform's output as one line: box-drawing margins gone, whitespace collapsed, so a
/// message wrapped at 78 columns can be searched for.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn assert_mentions(output: &TfOutput, needles: &[&str]) {
    let text = flat(&format!("{}\n{}", output.stdout, output.stderr));
    for needle in needles {
        assert!(
            text.contains(&flat(needle)),
            "expected {needle:?} in the output\n{output}"
        );
    }
}

/// Terraform's diagnostics from an apply's stderr: without the `TF_LOG_PROVIDER` lines (they
/// start with a timestamp, `2026-…T…`).
fn diagnostics(output: &TfOutput) -> String {
    let is_log = |line: &str| {
        line.get(..11).is_some_and(|head| {
            head.as_bytes()[..4].iter().all(u8::is_ascii_digit) && head.ends_with('T')
        })
    };
    output
        .stderr
        .lines()
        .filter(|line| !is_log(line))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// Sleeps `duration`, printing why (for the scenario's log).
fn pause(canary: &Canary, duration: Duration, why: &str) {
    canary.step(&format!("wait {}s: {why}", duration.as_secs()));
    let until = Instant::now() + duration;
    while Instant::now() < until {
        thread::sleep(Duration::from_millis(200));
    }
}
