//! Scenario 1: `examples/quickstart` as a user runs it: apply a create-before-destroy fleet,
//! find it in AWS, and plan again with no changes.

use e2e::{MOTO_AMI, repo_root};

use crate::{Scenario, assert_state_matches, state_of};

const FLEET: &str = "web";
const ADDRESS: &str = "immutable_fleet.web";

#[test]
fn quickstart_applies_one_generation_and_replans_clean() {
    let scenario = Scenario::start("quickstart");
    let mut workdir = scenario.workdir();
    workdir.copy_from(&repo_root().join("examples/quickstart"));
    let subnets = serde_json::to_string(&scenario.subnets).unwrap();
    workdir.set_env("TF_VAR_subnet_ids", &subnets);

    scenario.step("terraform apply examples/quickstart");
    workdir.apply(&[]);

    let (asg, template, instances) = scenario.assert_one_generation(FLEET, MOTO_AMI, 2);
    assert_eq!(asg.min_size(), Some(1));
    assert_eq!(asg.max_size(), Some(4));
    assert_eq!(
        e2e::asg_tag(&asg, "team"),
        Some("web"),
        "user tags reach the ASG"
    );
    assert!(
        e2e::asg_tag(&asg, e2e::GENERATION_TAG).is_some(),
        "the ASG carries its generation tag"
    );
    assert!(
        e2e::asg_tag(&asg, "immutable:fingerprint").is_some(),
        "the ASG carries the fingerprint of its baked attributes"
    );
    for instance in &instances {
        assert_eq!(
            instance
                .instance_type()
                .map(aws_sdk_ec2::types::InstanceType::as_str),
            Some("t3.micro"),
            "instance {:?}",
            instance.instance_id()
        );
    }

    let values = state_of(&workdir, ADDRESS);
    assert_state_matches(&values, &asg, &template);
    let outputs = workdir.outputs();
    assert_eq!(
        outputs["autoscaling_group_name"]["value"].as_str(),
        asg.auto_scaling_group_name(),
        "output autoscaling_group_name"
    );

    scenario.step("plan again: nothing to do");
    workdir.assert_no_changes("after applying the quickstart");
}
