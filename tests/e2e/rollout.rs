//! The rollout scenarios of issue #4: a real `terraform apply` (create before destroy) against
//! moto behind the fault proxy. moto reports every instance InService, Healthy and `healthy`
//! at once, so whatever goes wrong here is made to go wrong: `SetInstanceHealth`, injected
//! target health, a synthetic failed scaling activity, throttling, SIGKILL and SIGINT.
//!
//! Each scenario runs Terraform with its own access key id, so its faults and API-call counts
//! (printed as `[calls]` tables) are its own although all share one moto.

use std::thread;
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::AutoScalingGroup;
use e2e::hcl::{Fleet, HealthCheck};
use e2e::plan::{self, actions, replaces_because_of};
use e2e::{Faults, MOTO_AMI, MOTO_AMI_2, Rule, Service, TerraformWorkdir, TfOutput};

use crate::{Scenario, instance_ids, state_of, string_attr};

mod hooks;

/// The tag the provider keeps on a generation's ASG: `gating`, then `serving`.
const ROLLOUT_TAG: &str = "immutable:state";
/// How long a scenario waits for the provider to create the new generation.
const NEW_GENERATION_WAIT: Duration = Duration::from_secs(90);

/// One scenario's fleet, working directory and fault scope.
struct Rollout {
    scenario: Scenario,
    workdir: TerraformWorkdir,
    faults: Faults,
    key: &'static str,
    fleet: Fleet,
    /// Every `report_calls` so far, by label, written to `.e2e/api-calls/<scenario>.json`.
    recorded: serde_json::Map<String, serde_json::Value>,
}

impl Rollout {
    /// `access_key` scopes faults and counts; `fleet_name` is unique per scenario.
    fn start(name: &'static str, access_key: &'static str, fleet_name: &str) -> Self {
        let scenario = Scenario::start(name);
        let mut workdir = scenario.workdir().with_access_key(access_key);
        // The gate's progress lines (`<fleet>: 1/2 healthy, bake 3s/20s`) land in stderr.
        workdir.set_env("TF_LOG_PROVIDER", "INFO");
        let faults = scenario.moto.faults();
        faults.clear(access_key);
        faults.reset_calls(access_key);
        let mut fleet = scenario.fleet("this", fleet_name);
        fleet.desired_capacity = Some(2);
        Self {
            scenario,
            workdir,
            faults,
            key: access_key,
            fleet,
            recorded: serde_json::Map::new(),
        }
    }

    fn step(&self, what: &str) {
        self.scenario.step(what);
    }

    fn write_config(&self) {
        self.scenario.write_config(&self.workdir, &[&self.fleet]);
    }

    /// Applies the first generation (no faults yet) and returns it as found in AWS.
    fn apply_first_generation(&self) -> Generation {
        self.step(&format!("apply {} on {MOTO_AMI}", self.fleet.name));
        self.write_config();
        self.workdir.apply(&[]);
        self.generation(MOTO_AMI)
    }

    /// The one generation AWS holds now, which must run `image_id`.
    fn generation(&self, image_id: &str) -> Generation {
        let desired = self.fleet.desired_capacity.unwrap_or(self.fleet.min_size);
        let (asg, template, instances) = self.scenario.assert_one_generation(
            &self.fleet.name,
            image_id,
            i32::try_from(desired).unwrap(),
        );
        Generation {
            asg_name: asg.auto_scaling_group_name().unwrap().to_owned(),
            template_id: template.launch_template_id().unwrap().to_owned(),
            instance_ids: instance_ids(&instances),
        }
    }

    /// Switches the configuration to `image_id` with a gate of `healthy_for` and `timeout`.
    fn change_image(&mut self, image_id: &str, healthy_for: &str, timeout: &str) {
        image_id.clone_into(&mut self.fleet.image_id);
        let check = self
            .fleet
            .health_check
            .get_or_insert_with(HealthCheck::default);
        healthy_for.clone_into(&mut check.healthy_for);
        timeout.clone_into(&mut check.timeout);
        self.write_config();
    }

    /// Waits until the provider has created a generation other than `old` and its ASG has
    /// launched its instances; returns its ASG.
    fn wait_for_new_generation(&self, old: &Generation) -> AutoScalingGroup {
        let desired =
            usize::try_from(self.fleet.desired_capacity.unwrap_or(self.fleet.min_size)).unwrap();
        let deadline = Instant::now() + NEW_GENERATION_WAIT;
        loop {
            let fresh = self
                .scenario
                .aws
                .fleet_asgs(&self.fleet.name)
                .into_iter()
                .find(|asg| asg.auto_scaling_group_name() != Some(old.asg_name.as_str()));
            if let Some(asg) = fresh
                && asg.instances().len() >= desired
            {
                self.step(&format!(
                    "new generation {} is up with {:?}",
                    asg.auto_scaling_group_name().unwrap(),
                    asg_instance_ids(&asg)
                ));
                return asg;
            }
            assert!(
                Instant::now() < deadline,
                "no new generation of {} within {}s",
                self.fleet.name,
                NEW_GENERATION_WAIT.as_secs()
            );
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// The old generation still serves exactly as before, and the state points at it.
    fn assert_old_generation_current(&self, old: &Generation) {
        let now = self.generation(MOTO_AMI);
        assert_eq!(now.asg_name, old.asg_name, "the old ASG is still the fleet");
        assert_eq!(now.template_id, old.template_id);
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
        assert_eq!(values["image_id"], MOTO_AMI);
    }

    /// No ASG, launch template or instance of generation `asg_name` remains.
    fn assert_gone(&self, asg_name: &str, instances: &[String]) {
        assert!(
            self.scenario.aws.asg(asg_name).is_none(),
            "ASG {asg_name} still exists"
        );
        let templates: Vec<String> = self
            .scenario
            .aws
            .fleet_launch_templates(&self.fleet.name)
            .iter()
            .filter_map(|t| t.launch_template_name().map(str::to_owned))
            .collect();
        assert!(
            !templates.iter().any(|name| name == asg_name),
            "a launch template of {asg_name} still exists: {templates:?}"
        );
        let live = instance_ids(&self.scenario.aws.live_instances_of_fleet(&self.fleet.name));
        for id in instances {
            assert!(!live.contains(id), "instance {id} of {asg_name} still runs");
        }
    }

    /// The next plan proposes the same replacement again.
    fn assert_replacement_planned(&self) {
        let planned = self.workdir.plan_json(&[]);
        let change = plan::resource_change(&planned, &self.fleet.address());
        assert_eq!(actions(change), ["create", "delete"], "{change:#}");
        assert!(replaces_because_of(change, "image_id"), "{change:#}");
    }

    /// Prints this scenario's API calls since the last reset, records them in
    /// `.e2e/api-calls/<scenario>.json` (for benchmarks; test output is captured unless
    /// `--nocapture`), and returns their total.
    fn report_calls(&mut self, label: &str) -> u64 {
        let calls = self
            .faults
            .report_calls(self.key, &format!("{} {label}", self.scenario.name));
        self.recorded
            .insert(label.to_owned(), serde_json::to_value(&calls).unwrap());
        let dir = e2e::scratch_dir().join("api-calls");
        std::fs::create_dir_all(&dir).unwrap();
        let record = serde_json::Value::Object(self.recorded.clone());
        std::fs::write(
            dir.join(format!("{}.json", self.scenario.name)),
            serde_json::to_string_pretty(&record).unwrap(),
        )
        .unwrap();
        calls.values().sum()
    }
}

impl Drop for Rollout {
    fn drop(&mut self) {
        // Rules outlive a failed scenario otherwise; nothing else uses this scope.
        self.faults.clear(self.key);
    }
}

/// One generation as found in AWS.
#[derive(Debug, Clone)]
struct Generation {
    asg_name: String,
    template_id: String,
    instance_ids: Vec<String>,
}

fn asg_instance_ids(asg: &AutoScalingGroup) -> Vec<String> {
    let mut ids: Vec<String> = asg
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// Terraform's output as one line: box-drawing margins (with color) gone, whitespace
/// collapsed, so a message wrapped at 78 columns can be searched for.
fn flat(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Terraform's diagnostics from an apply's stderr: everything but the `TF_LOG_PROVIDER` lines
/// (which start with a timestamp, `2026-…T…`).
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

fn assert_mentions(output: &TfOutput, needles: &[&str]) {
    let text = flat(&format!("{}\n{}", output.stdout, output.stderr));
    for needle in needles {
        assert!(
            text.contains(&flat(needle)),
            "expected {needle:?} in the output\n{output}"
        );
    }
}

/// The provider's diagnostic summary for a rolled-back gate of the fleet's second generation.
fn rolled_back_summary(fleet: &str) -> String {
    format!("Fleet {fleet}: new generation {fleet}-g2 failed its health gate and was rolled back")
}

/// Scenario 1: a healthy image change replaces the fleet; without `desired_capacity`, a fleet
/// scaled out of band keeps its size across the replacement.
#[test]
fn rollout_healthy_replacement_keeps_scaled_out_capacity() {
    let mut rollout = Rollout::start("rollout-healthy", "e2e-rollout-healthy", "e2e-ro-healthy");
    rollout.fleet.desired_capacity = None;
    rollout.fleet.min_size = 1;
    rollout.fleet.max_size = 4;
    let started = Instant::now();
    rollout.step("apply without desired_capacity: starts at min_size");
    rollout.write_config();
    rollout.workdir.apply(&[]);
    let first = rollout.generation(MOTO_AMI);
    rollout.report_calls("create");

    rollout.step("scale out of band to 3 (an autoscaler at peak)");
    let aws = &rollout.scenario.aws;
    aws.block_on(
        aws.autoscaling
            .set_desired_capacity()
            .auto_scaling_group_name(&first.asg_name)
            .desired_capacity(3)
            .send(),
    )
    .unwrap();
    rollout
        .workdir
        .assert_no_changes("Read must not fight the autoscaler");

    rollout.step(&format!("change image_id to {MOTO_AMI_2}"));
    rollout.fleet.image_id = MOTO_AMI_2.to_owned();
    rollout.write_config();
    let address = rollout.fleet.address();
    let planned = rollout.workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["create", "delete"], "{change:#}");
    rollout.step(&format!(
        "planned desired_capacity: {} (unknown: {})",
        change["change"]["after"]["desired_capacity"],
        change["change"]["after_unknown"]["desired_capacity"]
    ));
    rollout.faults.reset_calls(rollout.key);
    rollout.workdir.apply_saved_plan();
    rollout.report_calls("replace");

    rollout.fleet.desired_capacity = Some(3);
    let second = rollout.generation(MOTO_AMI_2);
    rollout.fleet.desired_capacity = None;
    assert_ne!(second.asg_name, first.asg_name);
    rollout.assert_gone(&first.asg_name, &first.instance_ids);
    assert!(
        !rollout
            .scenario
            .aws
            .launch_template_exists(&first.template_id)
    );
    let values = state_of(&rollout.workdir, &address);
    assert_eq!(string_attr(&values, "id"), second.asg_name);
    assert_eq!(
        values["desired_capacity"], 3,
        "state carries the scaled-out size: {values:#}"
    );
    rollout
        .workdir
        .assert_no_changes("after the carried-over replacement");
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Scenario 2: the new instances turn Unhealthy during the bake window: the apply fails
/// naming them, the new generation is rolled back, the old one is current and intact, and
/// the next plan proposes the same replacement; a corrected apply then succeeds.
#[test]
fn rollout_unhealthy_during_bake_rolls_back() {
    let mut rollout = Rollout::start(
        "rollout-unhealthy",
        "e2e-rollout-unhealthy",
        "e2e-ro-unhealthy",
    );
    let started = Instant::now();
    let old = rollout.apply_first_generation();

    rollout.step("image change with healthy_for 20s, timeout 40s; apply in the background");
    rollout.change_image(MOTO_AMI_2, "20s", "40s");
    rollout.faults.reset_calls(rollout.key);
    let running = rollout
        .workdir
        .spawn(&["apply", "-auto-approve", "-input=false"]);
    let new = rollout.wait_for_new_generation(&old);
    let new_name = new.auto_scaling_group_name().unwrap().to_owned();
    let new_ids = asg_instance_ids(&new);
    let aws = &rollout.scenario.aws;
    for id in &new_ids {
        aws.block_on(
            aws.autoscaling
                .set_instance_health()
                .instance_id(id)
                .health_status("Unhealthy")
                .send(),
        )
        .unwrap();
    }
    rollout.step(&format!("set {new_ids:?} Unhealthy"));
    let output = running.wait();
    assert_eq!(output.code, Some(1), "the apply must fail\n{output}");
    let fleet = rollout.fleet.name.clone();
    let mut needles = vec![
        rolled_back_summary(&fleet),
        "when the gate timed out after 40s".to_owned(),
    ];
    for id in &new_ids {
        needles.push(format!(
            "{id}: InService/Unhealthy in the Auto Scaling group"
        ));
    }
    assert_mentions(
        &output,
        &needles.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    eprintln!("{}", diagnostics(&output));
    assert!(
        output
            .stderr
            .contains(&format!("{fleet}: 2/2 healthy, bake")),
        "the gate's progress is logged at INFO\n{}",
        output.stderr
    );
    rollout.report_calls("failed replace");

    rollout.assert_gone(&new_name, &new_ids);
    rollout.assert_old_generation_current(&old);
    rollout.assert_replacement_planned();

    rollout.step("corrected apply (healthy instances, short bake) succeeds");
    rollout.change_image(MOTO_AMI_2, "2s", "40s");
    rollout.workdir.apply(&[]);
    rollout.generation(MOTO_AMI_2);
    rollout.assert_gone(&old.asg_name, &old.instance_ids);
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Scenario 3: the target group reports the new instances `unhealthy`, then (second attempt)
/// `initial`: the gate holds until its timeout, then rolls back; the old fleet keeps serving.
#[test]
fn rollout_unhealthy_in_target_group_holds_until_timeout() {
    let mut rollout = Rollout::start("rollout-target-group", "e2e-rollout-tg", "e2e-ro-tg");
    let started = Instant::now();
    let tg_name = "e2e-ro-tg-app";
    let tg_arn = rollout.scenario.aws.create_target_group(tg_name);
    rollout.fleet.target_group_arns = vec![tg_arn];
    let check = rollout
        .fleet
        .health_check
        .get_or_insert_with(HealthCheck::default);
    check.check_type = "ELB".to_owned();
    check.timeout = "20s".to_owned();
    let old = rollout.apply_first_generation();

    let variants = [
        ("unhealthy", "Target.FailedHealthChecks"),
        ("initial", "Elb.RegistrationInProgress"),
    ];
    for (state, reason) in variants {
        rollout.step(&format!(
            "new targets report {state} ({reason}); image change with timeout 20s"
        ));
        rollout.faults.clear(rollout.key);
        rollout.faults.add(
            rollout.key,
            Rule::target_health(&old.instance_ids, state, reason),
        );
        rollout.change_image(MOTO_AMI_2, "0s", "20s");
        rollout.faults.reset_calls(rollout.key);
        let running = rollout
            .workdir
            .spawn(&["apply", "-auto-approve", "-input=false"]);
        let new = rollout.wait_for_new_generation(&old);
        let new_name = new.auto_scaling_group_name().unwrap().to_owned();
        let new_ids = asg_instance_ids(&new);
        let output = running.wait();
        assert_eq!(output.code, Some(1), "the apply must fail\n{output}");
        assert!(
            output.elapsed >= Duration::from_secs(20),
            "the gate must hold until its 20s timeout, the apply took {:.1}s",
            output.elapsed.as_secs_f64()
        );
        let fleet = rollout.fleet.name.clone();
        let mut needles = vec![
            rolled_back_summary(&fleet),
            "when the gate timed out after 20s".to_owned(),
        ];
        for id in &new_ids {
            needles.push(format!("{id}: {state} in target group {tg_name}"));
        }
        assert_mentions(
            &output,
            &needles.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        eprintln!("{}", diagnostics(&output));
        rollout.report_calls(&format!("failed replace, targets {state}"));
        rollout.step(&format!(
            "rolled back after {:.1}s",
            output.elapsed.as_secs_f64()
        ));

        rollout.assert_gone(&new_name, &new_ids);
        rollout.assert_old_generation_current(&old);
        assert_serving_in_target_group(&rollout, tg_name, &old.instance_ids);
    }
    rollout.faults.clear(rollout.key);
    rollout.assert_replacement_planned();
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Every instance in `ids` is registered and `healthy` in the fleet's first target group, as
/// moto itself reports it (the test's own access key: no injected states).
fn assert_serving_in_target_group(rollout: &Rollout, tg_name: &str, ids: &[String]) {
    let aws = &rollout.scenario.aws;
    let serving = aws
        .block_on(
            aws.elbv2
                .describe_target_health()
                .target_group_arn(&rollout.fleet.target_group_arns[0])
                .send(),
        )
        .unwrap();
    for id in ids {
        assert!(
            serving.target_health_descriptions().iter().any(|d| {
                d.target().and_then(|t| t.id()) == Some(id.as_str())
                    && d.target_health().and_then(|h| h.state())
                        == Some(
                            &aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum::Healthy,
                        )
            }),
            "old instance {id} still serves in {tg_name}"
        );
    }
}

/// Scenario 4: a failed scaling activity of the new group (instances stuck Pending) fails the
/// gate at once, far before its 5-minute timeout, quoting the activity's message.
#[test]
fn rollout_failed_scaling_activity_fails_fast() {
    let mut rollout = Rollout::start(
        "rollout-activity",
        "e2e-rollout-activity",
        "e2e-ro-activity",
    );
    let started = Instant::now();
    let old = rollout.apply_first_generation();

    let message = "We currently do not have sufficient t3.micro capacity in the Availability \
                   Zone you requested (us-east-1a). Our system will be working on provisioning \
                   additional capacity. Launching EC2 instance failed.";
    rollout.step("instances stay Pending and a scaling activity failed; timeout 5m");
    rollout.faults.add(
        rollout.key,
        Rule::rewrite(
            "DescribeAutoScalingGroups",
            "<LifecycleState>InService</LifecycleState>",
            "<LifecycleState>Pending</LifecycleState>",
        ),
    );
    rollout
        .faults
        .add(rollout.key, Rule::failed_scaling_activity(message));
    rollout.change_image(MOTO_AMI_2, "0s", "5m");
    rollout.faults.reset_calls(rollout.key);
    let output = rollout
        .workdir
        .run_expecting(&["apply", "-auto-approve", "-input=false"], &[1]);
    assert!(
        output.elapsed < Duration::from_mins(1),
        "the gate must fail fast, not wait for its 5m timeout: {:.1}s",
        output.elapsed.as_secs_f64()
    );
    assert_mentions(
        &output,
        &[
            &rolled_back_summary(&rollout.fleet.name),
            "A scaling activity of the new group failed:",
            message,
        ],
    );
    eprintln!("{}", diagnostics(&output));
    rollout.report_calls("failed replace");
    rollout.faults.clear(rollout.key);

    let new_name = format!("{}-g2", rollout.fleet.name);
    rollout.assert_gone(&new_name, &[]);
    rollout.assert_old_generation_current(&old);
    rollout.step(&format!(
        "apply failed after {:.1}s; scenario done in {:.1}s",
        output.elapsed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    ));
}

/// Scenario 5: 30 % of Auto Scaling and EC2 calls are throttled; create and replace succeed.
#[test]
fn rollout_succeeds_despite_throttling() {
    let mut rollout = Rollout::start(
        "rollout-throttling",
        "e2e-rollout-throttle",
        "e2e-ro-throttle",
    );
    // Each injected throttle can cost the provider's SDK up to its 20 s max backoff (adaptive
    // retries at a low request rate), so an apply may take minutes.
    rollout.workdir.set_timeout(Duration::from_mins(10));
    let started = Instant::now();
    for service in [Service::AutoScaling, Service::Ec2] {
        rollout
            .faults
            .add(rollout.key, Rule::throttle(service).probability(0.3));
    }
    rollout.step("30% of autoscaling and ec2 calls throttled from the start");
    let first = rollout.apply_first_generation();
    let created_throttles = rollout.faults.fired(rollout.key);
    rollout.report_calls("create");

    rollout.fleet.image_id = MOTO_AMI_2.to_owned();
    rollout.write_config();
    rollout.faults.reset_calls(rollout.key);
    rollout.workdir.apply(&[]);
    let throttles = rollout.faults.fired(rollout.key);
    let calls = rollout.report_calls("replace");
    rollout.generation(MOTO_AMI_2);
    rollout.assert_gone(&first.asg_name, &first.instance_ids);
    rollout
        .workdir
        .assert_no_changes("after the throttled replacement");
    eprintln!(
        "[rollout-throttling] injected {created_throttles} throttles during create, {} during replace ({calls} calls)",
        throttles - created_throttles
    );
    assert!(
        throttles > 0,
        "with 30% throttling some calls must have been throttled"
    );
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Scenario 6: the provider is SIGKILLed mid-gate. Terraform fails, the old fleet serves, and
/// the next apply of the same configuration converges with nothing orphaned.
#[test]
fn rollout_converges_after_provider_sigkill() {
    let mut rollout = Rollout::start("rollout-sigkill", "e2e-rollout-sigkill", "e2e-ro-sigkill");
    let started = Instant::now();
    let old = rollout.apply_first_generation();

    rollout.step("image change with healthy_for 30s; kill -KILL the provider mid-gate");
    rollout.change_image(MOTO_AMI_2, "30s", "3m");
    rollout.faults.reset_calls(rollout.key);
    let running = rollout
        .workdir
        .spawn(&["apply", "-auto-approve", "-input=false"]);
    let new = rollout.wait_for_new_generation(&old);
    let leftover = new.auto_scaling_group_name().unwrap().to_owned();
    assert_eq!(
        e2e::asg_tag(&new, ROLLOUT_TAG),
        Some("gating"),
        "the new generation is in its gate"
    );
    thread::sleep(Duration::from_secs(1));
    let providers = running.provider_pids();
    assert!(
        !providers.is_empty(),
        "no provider process under terraform pid {}; its children: {:?}",
        running.pid(),
        running.children()
    );
    let provider = providers[0];
    rollout.step(&format!(
        "kill -KILL {provider} (provider of terraform {})",
        running.pid()
    ));
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &provider.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = running.wait();
    assert_ne!(output.code, Some(0), "terraform must fail\n{output}");
    eprintln!("{}", diagnostics(&output));
    rollout.report_calls("interrupted replace");

    rollout.step("the old fleet still serves; the interrupted generation is left over");
    let aws = &rollout.scenario.aws;
    let serving = aws.asg(&old.asg_name).expect("the old ASG survives");
    assert_eq!(asg_instance_ids(&serving), old.instance_ids);
    assert!(
        aws.asg(&leftover).is_some(),
        "the killed provider could not clean up {leftover}"
    );
    let values = state_of(&rollout.workdir, &rollout.fleet.address());
    assert_eq!(
        string_attr(&values, "id"),
        old.asg_name,
        "the old generation is current in state"
    );

    rollout.step("re-apply the same configuration");
    rollout.faults.reset_calls(rollout.key);
    let reapplied = rollout.workdir.apply(&[]);
    rollout.report_calls("re-apply");
    let adopted = reapplied
        .stderr
        .contains(&format!("adopting {leftover} left over"));
    let converged = rollout.generation(MOTO_AMI_2);
    rollout.step(&format!(
        "converged on {} ({})",
        converged.asg_name,
        if adopted {
            "the leftover was adopted"
        } else {
            "the leftover was replaced"
        }
    ));
    if converged.asg_name != leftover {
        rollout.assert_gone(&leftover, &[]);
    }
    rollout.assert_gone(&old.asg_name, &old.instance_ids);
    let live = instance_ids(
        &rollout
            .scenario
            .aws
            .live_instances_of_fleet(&rollout.fleet.name),
    );
    assert_eq!(live, converged.instance_ids, "no orphaned instance");
    let values = state_of(&rollout.workdir, &rollout.fleet.address());
    assert_eq!(string_attr(&values, "id"), converged.asg_name);
    rollout.workdir.assert_no_changes("after convergence");
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Scenario 7: Ctrl-C (SIGINT to terraform, which asks the provider to Stop) mid-gate: the
/// apply ends within seconds, rolled back, the old fleet current and intact.
#[test]
fn rollout_interrupt_stops_and_rolls_back() {
    let mut rollout = Rollout::start(
        "rollout-interrupt",
        "e2e-rollout-interrupt",
        "e2e-ro-interrupt",
    );
    let started = Instant::now();
    let old = rollout.apply_first_generation();

    rollout.step(
        "image change with healthy_for 60s; Ctrl-C (SIGINT to terraform's processes) mid-gate",
    );
    rollout.change_image(MOTO_AMI_2, "60s", "3m");
    rollout.faults.reset_calls(rollout.key);
    let running = rollout
        .workdir
        .spawn(&["apply", "-auto-approve", "-input=false"]);
    let new = rollout.wait_for_new_generation(&old);
    let new_name = new.auto_scaling_group_name().unwrap().to_owned();
    let new_ids = asg_instance_ids(&new);
    thread::sleep(Duration::from_secs(1));
    let interrupted = Instant::now();
    running.interrupt();
    let output = running.wait();
    let stopping = interrupted.elapsed();
    rollout.step(&format!(
        "terraform exited {:.1}s after SIGINT",
        stopping.as_secs_f64()
    ));
    assert_ne!(output.code, Some(0), "an interrupted apply fails\n{output}");
    assert!(
        stopping < Duration::from_secs(15),
        "terraform took {:.1}s to stop\n{output}",
        stopping.as_secs_f64()
    );
    assert_mentions(
        &output,
        &[
            &rolled_back_summary(&rollout.fleet.name),
            "Interrupted (Terraform was asked to stop)",
        ],
    );
    eprintln!("{}", diagnostics(&output));
    rollout.report_calls("interrupted replace");

    rollout.assert_gone(&new_name, &new_ids);
    rollout.assert_old_generation_current(&old);
    rollout.step(&format!("done in {:.1}s", started.elapsed().as_secs_f64()));
}

/// Issue #10 item 1: a provider killed mid-gate leaves its generation registered in the
/// target group, serving the rejected image. When the configuration goes back to the previous
/// image, the next plan must propose removing it (before the fix: "No changes"), and the apply
/// removes it, detached from the target group first.
#[test]
fn rollout_crash_leftover_is_planned_away_when_the_configuration_goes_back() {
    let mut rollout = Rollout::start("rollout-leftover", "e2e-rollout-leftover", "e2e-ro-left");
    let tg_arn = rollout.scenario.aws.create_target_group("e2e-ro-left-app");
    rollout.fleet.target_group_arns = vec![tg_arn.clone()];
    let old = rollout.apply_first_generation();
    let first_health_check = rollout.fleet.health_check.clone();

    rollout.step("image change; kill -KILL the provider mid-gate");
    rollout.change_image(MOTO_AMI_2, "60s", "3m");
    let running = rollout
        .workdir
        .spawn(&["apply", "-auto-approve", "-input=false"]);
    let new = rollout.wait_for_new_generation(&old);
    let leftover = new.auto_scaling_group_name().unwrap().to_owned();
    let leftover_ids = asg_instance_ids(&new);
    thread::sleep(Duration::from_secs(1));
    for provider in running.provider_pids() {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &provider.to_string()])
            .status();
    }
    let output = running.wait();
    assert_ne!(output.code, Some(0), "terraform must fail\n{output}");
    let registered = rollout.scenario.aws.registered_targets(&tg_arn);
    assert!(
        leftover_ids.iter().all(|id| registered.contains(id)),
        "the leftover serves from the target group: {registered:?}"
    );

    rollout.step("back to the previous configuration: the plan removes the leftover");
    MOTO_AMI.clone_into(&mut rollout.fleet.image_id);
    rollout.fleet.health_check = first_health_check;
    rollout.write_config();
    let planned = rollout.workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &rollout.fleet.address());
    assert_eq!(actions(change), ["update"], "{change:#}");
    assert_eq!(
        change["change"]["before"]["leftovers"],
        serde_json::json!([leftover]),
        "{change:#}"
    );
    assert!(
        change["change"]["after"]["leftovers"].is_null(),
        "{change:#}"
    );

    rollout.step("apply removes it; the old generation keeps serving");
    rollout.workdir.apply(&[]);
    rollout.assert_gone(&leftover, &leftover_ids);
    let registered = rollout.scenario.aws.registered_targets(&tg_arn);
    assert!(
        !leftover_ids.iter().any(|id| registered.contains(id)),
        "the leftover's instances are still registered: {registered:?}"
    );
    rollout.assert_old_generation_current(&old);
    rollout.workdir.assert_no_changes("after the cleanup");
    rollout.workdir.destroy(&[]);
}

/// Issue #10 item 4: a scale-out whose new instance fails the gate is undone: capacity back,
/// the launched instance terminated, and the next plan proposes the scale-out again (before
/// the fix the group kept the new capacity and the next plan was empty).
#[test]
fn rollout_failed_scale_out_is_undone_and_planned_again() {
    let mut rollout = Rollout::start("scale-out-undone", "e2e-scale-out-undone", "e2e-ro-scale");
    let old = rollout.apply_first_generation();

    rollout.step("desired 2 -> 3, bake 10s, timeout 20s; the new instance is marked unhealthy");
    rollout.fleet.desired_capacity = Some(3);
    let check = rollout
        .fleet
        .health_check
        .get_or_insert_with(HealthCheck::default);
    check.healthy_for = "10s".to_owned();
    check.timeout = "20s".to_owned();
    rollout.write_config();
    let running = rollout
        .workdir
        .spawn(&["apply", "-auto-approve", "-input=false"]);
    let aws = &rollout.scenario.aws;
    let deadline = Instant::now() + NEW_GENERATION_WAIT;
    let added = loop {
        let ids = aws
            .asg(&old.asg_name)
            .map(|g| asg_instance_ids(&g))
            .unwrap_or_default();
        if let Some(id) = ids.iter().find(|id| !old.instance_ids.contains(id)) {
            break id.clone();
        }
        assert!(Instant::now() < deadline, "the scale-out never launched");
        thread::sleep(Duration::from_millis(200));
    };
    aws.block_on(
        aws.autoscaling
            .set_instance_health()
            .instance_id(&added)
            .health_status("Unhealthy")
            .send(),
    )
    .unwrap();
    let output = running.wait();
    assert_eq!(output.code, Some(1), "the apply must fail\n{output}");
    assert_mentions(
        &output,
        &[
            "scale-out failed its health gate and was undone",
            "desired capacity is back at 2",
            &added,
        ],
    );

    rollout.step("AWS is back at 2 with the old instances; the plan proposes 2 -> 3 again");
    let asg = aws.asg(&old.asg_name).unwrap();
    assert_eq!(asg.desired_capacity(), Some(2));
    assert_eq!(asg_instance_ids(&asg), old.instance_ids);
    let planned = rollout.workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &rollout.fleet.address());
    assert_eq!(actions(change), ["update"], "{change:#}");
    assert_eq!(change["change"]["before"]["desired_capacity"], 2);
    assert_eq!(change["change"]["after"]["desired_capacity"], 3);
    rollout.faults.clear(rollout.key);
    rollout.workdir.destroy(&[]);
}
