//! Scenario 4: the fleet is deleted behind Terraform's back; the plan proposes to create it.

use e2e::MOTO_AMI;
use e2e::plan::{self, actions};

use crate::Scenario;

const FLEET: &str = "e2e-drift";

#[test]
fn a_fleet_deleted_out_of_band_is_recreated() {
    let scenario = Scenario::start("drift");
    let workdir = scenario.workdir();
    let fleet = scenario.fleet("this", FLEET);
    let address = fleet.address();

    scenario.step("apply");
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let (asg, template, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    let template_id = template.launch_template_id().unwrap().to_owned();

    scenario.step(&format!(
        "delete ASG {asg_name} and template {template_id} with the SDK"
    ));
    scenario.aws.delete_asg(&asg_name);
    scenario.aws.delete_launch_template(&template_id);
    assert!(
        scenario.aws.fleet_asgs(FLEET).is_empty(),
        "precondition: ASG deleted"
    );
    assert!(
        scenario.aws.live_instances_of_fleet(FLEET).is_empty(),
        "precondition: instances gone"
    );

    scenario.step("plan: the fleet is gone, so it must be created");
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["create"], "{change:#}");

    scenario.step("apply restores it");
    workdir.apply_saved_plan();
    scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    workdir.assert_no_changes("after restoring the fleet");
}
