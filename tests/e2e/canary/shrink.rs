//! Scenario 6: `shrink_previous`. As the new generation grows the old one shrinks to
//! target − step capacity, and the instances that serve (InService and Healthy in one of the
//! fleet's groups and healthy in its target group) never fall below `min_healthy_percent` of
//! the target, through a successful rollout and through one whose alarm fires at step 2, where
//! the old generation is scaled back up before the new one is removed.

use std::time::Duration;

use e2e::sampler::{FleetSnapshot, GroupView, Sample, distinct_in_order};
use e2e::{MOTO_AMI, MOTO_AMI_2, Rule};

use super::{Canary, Generation, TARGET, assert_mentions, diagnostics, new_group};

/// `min_healthy_percent` of the scenario: 75 % of 4 is 3 instances. Removing the new
/// generation (2 instances at step 2) before the old one is back would leave 2.
const MIN_HEALTHY_PERCENT: u32 = 75;
const MIN_SERVING: usize = 3;

#[test]
fn canary_shrink_previous_keeps_healthy_capacity_through_success_and_failure() {
    let mut canary = Canary::start("canary-shrink", "e2e-canary-shrink", "e2e-cn-shrink");
    let tg_arn = canary.scenario.aws.create_target_group("e2e-cn-shrink-app");
    canary.fleet.target_group_arns = vec![tg_arn.clone()];
    canary
        .fleet
        .health_check
        .as_mut()
        .unwrap()
        .min_healthy_percent = MIN_HEALTHY_PERCENT;
    let alarm = "e2e-cn-shrink-5xx";
    canary.alarm_ok(alarm);
    let rollout = canary.rollout();
    rollout.alarms = vec![alarm.to_owned()];
    rollout.shrink_previous = Some(true);
    let first = canary.apply_first_generation();

    canary.step("rollout with shrink_previous, assess_for 3s");
    canary.change_image(MOTO_AMI_2, "3s");
    let watch = canary.sample(canary.probe().with_target_group(&tg_arn));
    let output = canary.spawn_apply().wait();
    let samples = watch.finish();
    assert_eq!(output.code, Some(0), "the rollout succeeds\n{output}");
    assert_serving_never_below(&samples);
    let old_desired = distinct_in_order(&samples, |s| s.group(&first.asg_name).map(|g| g.desired));
    canary.step(&format!("old desired as sampled: {old_desired:?}"));
    let shrunk: Vec<i32> = old_desired.iter().flatten().copied().collect();
    assert!(
        shrunk.starts_with(&[TARGET, 3, 2]),
        "the old generation shrinks 4 -> 3 -> 2 as the new grows 1 -> 2: {old_desired:?}"
    );
    for sample in &samples {
        if let (Some(old), Some(new)) = (
            sample.value.group(&first.asg_name),
            new_group(&sample.value, &first),
        ) {
            assert!(
                old.desired + new.desired >= TARGET,
                "the old generation shrank ahead of the new one: {:#?}",
                sample.value
            );
        }
    }
    let second = canary.generation(MOTO_AMI_2);

    canary.step("rollout back to the first image; the alarm fires in step 2 (50%)");
    canary.change_image(MOTO_AMI, "10s");
    // This sampler signs as Terraform does, so it sees the target health injected below.
    let watch = canary.sample_as_terraform(canary.probe().with_target_group(&tg_arn));
    let running = canary.spawn_apply();
    let at_step_two = watch.wait_for(
        "step 2: new at 2 in service, the old shrunk to 2",
        super::STEP_WAIT,
        |s| {
            new_group(s, &second).is_some_and(|g| g.desired == 2 && g.in_service() == 2)
                && s.group(&second.asg_name).is_some_and(|g| g.desired == 2)
        },
    );
    // Instances launched from now on (the old generation scaling back up) register slowly:
    // `initial` in the target group for 8 s. Removing the new generation before they serve
    // would leave 2 serving instances, below the minimum of 3, long enough to be sampled.
    let present: Vec<String> = at_step_two
        .value
        .groups
        .iter()
        .flat_map(GroupView::instance_ids)
        .collect();
    canary.faults.add(
        canary.key,
        Rule::target_health(&present, "initial", "Elb.RegistrationInProgress")
            .for_duration(Duration::from_secs(8)),
    );
    let reason = "Threshold Crossed: 5xx rate of the canary (e2e)";
    canary.scenario.aws.set_alarm_state(alarm, "ALARM", reason);
    let output = running.wait();
    let samples = watch.finish();
    canary.faults.clear(canary.key);
    assert_eq!(output.code, Some(1), "the apply must fail\n{output}");
    assert_mentions(&output, &["step 2/3 (50%)", alarm, reason, "rolled back"]);
    eprintln!("{}", diagnostics(&output));
    assert_serving_never_below(&samples);
    assert_old_back_before_new_removed(&samples, &second);
    let (state, _) = canary.scenario.aws.alarm_state(alarm).unwrap();
    assert_eq!(state, "ALARM");
    // The old generation is the fleet again at full size: the same ASG and template (its
    // instances are not all the same: it was shrunk and scaled back up).
    let now = canary.generation(MOTO_AMI_2);
    assert_eq!(now.asg_name, second.asg_name);
    assert_eq!(now.template_name, second.template_name);
    let values = super::state_of(&canary.workdir, &canary.fleet.address());
    assert_eq!(super::string_attr(&values, "id"), second.asg_name);
    assert_eq!(values["image_id"], MOTO_AMI_2);
    canary
        .scenario
        .aws
        .set_alarm_state(alarm, "OK", "e2e: recovered");
    canary.assert_replacement_planned();
    canary.destroy();
}

fn assert_serving_never_below(samples: &[Sample<FleetSnapshot>]) {
    for sample in samples {
        let serving = sample.value.serving_instances();
        assert!(
            serving.len() >= MIN_SERVING,
            "{} instances served ({serving:?}), fewer than {MIN_HEALTHY_PERCENT}% of {TARGET}: {:#?}",
            serving.len(),
            sample.value
        );
    }
}

/// From the first sample in which the new generation lost capacity on (removed, scaled in, or
/// an instance out of service), the old generation is back at the target, all InService.
fn assert_old_back_before_new_removed(samples: &[Sample<FleetSnapshot>], old: &Generation) {
    let peak = samples
        .iter()
        .position(|s| new_group(&s.value, old).is_some_and(|g| g.in_service() == 2))
        .expect("the new generation reached step 2");
    let removal = samples[peak..]
        .iter()
        .position(|s| new_group(&s.value, old).is_none_or(|g| g.desired < 2 || g.in_service() < 2))
        .map(|offset| peak + offset)
        .expect("the new generation was removed");
    for sample in &samples[removal..] {
        let group = sample
            .value
            .group(&old.asg_name)
            .unwrap_or_else(|| panic!("the old ASG disappeared: {:#?}", sample.value));
        assert!(
            group.desired == TARGET && group.in_service() == usize::try_from(TARGET).unwrap(),
            "the new generation was being removed before the old one was back at {TARGET} \
             in service: {:#?}",
            sample.value
        );
    }
}
