//! Scenarios 2 and 3: CloudWatch alarms judge the rollout. An alarm that goes to `ALARM`
//! during step 2 fails it and rolls the new generation back; one already in `ALARM`, or one
//! that does not exist, refuses the rollout before anything is launched.

use e2e::MOTO_AMI_2;

use super::{
    Canary, assert_mentions, assert_nothing_launched, assert_old_untouched, diagnostics, new_group,
};

/// A state reason as CloudWatch writes it.
const REASON: &str = "Threshold Crossed: 1 datapoint [12.0 (06/12/26 01:00:00)] was greater \
                      than or equal to the threshold (1.0).";

/// Scenario 2: the alarm fires during step 2's assessment: the apply fails naming the step,
/// the alarm and its reason; the new generation (ASG and launch template) is gone, the old one
/// served at full capacity throughout, and the next plan proposes the same rollout.
#[test]
fn canary_alarm_in_step_two_rolls_back() {
    let mut canary = Canary::start("canary-alarm", "e2e-canary-alarm", "e2e-cn-alarm");
    let alarm = "e2e-cn-alarm-5xx";
    canary.alarm_ok(alarm);
    canary.rollout().alarms = vec![alarm.to_owned()];
    let old = canary.apply_first_generation();

    canary.step("image change, assess_for 10s; the alarm fires in step 2 (50%)");
    canary.change_image(MOTO_AMI_2, "10s");
    canary.faults.reset_calls(canary.key);
    let watch = canary.sample(canary.probe());
    let running = canary.spawn_apply();
    let new_name = canary.wait_for_step(&watch, &old, 2);
    canary.scenario.aws.set_alarm_state(alarm, "ALARM", REASON);
    canary.step(&format!("{alarm} set to ALARM"));
    let output = running.wait();
    let samples = watch.finish();
    assert_eq!(output.code, Some(1), "the apply must fail\n{output}");
    assert_mentions(
        &output,
        &[
            &canary.fleet.name,
            "step 2/3 (50%)",
            alarm,
            REASON,
            "rolled back",
        ],
    );
    eprintln!("{}", diagnostics(&output));
    canary.report_calls("alarmed canary");

    assert_old_untouched(&samples, &old);
    let grown = samples
        .iter()
        .filter_map(|s| new_group(&s.value, &old).map(|g| g.desired))
        .max();
    assert_eq!(
        grown,
        Some(2),
        "the failed step was the last one launched: no step 3"
    );
    let last = &samples.last().unwrap().value;
    assert!(
        last.group(&new_name).is_none(),
        "the new ASG {new_name} is gone: {last:#?}"
    );
    canary.assert_old_generation_current(&old, e2e::MOTO_AMI);

    canary.step("the alarm recovers; the next plan proposes the same rollout");
    canary
        .scenario
        .aws
        .set_alarm_state(alarm, "OK", "e2e: recovered");
    canary.assert_replacement_planned();
    canary.destroy();
}

/// Scenario 3: an alarm already in `ALARM` refuses the rollout before anything is launched
/// ("don't deploy into an incident"), naming the alarm and its reason.
#[test]
fn canary_alarm_already_firing_refuses_to_start() {
    let mut canary = Canary::start("canary-incident", "e2e-canary-incident", "e2e-cn-incident");
    let alarm = "e2e-cn-incident-p99";
    canary.alarm_ok(alarm);
    canary.rollout().alarms = vec![alarm.to_owned()];
    let old = canary.apply_first_generation();

    let reason = "Threshold Crossed: an incident is under way (e2e)";
    canary.scenario.aws.set_alarm_state(alarm, "ALARM", reason);
    canary.step(&format!("{alarm} is in ALARM; image change"));
    canary.change_image(MOTO_AMI_2, "2s");
    canary.faults.reset_calls(canary.key);
    let watch = canary.sample(canary.probe());
    let output = canary
        .workdir
        .try_run(&["apply", "-auto-approve", "-input=false"]);
    let samples = watch.finish();
    assert_ne!(output.code, Some(0), "the apply must fail\n{output}");
    canary.assert_nothing_created("a refused rollout");
    assert_mentions(&output, &[alarm, reason]);
    eprintln!("{}", diagnostics(&output));

    assert_nothing_launched(&samples, &old);
    canary.assert_old_generation_current(&old, e2e::MOTO_AMI);
    let (state, _) = canary.scenario.aws.alarm_state(alarm).unwrap();
    assert_eq!(state, "ALARM", "the provider does not touch the alarm");

    canary.step("the incident ends: the same apply rolls out");
    canary
        .scenario
        .aws
        .set_alarm_state(alarm, "OK", "e2e: recovered");
    canary.workdir.apply(&[]);
    let new = canary.generation(MOTO_AMI_2);
    assert_ne!(new.asg_name, old.asg_name);
    assert_eq!(
        canary.scenario.aws.fleet_asgs(&canary.fleet.name).len(),
        1,
        "only the new generation is left"
    );
    canary.destroy();
}

/// Scenario 3b: an alarm that does not exist is an error naming it, and nothing is launched.
#[test]
fn canary_missing_alarm_is_an_error_and_launches_nothing() {
    let mut canary = Canary::start("canary-no-alarm", "e2e-canary-no-alarm", "e2e-cn-noalarm");
    let old = canary.apply_first_generation();

    let missing = "e2e-cn-noalarm-does-not-exist";
    canary.step(&format!(
        "image change judged by {missing}, which does not exist"
    ));
    canary.rollout().alarms = vec![missing.to_owned()];
    canary.change_image(MOTO_AMI_2, "2s");
    canary.faults.reset_calls(canary.key);
    let watch = canary.sample(canary.probe());
    let output = canary
        .workdir
        .try_run(&["apply", "-auto-approve", "-input=false"]);
    let samples = watch.finish();
    assert_ne!(output.code, Some(0), "the apply must fail\n{output}");
    canary.assert_nothing_created("a refused rollout");
    assert_mentions(&output, &[missing]);
    eprintln!("{}", diagnostics(&output));

    assert_nothing_launched(&samples, &old);
    canary.assert_old_generation_current(&old, e2e::MOTO_AMI);
    canary.destroy();
}
