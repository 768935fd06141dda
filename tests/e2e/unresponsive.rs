//! Issue #10 item 3: AWS calls are bounded, and Stop (Ctrl-C) cancels the ones in flight.
//!
//! Before the fix, a plan against an endpoint that accepts connections and never answers hung
//! at "Refreshing state…" forever, and Ctrl-C during a hanging call printed "Stopping
//! operation…" but kept going until the call returned.

use std::thread;
use std::time::{Duration, Instant};

use e2e::hcl::HealthCheck;
use e2e::{LoopbackServer, MOTO_AMI, MOTO_AMI_2, Rule, RunningTerraform, Service, TfOutput};

use crate::Scenario;

/// Long enough for the fixed behaviour (seconds), short enough to catch a hang.
const HANG_BOUND: Duration = Duration::from_secs(90);

/// Terraform's output (stdout and stderr) as one line: whitespace collapsed and the "│"
/// frame of diagnostics removed, so that a wrapped message still matches.
pub(crate) fn flat(output: &TfOutput) -> String {
    format!("{}\n{}", output.stdout, output.stderr)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits for `running` to exit within `bound`; on a hang, interrupts it and fails the test with
/// what it printed.
fn exits_within(running: RunningTerraform, bound: Duration, context: &str) -> TfOutput {
    let mut running = running;
    let started = Instant::now();
    while running.is_running() && started.elapsed() < bound {
        thread::sleep(Duration::from_millis(100));
    }
    if running.is_running() {
        let so_far = running.stdout_so_far();
        let errors = running.stderr_so_far();
        // Ctrl-C twice, as an impatient user would: the second one ends terraform at once.
        running.interrupt();
        let grace = Instant::now();
        while running.is_running() && grace.elapsed() < Duration::from_secs(10) {
            thread::sleep(Duration::from_millis(100));
        }
        running.interrupt();
        let _ = running.wait();
        panic!(
            "{context}: terraform still ran after {}s (hung)\n--- stdout ---\n{so_far}\n--- stderr ---\n{errors}",
            bound.as_secs()
        );
    }
    running.wait()
}

/// A refresh against an endpoint that accepts connections and never answers fails after the
/// (test-shortened) timeouts, with an error naming the endpoint, the read timeout and the call.
#[test]
fn plan_against_an_endpoint_that_never_answers_fails_naming_it() {
    let scenario = Scenario::start("silent-endpoint");
    let mut workdir = scenario.workdir();
    let fleet = scenario.fleet("this", "e2e-silent-endpoint");
    scenario.write_config(&workdir, &[&fleet]);
    scenario.step("apply against moto");
    workdir.apply(&[]);

    let silent = LoopbackServer::silent();
    scenario.step(&format!(
        "plan with AWS_ENDPOINT_URL = {} (accepts, never answers), timeouts scaled by 0.05",
        silent.endpoint()
    ));
    workdir.set_env("AWS_ENDPOINT_URL", &silent.endpoint());
    // connect 0.5 s, read 1.5 s, attempt 3 s, operation 15 s.
    workdir.set_env("IMMUTABLE_AWS_TIMEOUT_SCALE", "0.05");
    let started = Instant::now();
    let output = exits_within(
        workdir.spawn(&["plan", "-input=false"]),
        HANG_BOUND,
        "plan against a silent endpoint",
    );
    scenario.step(&format!(
        "plan exited {:?} after {:.1}s, {} connection(s) to the silent endpoint",
        output.code,
        started.elapsed().as_secs_f64(),
        silent.connections()
    ));
    assert_eq!(output.code, Some(1), "the plan fails\n{output}");
    eprintln!("{}", output.stderr.trim_end());
    let text = flat(&output);
    for expected in [
        "ReadTimeout",
        &format!("connected to {}", silent.endpoint()),
        "sent no answer within 1.5s (read timeout, 3 attempts)",
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{output}");
    }
    assert!(
        text.contains("DescribeAutoScalingGroups failed")
            || text.contains("DescribeLaunchTemplates failed"),
        "the error names the call\n{output}"
    );
    drop(silent);

    scenario.step("destroy against moto");
    workdir.set_env("AWS_ENDPOINT_URL", scenario.moto.endpoint());
    workdir.set_env("IMMUTABLE_AWS_TIMEOUT_SCALE", "1");
    workdir.destroy(&[]);
}

/// Ctrl-C while the gate's poll hangs in a call AWS does not answer: the call is abandoned,
/// the new generation rolled back, and terraform exits within seconds, saying it was
/// interrupted; the old generation keeps serving.
#[test]
fn ctrl_c_cancels_a_hanging_aws_call_and_rolls_back() {
    const KEY: &str = "e2e-ctrl-c-hanging";
    const FLEET: &str = "e2e-ctrl-c-hanging";
    let scenario = Scenario::start("ctrl-c-hanging-call");
    let mut workdir = scenario.workdir().with_access_key(KEY);
    workdir.set_env("TF_LOG_PROVIDER", "INFO");
    let faults = scenario.moto.faults();
    faults.clear(KEY);
    let mut fleet = scenario.fleet("this", FLEET);
    scenario.write_config(&workdir, &[&fleet]);
    scenario.step("apply the first generation");
    workdir.apply(&[]);
    let old = scenario.assert_one_generation(FLEET, MOTO_AMI, 1).0;
    let old_name = old.auto_scaling_group_name().unwrap().to_owned();

    scenario.step("image change with a 60s bake; the gate's next DescribeAutoScalingGroups hangs");
    fleet.image_id = MOTO_AMI_2.to_owned();
    fleet.health_check = Some(HealthCheck {
        healthy_for: "60s".to_owned(),
        timeout: "3m".to_owned(),
        ..HealthCheck::default()
    });
    scenario.write_config(&workdir, &[&fleet]);
    let running = workdir.spawn(&["apply", "-auto-approve", "-input=false"]);
    let deadline = Instant::now() + Duration::from_secs(90);
    let new_name = loop {
        let fresh = scenario
            .aws
            .fleet_asgs(FLEET)
            .into_iter()
            .filter_map(|g| g.auto_scaling_group_name().map(str::to_owned))
            .find(|name| *name != old_name);
        if let Some(name) = fresh {
            break name;
        }
        assert!(
            Instant::now() < deadline,
            "no new generation after 90s\n{}",
            running.stderr_so_far()
        );
        thread::sleep(Duration::from_millis(200));
    };
    // Only once (the rollback's own calls must get answers): 5 minutes without an answer,
    // far beyond the bound below, so only a cancelled call can end within it.
    faults.add(
        KEY,
        Rule::delay_ms(300_000)
            .service(Service::AutoScaling)
            .actions(&["DescribeAutoScalingGroups"])
            .count(1),
    );
    let deadline = Instant::now() + Duration::from_mins(1);
    while faults.fired(KEY) == 0 {
        assert!(
            Instant::now() < deadline,
            "the gate made no DescribeAutoScalingGroups call within 60s\n{}",
            running.stderr_so_far()
        );
        thread::sleep(Duration::from_millis(100));
    }
    thread::sleep(Duration::from_millis(500));
    scenario.step(&format!(
        "{new_name} is gating and its poll hangs; SIGINT to terraform (pid {})",
        running.pid()
    ));
    let interrupted = Instant::now();
    running.interrupt();
    let output = exits_within(running, Duration::from_mins(1), "apply after Ctrl-C");
    let stopping = interrupted.elapsed();
    faults.clear(KEY);
    scenario.step(&format!(
        "terraform exited {:?} {:.1}s after SIGINT",
        output.code,
        stopping.as_secs_f64()
    ));
    assert_ne!(output.code, Some(0), "an interrupted apply fails\n{output}");
    assert!(
        stopping < Duration::from_secs(30),
        "terraform took {:.1}s to stop\n{output}",
        stopping.as_secs_f64()
    );
    eprintln!("{}", output.stderr.trim_end());
    let text = flat(&output);
    for expected in [
        "Interrupted (Terraform was asked to stop)",
        "failed its health gate and was rolled back",
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{output}");
    }
    assert!(
        scenario.aws.asg(&new_name).is_none(),
        "the interrupted generation {new_name} was rolled back"
    );
    scenario.assert_one_generation(FLEET, MOTO_AMI, 1);

    scenario.step("destroy");
    workdir.destroy(&[]);
}
