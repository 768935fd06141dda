//! Scenario 2: a new `image_id` is a create-before-destroy replacement: a new generation
//! (ASG + launch template) comes up, then the old one is removed.

use e2e::plan::{self, actions, replaces_because_of};
use e2e::{MOTO_AMI, MOTO_AMI_2};

use crate::{Scenario, assert_state_matches, state_of};

const FLEET: &str = "e2e-replace";

#[test]
fn changing_the_image_replaces_the_fleet_create_before_destroy() {
    let scenario = Scenario::start("replace");
    assert!(
        scenario.aws.image_exists(MOTO_AMI_2),
        "precondition: moto ships {MOTO_AMI_2}"
    );
    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.desired_capacity = Some(2);
    let address = fleet.address();

    scenario.step(&format!("apply {FLEET} on {MOTO_AMI}"));
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let (old_asg, old_template, old_instances) = scenario.assert_one_generation(FLEET, MOTO_AMI, 2);
    let old_values = state_of(&workdir, &address);
    let old_asg_name = old_asg.auto_scaling_group_name().unwrap().to_owned();
    let old_template_id = old_template.launch_template_id().unwrap().to_owned();

    scenario.step(&format!(
        "change image_id to {MOTO_AMI_2}: the plan must replace"
    ));
    fleet.image_id = MOTO_AMI_2.to_owned();
    scenario.write_config(&workdir, &[&fleet]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(
        actions(change),
        ["create", "delete"],
        "create-before-destroy replacement expected: {change:#}"
    );
    assert!(
        replaces_because_of(change, "image_id"),
        "replace_paths must name image_id: {change:#}"
    );
    assert_eq!(
        change["action_reason"], "replace_because_cannot_update",
        "{change:#}"
    );

    scenario.step("apply the saved plan");
    let applied = workdir.apply_saved_plan();
    let created = applied
        .stdout
        .find(&format!("{address}: Creation complete"))
        .unwrap_or_else(|| panic!("no creation in the apply output\n{applied}"));
    let destroyed = applied
        .stdout
        .find("(deposed object")
        .unwrap_or_else(|| panic!("the old generation was not destroyed\n{applied}"));
    assert!(
        created < destroyed,
        "the new generation must be created before the old one is destroyed\n{applied}"
    );

    let (new_asg, new_template, new_instances) =
        scenario.assert_one_generation(FLEET, MOTO_AMI_2, 2);
    let new_asg_name = new_asg.auto_scaling_group_name().unwrap();
    assert_ne!(new_asg_name, old_asg_name, "a replacement is a new ASG");
    assert_ne!(
        new_template.launch_template_id(),
        Some(old_template_id.as_str())
    );
    assert!(
        scenario.aws.asg(&old_asg_name).is_none(),
        "old ASG {old_asg_name} is gone"
    );
    assert!(
        !scenario.aws.launch_template_exists(&old_template_id),
        "old launch template {old_template_id} is gone"
    );
    let live = scenario.aws.live_instances_of_fleet(FLEET);
    for old in &old_instances {
        assert!(
            live.iter()
                .all(|instance| instance.instance_id() != old.instance_id()),
            "old instance {:?} still runs",
            old.instance_id()
        );
    }
    assert_eq!(
        live.len(),
        new_instances.len(),
        "only the new generation runs"
    );

    let new_values = state_of(&workdir, &address);
    assert_state_matches(&new_values, &new_asg, &new_template);
    assert_eq!(new_values["image_id"], MOTO_AMI_2);
    assert!(
        new_values["generation"].as_f64() > old_values["generation"].as_f64(),
        "generation must grow: {} -> {}",
        old_values["generation"],
        new_values["generation"]
    );

    scenario.step("plan again: nothing to do");
    workdir.assert_no_changes("after the replacement");
}
