//! Scenario 6: `terraform destroy` leaves nothing of the fleet in AWS.

use e2e::MOTO_AMI;

use crate::Scenario;

const FLEET: &str = "e2e-destroy";

#[test]
fn destroy_leaves_nothing_behind() {
    let scenario = Scenario::start("destroy");
    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.desired_capacity = Some(2);

    scenario.step("apply");
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let (asg, template, instances) = scenario.assert_one_generation(FLEET, MOTO_AMI, 2);
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    let template_id = template.launch_template_id().unwrap().to_owned();

    scenario.step("destroy");
    workdir.destroy(&[]);
    assert!(
        scenario.aws.asg(&asg_name).is_none(),
        "ASG {asg_name} is gone"
    );
    assert!(
        scenario.aws.fleet_asgs(FLEET).is_empty(),
        "no ASG of the fleet"
    );
    assert!(
        !scenario.aws.launch_template_exists(&template_id),
        "launch template {template_id} is gone"
    );
    assert!(
        scenario.aws.fleet_launch_templates(FLEET).is_empty(),
        "no launch template of the fleet"
    );
    let live = scenario.aws.live_instances_of_fleet(FLEET);
    assert!(live.is_empty(), "instances still running: {live:?}");
    let all = scenario.aws.all_instances();
    for instance in &instances {
        let state = all
            .iter()
            .find(|candidate| candidate.instance_id() == instance.instance_id())
            .and_then(|found| found.state())
            .and_then(|state| state.name())
            .map(|name| name.as_str().to_owned());
        assert!(
            matches!(
                state.as_deref(),
                None | Some("shutting-down" | "terminated")
            ),
            "instance {:?} is {state:?}",
            instance.instance_id()
        );
    }
    let state = workdir.show_json(&[]);
    let resources = e2e::plan::module_resources(&state["values"]["root_module"]);
    assert!(resources.is_empty(), "the state still holds {resources:?}");
}
