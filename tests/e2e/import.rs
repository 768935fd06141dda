//! Scenario 5: `terraform import` of a fleet by ASG name rebuilds a state that matches the
//! configuration.

use e2e::MOTO_AMI;

use crate::{Scenario, assert_state_matches, state_of};

const FLEET: &str = "e2e-import";

#[test]
fn import_by_asg_name_plans_no_changes() {
    let scenario = Scenario::start("import");
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.desired_capacity = Some(2);
    fleet.user_data = Some("#!/bin/sh\necho imported\n".to_owned());
    fleet.tags.insert("team".to_owned(), "import".to_owned());
    let address = fleet.address();

    scenario.step("a first working directory creates the fleet");
    let creator = scenario.workdir();
    scenario.write_config(&creator, &[&fleet]);
    creator.apply(&[]);
    let (asg, template, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 2);
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    let created = state_of(&creator, &address);

    scenario.step(&format!("a second working directory imports {asg_name}"));
    let importer = scenario.workdir();
    scenario.write_config(&importer, &[&fleet]);
    importer.run(&["import", "-input=false", &address, &asg_name]);
    let imported_state = state_of(&importer, &address);
    assert_state_matches(&imported_state, &asg, &template);
    for attribute in [
        "name",
        "image_id",
        "instance_type",
        "min_size",
        "max_size",
        "desired_capacity",
        "generation",
        "tags",
    ] {
        assert_eq!(
            imported_state[attribute], created[attribute],
            "imported {attribute} differs from the state that created the fleet"
        );
    }

    scenario.step("plan after import: nothing to do");
    importer.assert_no_changes("after import");

    scenario.step("destroy from the importing directory");
    importer.destroy(&[]);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty(), "no ASG left");
    assert!(
        scenario.aws.fleet_launch_templates(FLEET).is_empty(),
        "no launch template left"
    );
}
