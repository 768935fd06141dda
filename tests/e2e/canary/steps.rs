//! Scenario 1: steps [25, 50] on a fleet of 4. The new generation's desired goes 1 → 2 → 4,
//! each step (the implied 100 % too) is held `assess_for`, the old generation is untouched
//! and deleted only at the end, and every step logs its progress at INFO.

use std::time::Duration;

use e2e::sampler::distinct_in_order;
use e2e::{MOTO_AMI_2, TfOutput};

use super::{
    Canary, TARGET, assert_old_untouched, diagnostics, held_at_least, new_group, state_of,
    string_attr,
};

#[test]
fn canary_steps_grow_the_new_generation_and_hold_each_step() {
    let mut canary = Canary::start("canary-steps", "e2e-canary-steps", "e2e-cn-steps");
    let alarm = "e2e-cn-steps-5xx";
    canary.alarm_ok(alarm);
    canary.rollout().alarms = vec![alarm.to_owned()];
    let old = canary.apply_first_generation();

    let assess = Duration::from_secs(4);
    canary.step("image change, steps [25, 50], assess_for 4s; sample moto while it applies");
    canary.change_image(MOTO_AMI_2, "4s");
    canary.faults.reset_calls(canary.key);
    let watch = canary.sample(canary.probe());
    let output = canary.spawn_apply().wait();
    let samples = watch.finish();
    assert_eq!(
        output.code,
        Some(0),
        "the canary rollout succeeds\n{output}"
    );
    canary.report_calls("canary rollout");

    // The new generation's desired capacity, step by step (a group created at 0 and then
    // scaled is the same rollout).
    let desired = distinct_in_order(&samples, |s| new_group(s, &old).map(|g| g.desired));
    let grown: Vec<i32> = desired
        .iter()
        .flatten()
        .copied()
        .skip_while(|&d| d == 0)
        .collect();
    canary.step(&format!("new desired as sampled: {desired:?}"));
    assert_eq!(
        grown,
        [1, 2, TARGET],
        "new desired 1 -> 2 -> 4: {desired:?}"
    );

    // Until the new generation reached the target, the old one is whole and untouched.
    let full = samples
        .iter()
        .position(|s| new_group(&s.value, &old).is_some_and(|g| g.desired == TARGET))
        .expect("the new generation reached the target");
    assert_old_untouched(&samples[..=full], &old);

    // Each step is held for assess_for: the desired capacity stays put that long after the
    // step began, and the old generation outlives the last step by as much.
    let first_at = |pred: &dyn Fn(&super::FleetSnapshot) -> bool| {
        samples
            .iter()
            .position(|s| pred(&s.value))
            .unwrap_or_else(|| panic!("never sampled"))
    };
    for (step, (from, to)) in [(1, 2), (2, TARGET)].into_iter().enumerate() {
        let reached = first_at(&|s| new_group(s, &old).is_some_and(|g| g.desired >= from));
        let next = first_at(&|s| new_group(s, &old).is_some_and(|g| g.desired >= to));
        assert!(reached > 0, "step {} was sampled from its start", step + 1);
        let (held, span) = held_at_least(&samples[reached - 1], &samples[next], assess);
        canary.step(&format!(
            "step {} held at most {:.1}s (sampled)",
            step + 1,
            span.as_secs_f64()
        ));
        assert!(
            held,
            "step {} ({from} instances) lasted at most {:.1}s, less than assess_for 4s",
            step + 1,
            span.as_secs_f64()
        );
    }
    let old_gone = first_at(&|s| {
        s.group(&old.asg_name)
            .is_none_or(|g| g.desired != TARGET || g.instance_ids() != old.instance_ids)
    });
    assert!(
        old_gone > full,
        "the old generation changed before the new one reached the target"
    );
    assert!(full > 0, "the last step was sampled from its start");
    let (held, span) = held_at_least(&samples[full - 1], &samples[old_gone], assess);
    canary.step(&format!(
        "step 3 held at most {:.1}s (sampled) before the old generation went",
        span.as_secs_f64()
    ));
    assert!(
        held,
        "the last step (100%) lasted at most {:.1}s before the old generation went, less \
         than assess_for 4s",
        span.as_secs_f64()
    );

    assert_progress_logged(&canary.fleet.name, &output);
    eprintln!("{}", diagnostics(&output));

    let new = canary.generation(MOTO_AMI_2);
    assert_ne!(new.asg_name, old.asg_name);
    assert!(
        canary.scenario.aws.asg(&old.asg_name).is_none(),
        "the old ASG is deleted at the end"
    );
    let values = state_of(&canary.workdir, &canary.fleet.address());
    assert_eq!(string_attr(&values, "id"), new.asg_name);
    canary.workdir.assert_no_changes("after the canary rollout");
    canary.destroy();
}

/// Every step logs its progress at INFO: `<fleet>: step 2/3 (50%): 2/2 healthy, alarms OK,
/// assess 3s/4s`.
fn assert_progress_logged(fleet: &str, output: &TfOutput) {
    for (step, percent, healthy) in [(1, 25, "1/1"), (2, 50, "2/2"), (3, 100, "4/4")] {
        let prefix = format!("{fleet}: step {step}/3 ({percent}%): ");
        let logged = output.stderr.lines().any(|line| {
            line.contains(&prefix)
                && line.contains(&format!("{healthy} healthy"))
                && line.contains("alarms OK")
                && line.contains("assess ")
                && line.contains("/4s")
        });
        assert!(
            logged,
            "no progress line `{prefix}{healthy} healthy, alarms OK, assess …/4s` at INFO\n{}",
            output.stderr
        );
    }
}
