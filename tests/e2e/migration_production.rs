//! Migration of a production-shaped group (the one in
//! `docs/guides/migrating-from-aws-autoscaling-group.md`): created outside this provider with
//! the SDK, as the AWS provider would, with an encrypted gp3 root volume, IMDSv2 with two hops,
//! detailed monitoring, a mixed instances policy with a Spot share, a launching lifecycle hook,
//! CPU target tracking, an instance lifetime and capacity rebalancing. Imported by name with
//! the guide's HCL (`terraform import` under 1.0.3, an `import` block under ≥ 1.5), the next
//! plan is empty; destroy leaves the user's template alone.

use aws_sdk_autoscaling::types::{
    InstancesDistribution, LaunchTemplate, LaunchTemplateOverrides, LaunchTemplateSpecification,
    MixedInstancesPolicy, PredefinedMetricSpecification, TargetTrackingConfiguration,
};
use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
    LaunchTemplateHttpTokensState, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplatesMonitoringRequest, RequestLaunchTemplateData, VolumeType,
};
use e2e::MOTO_AMI;
use e2e::plan::{actions, resource_change};

use crate::Scenario;

const GROUP: &str = "e2e-prod";

fn create_template(scenario: &Scenario) -> String {
    let data = RequestLaunchTemplateData::builder()
        .image_id(MOTO_AMI)
        .instance_type(InstanceType::T3Micro)
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name("/dev/xvda")
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .volume_size(30)
                        .volume_type(VolumeType::Gp3)
                        .encrypted(true)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .metadata_options(
            LaunchTemplateInstanceMetadataOptionsRequest::builder()
                .http_tokens(LaunchTemplateHttpTokensState::Required)
                .http_put_response_hop_limit(2)
                .build(),
        )
        .monitoring(
            LaunchTemplatesMonitoringRequest::builder()
                .enabled(true)
                .build(),
        )
        .build();
    let aws = &scenario.aws;
    let out = aws
        .block_on(
            aws.ec2
                .create_launch_template()
                .launch_template_name(format!("{GROUP}-lt"))
                .launch_template_data(data)
                .send(),
        )
        .unwrap();
    out.launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap()
        .to_owned()
}

fn create_group(scenario: &Scenario, template_id: &str) {
    let aws = &scenario.aws;
    let policy = MixedInstancesPolicy::builder()
        .launch_template(
            LaunchTemplate::builder()
                .launch_template_specification(
                    LaunchTemplateSpecification::builder()
                        .launch_template_id(template_id)
                        .version("1")
                        .build(),
                )
                .overrides(
                    LaunchTemplateOverrides::builder()
                        .instance_type("t3.micro")
                        .build(),
                )
                .overrides(
                    LaunchTemplateOverrides::builder()
                        .instance_type("t3a.micro")
                        .build(),
                )
                .build(),
        )
        .instances_distribution(
            InstancesDistribution::builder()
                .on_demand_base_capacity(1)
                .on_demand_percentage_above_base_capacity(25)
                .spot_allocation_strategy("price-capacity-optimized")
                .on_demand_allocation_strategy("prioritized")
                .build(),
        )
        .build();
    aws.block_on(
        aws.autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(GROUP)
            .mixed_instances_policy(policy)
            .min_size(1)
            .max_size(4)
            .desired_capacity(1)
            .vpc_zone_identifier(scenario.subnets.join(","))
            .health_check_type("EC2")
            .health_check_grace_period(10)
            .max_instance_lifetime(1_209_600)
            .capacity_rebalance(true)
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.autoscaling
            .put_lifecycle_hook()
            .auto_scaling_group_name(GROUP)
            .lifecycle_hook_name("warm-up")
            .lifecycle_transition("autoscaling:EC2_INSTANCE_LAUNCHING")
            .heartbeat_timeout(600)
            .default_result("ABANDON")
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.autoscaling
            .put_scaling_policy()
            .auto_scaling_group_name(GROUP)
            .policy_name("cpu")
            .policy_type("TargetTrackingScaling")
            .target_tracking_configuration(
                TargetTrackingConfiguration::builder()
                    .predefined_metric_specification(
                        PredefinedMetricSpecification::builder()
                            .predefined_metric_type("ASGAverageCPUUtilization".into())
                            .build(),
                    )
                    .target_value(50.0)
                    .build(),
            )
            .send(),
    )
    .unwrap();
}

/// The guide's HCL for this group (without the target group the test has no load balancer
/// for).
const HCL: &str = r#"monitoring = true
block_device_mapping {
  device_name = "/dev/xvda"
  volume_size = 30
}
metadata_options {
  http_put_response_hop_limit = 2
}
mixed_instances {
  override {
    instance_type = "t3.micro"
  }
  override {
    instance_type = "t3a.micro"
  }
  on_demand_base_capacity                  = 1
  on_demand_percentage_above_base_capacity = 25
}
lifecycle_hook {
  name              = "warm-up"
  transition        = "launching"
  heartbeat_timeout = "10m"
}
scaling_policy {
  name         = "cpu"
  metric       = "cpu"
  target_value = 50
}
max_instance_lifetime = "336h"
capacity_rebalance    = true"#;

#[test]
fn a_production_group_imports_with_the_guides_hcl_and_plans_nothing() {
    let scenario = Scenario::start("migration_production");
    scenario.step("create the group the way the AWS provider would");
    let template_id = create_template(&scenario);
    create_group(&scenario, &template_id);

    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("web", GROUP);
    fleet.extra_hcl = HCL.to_owned();
    // The group's own health check; the gate's defaults for the rest.
    fleet.health_check = Some(e2e::hcl::HealthCheck {
        timeout: "10m".to_owned(),
        ..e2e::hcl::HealthCheck::default()
    });
    scenario.write_config(&workdir, &[&fleet]);
    let address = fleet.address();

    if e2e::terraform_version() >= (1, 5) {
        scenario.step(&format!(
            "an import block for {GROUP} (Terraform ≥ 1.5): import only"
        ));
        let main = format!(
            "{}\nimport {{\n  to = {address}\n  id = {GROUP:?}\n}}\n",
            e2e::hcl::config(&e2e::hcl::provider_block(), &[&fleet])
        );
        workdir.write("main.tf", &main);
        let planned = workdir.plan_json(&[]);
        let change = resource_change(&planned, &address);
        assert_eq!(actions(change), ["no-op"], "only the import: {change:#}");
        assert_eq!(change["change"]["importing"]["id"], GROUP, "{change:#}");
        workdir.apply_saved_plan();
    } else {
        scenario.step(&format!("terraform import {GROUP}"));
        workdir.run(&["import", "-input=false", &address, GROUP]);
    }
    workdir.assert_no_changes("after importing a production group with the guide's HCL");

    scenario.step("destroy: the group goes, the user's template stays");
    workdir.destroy(&[]);
    assert!(scenario.aws.asg(GROUP).is_none(), "the group is deleted");
    assert!(
        scenario.aws.launch_template_exists(&template_id),
        "the imported group's template is the user's"
    );
    scenario.aws.delete_launch_template(&template_id);
}
