//! The launch settings baked into each generation's template (disks, instance metadata,
//! public addressing, monitoring, EBS optimisation, CPU credits) and the mixed instances
//! policy of its group, with the real Terraform CLI
//! against moto: what the template holds, a changed setting and an out-of-band edit rolled
//! out as new generations, import, destroy.
//!
//! The second volume is `st1`, not `io1`/`io2`: moto launches instances from a template
//! without passing the volume's IOPS on, and then refuses provisioned-IOPS types
//! (`InvalidParameterDependency`). AWS keeps them; their plan-time checks are unit tests in
//! `provider/src/resources/fleet/validate/launch.rs`.

use aws_sdk_ec2::types::{
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    RequestLaunchTemplateData, ResponseLaunchTemplateData,
};
use e2e::MOTO_AMI;
use e2e::plan::{self, actions, replaces_because_of};

use crate::{Scenario, state_of};

const FLEET: &str = "e2e-launch";

/// Every launch setting, the root volume at `root_size` GiB.
fn settings(root_size: u32) -> String {
    format!(
        r#"associate_public_ip_address = true
monitoring                  = true
ebs_optimized               = true
credit_specification        = "unlimited"
block_device_mapping {{
  device_name = "/dev/xvda"
  volume_size = {root_size}
  iops        = 4000
  throughput  = 250
}}
block_device_mapping {{
  device_name           = "/dev/sdf"
  volume_type           = "st1"
  volume_size           = 500
  encrypted             = false
  delete_on_termination = false
}}
metadata_options {{
  http_put_response_hop_limit = 2
  instance_metadata_tags      = "enabled"
}}
mixed_instances {{
  override {{
    instance_type     = "t3.micro"
    weighted_capacity = 1
  }}
  override {{
    instance_type = "t3a.micro"
  }}
}}"#
    )
}

/// Version `version` of launch template `id`, as AWS returns it.
fn template_data(scenario: &Scenario, id: &str, version: &str) -> ResponseLaunchTemplateData {
    let out = scenario
        .aws
        .block_on(
            scenario
                .aws
                .ec2
                .describe_launch_template_versions()
                .launch_template_id(id)
                .versions(version)
                .send(),
        )
        .unwrap();
    out.launch_template_versions()[0]
        .launch_template_data()
        .unwrap()
        .clone()
}

/// Asserts that `data` holds every value of [`settings`], the root volume at `root_size`.
fn assert_template_holds_the_settings(
    data: &ResponseLaunchTemplateData,
    root_size: i32,
    security_group: &str,
) {
    let devices = data.block_device_mappings();
    assert_eq!(devices.len(), 2, "{data:#?}");
    let device = |name: &str| {
        devices
            .iter()
            .find(|d| d.device_name() == Some(name))
            .and_then(|d| d.ebs())
            .unwrap_or_else(|| panic!("no EBS mapping for {name}: {data:#?}"))
    };
    let root = device("/dev/xvda");
    assert_eq!(root.volume_size(), Some(root_size));
    assert_eq!(
        root.volume_type()
            .map(aws_sdk_ec2::types::VolumeType::as_str),
        Some("gp3"),
        "the default type"
    );
    assert_eq!((root.iops(), root.throughput()), (Some(4000), Some(250)));
    assert_eq!(
        root.encrypted(),
        Some(true),
        "volumes are encrypted by default"
    );
    assert_eq!(root.delete_on_termination(), Some(true));
    let data_volume = device("/dev/sdf");
    assert_eq!(
        data_volume
            .volume_type()
            .map(aws_sdk_ec2::types::VolumeType::as_str),
        Some("st1")
    );
    assert_eq!(
        (data_volume.volume_size(), data_volume.iops()),
        (Some(500), None)
    );
    assert_eq!(
        (data_volume.encrypted(), data_volume.delete_on_termination()),
        (Some(false), Some(false))
    );
    let metadata = data.metadata_options().expect("metadata options");
    assert_eq!(
        metadata.http_tokens(),
        Some(&LaunchTemplateHttpTokensState::Required),
        "IMDSv2 stays required when the block sets other options"
    );
    assert_eq!(metadata.http_put_response_hop_limit(), Some(2));
    assert_eq!(
        metadata
            .instance_metadata_tags()
            .map(aws_sdk_ec2::types::LaunchTemplateInstanceMetadataTagsState::as_str),
        Some("enabled")
    );
    let interfaces = data.network_interfaces();
    assert_eq!(interfaces.len(), 1, "{data:#?}");
    assert_eq!(interfaces[0].associate_public_ip_address(), Some(true));
    assert_eq!(
        interfaces[0].groups(),
        [security_group],
        "the security groups move onto the interface"
    );
    assert!(data.security_group_ids().is_empty(), "{data:#?}");
    assert_eq!(
        data.monitoring()
            .and_then(aws_sdk_ec2::types::LaunchTemplatesMonitoring::enabled),
        Some(true)
    );
    assert_eq!(data.ebs_optimized(), Some(true));
    assert_eq!(
        data.credit_specification().and_then(|c| c.cpu_credits()),
        Some("unlimited")
    );
}

/// Asserts that the group launches the template's generation through the mixed instances
/// policy of [`settings`], the distribution's defaults filled in.
fn assert_group_mixes_types(asg: &aws_sdk_autoscaling::types::AutoScalingGroup) {
    let policy = asg
        .mixed_instances_policy()
        .expect("a mixed instances policy");
    let overrides: Vec<(Option<&str>, Option<&str>)> = policy
        .launch_template()
        .map(aws_sdk_autoscaling::types::LaunchTemplate::overrides)
        .unwrap_or_default()
        .iter()
        .map(|o| (o.instance_type(), o.weighted_capacity()))
        .collect();
    assert_eq!(
        overrides,
        [(Some("t3.micro"), Some("1")), (Some("t3a.micro"), None)]
    );
    let distribution = policy.instances_distribution().expect("a distribution");
    assert_eq!(distribution.on_demand_base_capacity(), Some(0));
    assert_eq!(
        distribution.on_demand_percentage_above_base_capacity(),
        Some(100)
    );
    assert_eq!(
        distribution.spot_allocation_strategy(),
        Some("price-capacity-optimized")
    );
    assert_eq!(
        distribution.on_demand_allocation_strategy(),
        Some("prioritized")
    );
    assert!(
        asg.launch_template().is_none(),
        "the template is in the policy"
    );
}

fn default_security_group(scenario: &Scenario) -> String {
    let out = scenario
        .aws
        .block_on(scenario.aws.ec2.describe_security_groups().send())
        .unwrap();
    out.security_groups()
        .iter()
        .find(|g| g.group_name() == Some("default"))
        .and_then(|g| g.group_id())
        .expect("moto's default security group")
        .to_owned()
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn every_launch_setting_lands_in_the_template_rolls_out_and_imports() {
    let scenario = Scenario::start("launch_settings");
    let workdir = scenario.workdir();
    let security_group = default_security_group(&scenario);
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.security_group_ids = vec![security_group.clone()];
    fleet.extra_hcl = settings(20);
    let address = fleet.address();

    scenario.step("apply a fleet that sets every launch setting");
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let (asg, template, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let template_id = template.launch_template_id().unwrap().to_owned();
    assert_group_mixes_types(&asg);
    assert_template_holds_the_settings(
        &template_data(&scenario, &template_id, "1"),
        20,
        &security_group,
    );
    let state = state_of(&workdir, &address);
    assert_eq!(
        state["block_device_mapping"].as_array().map(Vec::len),
        Some(2),
        "{state:#}"
    );
    workdir.assert_no_changes("after create: defaults resolved in state match the template");

    scenario.step("out of band: template version 2 (image, type, hop limit 1); the group uses it");
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    let edited = RequestLaunchTemplateData::builder()
        .image_id(MOTO_AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(1)
                .build(),
        )
        .build();
    scenario
        .aws
        .block_on(
            scenario
                .aws
                .ec2
                .create_launch_template_version()
                .launch_template_id(&template_id)
                .launch_template_data(edited)
                .send(),
        )
        .unwrap();
    scenario
        .aws
        .block_on(
            scenario
                .aws
                .autoscaling
                .update_auto_scaling_group()
                .auto_scaling_group_name(&asg_name)
                .launch_template(
                    aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                        .launch_template_id(&template_id)
                        .version("2")
                        .build(),
                )
                .send(),
        )
        .unwrap();
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["create", "delete"], "{change:#}");
    assert!(
        plan::replace_paths(change)
            .iter()
            .any(|p| p.first().and_then(|s| s.as_str()) == Some("metadata_options")),
        "the edited setting shows as drift that forces a replacement: {change:#}"
    );

    scenario.step("apply restores the declared settings in a new generation");
    workdir.apply_saved_plan();
    let (_, template, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let restored = template.launch_template_id().unwrap().to_owned();
    assert_ne!(restored, template_id);
    assert_template_holds_the_settings(
        &template_data(&scenario, &restored, "1"),
        20,
        &security_group,
    );
    workdir.assert_no_changes("after restoring");

    scenario.step("a bigger root volume rolls out a new generation");
    fleet.extra_hcl = settings(30);
    scenario.write_config(&workdir, &[&fleet]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["create", "delete"], "{change:#}");
    assert!(
        replaces_because_of(change, "block_device_mapping"),
        "{change:#}"
    );
    workdir.apply_saved_plan();
    let (asg, template, _) = scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();
    assert_eq!(asg_name, format!("{FLEET}-g3"));
    assert_template_holds_the_settings(
        &template_data(&scenario, template.launch_template_id().unwrap(), "1"),
        30,
        &security_group,
    );
    workdir.assert_no_changes("after the rollout");

    scenario.step("each other launch setting, changed alone, plans a replacement because of it");
    for (from, to, path) in [
        (
            "associate_public_ip_address = true",
            "associate_public_ip_address = false",
            "associate_public_ip_address",
        ),
        (
            "monitoring                  = true",
            "monitoring                  = false",
            "monitoring",
        ),
        (
            "ebs_optimized               = true",
            "ebs_optimized               = false",
            "ebs_optimized",
        ),
        ("\"unlimited\"", "\"standard\"", "credit_specification"),
        ("\"enabled\"", "\"disabled\"", "metadata_options"),
        ("\"t3a.micro\"", "\"t3.small\"", "mixed_instances"),
    ] {
        let mut changed = fleet.clone();
        changed.extra_hcl = settings(30).replace(from, to);
        assert_ne!(changed.extra_hcl, settings(30), "{from} is in the settings");
        scenario.write_config(&workdir, &[&changed]);
        let planned = workdir.plan_json(&[]);
        let change = plan::resource_change(&planned, &address);
        assert_eq!(actions(change), ["create", "delete"], "{path}: {change:#}");
        let paths = plan::replace_paths(change);
        assert!(
            !paths.is_empty()
                && paths
                    .iter()
                    .all(|p| p.first().and_then(|s| s.as_str()) == Some(path)),
            "{path} alone forces the replacement: {paths:?}"
        );
    }
    scenario.write_config(&workdir, &[&fleet]);

    scenario.step(&format!("a second working directory imports {asg_name}"));
    let importer = scenario.workdir();
    scenario.write_config(&importer, &[&fleet]);
    importer.run(&["import", "-input=false", &address, &asg_name]);
    importer.assert_no_changes("after import: the settings are rebuilt from AWS");

    scenario.step("destroy leaves nothing of the fleet");
    importer.destroy(&[]);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty());
    assert!(scenario.aws.fleet_launch_templates(FLEET).is_empty());
}
