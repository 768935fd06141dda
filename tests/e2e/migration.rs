//! Migration from `aws_autoscaling_group`: a group and launch template created outside this
//! provider (directly with the SDK, as the AWS provider would) are imported into
//! `immutable_fleet` by the group's name, adopted with in-place changes only, and the next image
//! change rolls out a generation `<name>-g1` through the gate. The old group is deleted; its
//! launch template, which another group shares, stays. A group whose template version is not
//! pinned is refused at import with an error that says what to do.

use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, Tag};
use aws_sdk_ec2::error::DisplayErrorContext;
use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use e2e::plan::{actions, changed_attributes, resource_change};
use e2e::{Aws, MOTO_AMI, MOTO_AMI_2};

use crate::{Scenario, state_of, string_attr};

/// The foreign group's name, which becomes the fleet's `name`.
const GROUP: &str = "e2e-migrate";
/// Another group on the same launch template: the template must outlive the migration.
const SHARER: &str = "e2e-lt-sharer";
/// A group on `$Latest`: not importable.
const UNPINNED: &str = "e2e-unpinned";

fn create_launch_template(aws: &Aws, name: &str) -> String {
    let data = RequestLaunchTemplateData::builder()
        .image_id(MOTO_AMI)
        .instance_type(InstanceType::T3Micro)
        .build();
    let out = aws
        .block_on(
            aws.ec2
                .create_launch_template()
                .launch_template_name(name)
                .launch_template_data(data)
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreateLaunchTemplate {name}: {}", DisplayErrorContext(&e)));
    out.launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap()
        .to_owned()
}

fn create_group(
    aws: &Aws,
    name: &str,
    template_id: &str,
    version: &str,
    desired: i32,
    subnets: &[String],
) {
    aws.block_on(
        aws.autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(name)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(template_id)
                    .version(version)
                    .build(),
            )
            .min_size(desired.min(1))
            .max_size(4)
            .desired_capacity(desired)
            .vpc_zone_identifier(subnets.join(","))
            .health_check_type("EC2")
            .health_check_grace_period(10)
            .tags(
                Tag::builder()
                    .key("team")
                    .value("migrate")
                    .propagate_at_launch(true)
                    .resource_id(name)
                    .resource_type("auto-scaling-group")
                    .build(),
            )
            .send(),
    )
    .unwrap_or_else(|e| panic!("CreateAutoScalingGroup {name}: {}", DisplayErrorContext(&e)));
}

#[test]
fn import_foreign_group_then_roll_out_a_new_image() {
    let scenario = Scenario::start("migration");
    let aws = &scenario.aws;

    scenario.step("an existing launch template and two groups on it, made without this provider");
    let template_id = create_launch_template(aws, "e2e-foreign-lt");
    create_group(aws, GROUP, &template_id, "1", 2, &scenario.subnets);
    create_group(aws, SHARER, &template_id, "1", 0, &scenario.subnets);

    // Autoscaled (no desired_capacity): the first rollout must start at the live capacity.
    let mut fleet = scenario.fleet("web", GROUP);
    fleet.desired_capacity = None;
    fleet.tags.insert("team".to_owned(), "migrate".to_owned());
    // The template names no metadata options, which for AWS means IMDSv1 allowed; the
    // migration guide says to write that down (a fleet without the block requires IMDSv2).
    fleet.extra_hcl = "metadata_options {\n  http_tokens = \"optional\"\n}".to_owned();
    let address = fleet.address();
    let workdir = scenario.workdir();
    scenario.write_config(&workdir, &[&fleet]);

    scenario.step(&format!("terraform import {address} {GROUP}"));
    workdir.run(&["import", "-input=false", &address, GROUP]);
    let imported = state_of(&workdir, &address);
    assert_eq!(string_attr(&imported, "name"), GROUP);
    assert_eq!(string_attr(&imported, "image_id"), MOTO_AMI);
    assert_eq!(string_attr(&imported, "launch_template_id"), template_id);
    assert_eq!(imported["generation"], 0, "a foreign group is generation 0");
    assert_eq!(imported["desired_capacity"], 2);
    assert_eq!(imported["tags"]["team"], "migrate");
    let adopted = aws.asg(GROUP).unwrap();
    assert_eq!(e2e::asg_tag(&adopted, e2e::FLEET_TAG), Some(GROUP));
    assert_eq!(e2e::asg_tag(&adopted, e2e::GENERATION_TAG), Some("0"));

    scenario.step("first plan: only the health_check block, in place");
    let plan = workdir.plan_json(&[]);
    let change = resource_change(&plan, &address);
    assert_eq!(actions(change), ["update"], "{change:#}");
    assert_eq!(changed_attributes(change), ["health_check"], "{change:#}");
    workdir.apply_saved_plan();
    workdir.assert_no_changes("after adopting the group");
    assert!(
        aws.asg(GROUP).is_some(),
        "adopting does not replace the group"
    );

    scenario.step("new image: a generation e2e-migrate-g1 rolls out through the gate");
    fleet.image_id = MOTO_AMI_2.to_owned();
    scenario.write_config(&workdir, &[&fleet]);
    let plan = workdir.plan_json(&[]);
    let change = resource_change(&plan, &address);
    assert_eq!(actions(change), ["create", "delete"], "{change:#}");
    workdir.apply_saved_plan();
    let (asg, _, _) = scenario.assert_one_generation(GROUP, MOTO_AMI_2, 2);
    assert_eq!(asg.auto_scaling_group_name(), Some("e2e-migrate-g1"));
    let state = state_of(&workdir, &address);
    assert_eq!(state["generation"], 1);
    assert_eq!(string_attr(&state, "id"), "e2e-migrate-g1");
    assert!(aws.asg(GROUP).is_none(), "the foreign group is deleted");
    assert!(
        aws.launch_template_exists(&template_id),
        "the foreign launch template (shared with {SHARER}) is kept"
    );
    workdir.assert_no_changes("after the first rollout");

    scenario.step("a group on $Latest is refused at import");
    create_group(aws, UNPINNED, &template_id, "$Latest", 0, &scenario.subnets);
    let unpinned = scenario.fleet("unpinned", UNPINNED);
    let refused = scenario.workdir();
    scenario.write_config(&refused, &[&unpinned]);
    let out = refused.run_expecting(
        &["import", "-input=false", &unpinned.address(), UNPINNED],
        &[1],
    );
    assert!(
        out.stderr.contains("Cannot import fleet")
            && out.stderr.contains("\"$Latest\"")
            && out.stderr.contains("Pin the group to a version number"),
        "{out}"
    );
    assert!(
        refused.state_values(&unpinned.address()).is_none(),
        "nothing imported"
    );

    scenario.step("destroy the fleet; clean up the groups made outside Terraform");
    workdir.destroy(&[]);
    assert!(
        scenario.aws.fleet_asgs(GROUP).is_empty(),
        "no fleet ASG left"
    );
    aws.delete_asg(UNPINNED);
    aws.delete_asg(SHARER);
    aws.delete_launch_template(&template_id);
}
