//! Scenario 3: capacity and tags change in place; the generation stays.

use e2e::MOTO_AMI;
use e2e::plan::{self, actions, replace_paths};

use crate::{Scenario, state_of};

const FLEET: &str = "e2e-scale";

#[test]
fn capacity_and_tags_change_in_place() {
    let scenario = Scenario::start("scale");
    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.desired_capacity = Some(1);
    let address = fleet.address();

    scenario.step("apply with desired_capacity = 1");
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let (asg, _, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    let generation = state_of(&workdir, &address)["generation"].clone();

    scenario.step("desired_capacity = 3: the plan must update in place");
    fleet.desired_capacity = Some(3);
    scenario.write_config(&workdir, &[&fleet]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["update"], "{change:#}");
    assert!(replace_paths(change).is_empty(), "{change:#}");
    assert_eq!(
        change["change"]["after"]["desired_capacity"], 3,
        "{change:#}"
    );
    workdir.apply_saved_plan();

    let (scaled, _, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 3);
    assert_eq!(
        scaled.auto_scaling_group_name(),
        Some(asg_name.as_str()),
        "same ASG"
    );
    let values = state_of(&workdir, &address);
    assert_eq!(values["desired_capacity"], 3);
    assert_eq!(
        values["generation"], generation,
        "scaling is not a new generation"
    );
    workdir.assert_no_changes("after scaling out");

    scenario.step("add a tag: the plan must update in place");
    fleet.tags.insert("env".to_owned(), "e2e".to_owned());
    scenario.write_config(&workdir, &[&fleet]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["update"], "{change:#}");
    workdir.apply_saved_plan();
    let asg = scenario
        .aws
        .asg(&asg_name)
        .expect("the ASG survives a tag change");
    assert_eq!(e2e::asg_tag(&asg, "env"), Some("e2e"));
    workdir.assert_no_changes("after tagging");
}
