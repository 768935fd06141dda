//! Lifecycle hooks and the gate, through the fault proxy (moto's hooks never hold an
//! instance): instances a launching hook holds in `Pending:Wait` keep the gate waiting, and a
//! launch the hook abandoned fails the gate at once and rolls the new generation back.

use std::time::Duration;

use e2e::{MOTO_AMI, MOTO_AMI_2, Rule};

use super::{Rollout, assert_mentions};

#[test]
fn a_launching_hook_holds_the_gate_and_an_abandoned_launch_fails_it_fast() {
    let mut rollout = Rollout::start("rollout-hooks", "e2e-rollout-hooks", "e2e-ro-hooks");
    rollout.fleet.extra_hcl =
        "lifecycle_hook {\n  name       = \"warm-up\"\n  transition = \"launching\"\n}".to_owned();
    rollout.apply_first_generation();

    let held = format!("{}-g2", rollout.fleet.name);
    rollout.step(&format!(
        "{held}: the hook holds every instance in Pending:Wait for 4s"
    ));
    rollout.faults.add(
        rollout.key,
        Rule::lifecycle_state(&held, "Pending:Wait").for_duration(Duration::from_secs(4)),
    );
    rollout.change_image(MOTO_AMI_2, "0s", "5m");
    rollout.workdir.apply(&[]);
    assert!(
        rollout.faults.fired(rollout.key) > 0,
        "the gate polled while the hook held the instances"
    );
    let current = rollout.generation(MOTO_AMI_2);
    assert_eq!(
        current.asg_name, held,
        "the held generation passed once released"
    );
    rollout.faults.clear(rollout.key);

    let abandoned = format!("{}-g3", rollout.fleet.name);
    let message = "Instance failed to complete user's Lifecycle Action: Lifecycle Action with \
                   token 5f1a was abandoned: Lifecycle Action Completed with ABANDON Result";
    rollout.step(&format!(
        "{abandoned}: the hook abandons the launch; timeout 5m"
    ));
    rollout.faults.add(
        rollout.key,
        Rule::lifecycle_state(&abandoned, "Pending:Wait"),
    );
    rollout.faults.add(
        rollout.key,
        Rule::failed_scaling_activity(message).status_code("Cancelled"),
    );
    rollout.change_image(MOTO_AMI, "0s", "5m");
    let output = rollout
        .workdir
        .run_expecting(&["apply", "-auto-approve", "-input=false"], &[1]);
    assert_mentions(
        &output,
        &[
            &format!(
                "Fleet {}: new generation {abandoned} failed its health gate and was rolled back",
                rollout.fleet.name
            ),
            "a launching lifecycle hook abandoned the launch",
            "ABANDON Result",
        ],
    );
    rollout.faults.clear(rollout.key);
    rollout.assert_gone(&abandoned, &[]);
    let current = rollout.generation(MOTO_AMI_2);
    assert_eq!(
        current.asg_name, held,
        "the previous generation keeps serving"
    );
}
