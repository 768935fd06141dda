//! End-to-end scenarios: the real Terraform 1.0.3 CLI drives `terraform-provider-immutable`
//! against moto. One test binary; every scenario uses its own fleet name, so all of them share
//! the process's one moto without resets.
//!
//! Needs `scripts/setup-venv.sh` (Terraform and moto in `.venv/`) and
//! `cargo build -p terraform-provider-immutable`; `scripts/test.sh` does both.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::print_stdout,
    reason = "tests: a failure is a panic, progress goes to the captured stderr"
)]

mod aws_errors;
mod canary;
mod chaos;
mod destroy;
mod doc_examples;
mod drift;
mod endpoints;
mod examples;
mod fault_proxy;
mod fleet_identity;
mod generate_config;
mod group_settings;
mod harness;
mod import;
mod launch_settings;
mod limits;
mod lint_real_plans;
mod migration;
mod migration_production;
mod packaging;
mod quickstart;
mod replace;
mod rollout;
mod scale;
mod unresponsive;
mod validation;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use aws_sdk_ec2::types::{Instance, LaunchTemplate};
use e2e::hcl::{self, Fleet};
use e2e::{Aws, Moto, TerraformWorkdir};
use serde_json::Value;

/// What every scenario starts from: the shared moto, SDK clients and two default subnets.
pub struct Scenario {
    pub name: &'static str,
    pub moto: &'static Moto,
    pub aws: Aws,
    pub subnets: Vec<String>,
}

impl Scenario {
    pub fn start(name: &'static str) -> Self {
        eprintln!("=== scenario: {name}");
        let moto = Moto::shared();
        let aws = moto.aws();
        let subnets: Vec<String> = aws.default_subnet_ids().into_iter().take(2).collect();
        Self {
            name,
            moto,
            aws,
            subnets,
        }
    }

    /// Prints one step of the scenario (shown with the failure output).
    pub fn step(&self, what: &str) {
        eprintln!("[{}] {what}", self.name);
    }

    /// A working directory wired to the provider build and this moto.
    pub fn workdir(&self) -> TerraformWorkdir {
        TerraformWorkdir::new(self.moto)
    }

    /// A fleet in the scenario's subnets (see [`Fleet::new`] for the defaults).
    pub fn fleet(&self, resource: &str, name: &str) -> Fleet {
        Fleet::new(resource, name, &self.subnets)
    }

    /// Writes `main.tf` with the default provider block and `fleets`.
    pub fn write_config(&self, workdir: &TerraformWorkdir, fleets: &[&Fleet]) {
        workdir.write("main.tf", &hcl::config(&hcl::provider_block(), fleets));
    }

    /// Asserts that AWS holds exactly one generation of `fleet`: one ASG and one launch template
    /// (the ASG's), `desired` live instances launched by it, all on `image_id`. Returns them.
    pub fn assert_one_generation(
        &self,
        fleet: &str,
        image_id: &str,
        desired: i32,
    ) -> (AutoScalingGroup, LaunchTemplate, Vec<Instance>) {
        let asgs = self.aws.fleet_asgs(fleet);
        let names: Vec<&str> = asgs
            .iter()
            .filter_map(AutoScalingGroup::auto_scaling_group_name)
            .collect();
        assert_eq!(
            asgs.len(),
            1,
            "fleet {fleet}: expected exactly one ASG, found {names:?}"
        );
        let asg = asgs.into_iter().next().unwrap();
        let asg_name = asg.auto_scaling_group_name().unwrap().to_owned();

        let templates = self.aws.fleet_launch_templates(fleet);
        let template_names: Vec<&str> = templates
            .iter()
            .filter_map(LaunchTemplate::launch_template_name)
            .collect();
        assert_eq!(
            templates.len(),
            1,
            "fleet {fleet}: expected exactly one launch template, found {template_names:?}"
        );
        let template = templates.into_iter().next().unwrap();
        let template_id = template.launch_template_id().unwrap().to_owned();
        let asg_template_id = asg
            .launch_template()
            .and_then(|spec| spec.launch_template_id())
            .or_else(|| {
                asg.mixed_instances_policy()
                    .and_then(|policy| policy.launch_template())
                    .and_then(|lt| lt.launch_template_specification())
                    .and_then(|spec| spec.launch_template_id())
            });
        assert_eq!(
            asg_template_id,
            Some(template_id.as_str()),
            "ASG {asg_name} does not use the fleet's launch template"
        );
        assert_eq!(
            self.aws.launch_template_image(&template_id).as_deref(),
            Some(image_id),
            "launch template {template_id} has the wrong image"
        );
        assert!(
            asg_name.starts_with(&format!("{fleet}-")),
            "ASG name {asg_name} is not <name>-<generation suffix>"
        );
        assert_eq!(
            e2e::asg_tag(&asg, e2e::FLEET_TAG),
            Some(fleet),
            "ASG {asg_name} lacks the fleet tag"
        );
        assert_eq!(
            asg.desired_capacity(),
            Some(desired),
            "ASG {asg_name} desired capacity"
        );

        let instances = self.aws.live_instances_of_asg(&asg_name);
        let images: Vec<Option<&str>> = instances.iter().map(Instance::image_id).collect();
        assert_eq!(
            instances.len(),
            usize::try_from(desired).unwrap(),
            "ASG {asg_name}: expected {desired} live instances, images {images:?}"
        );
        assert!(
            images.iter().all(|image| *image == Some(image_id)),
            "ASG {asg_name}: every instance should run {image_id}, got {images:?}"
        );
        self.step(&format!(
            "AWS: ASG {asg_name}, launch template {template_id}, {} instance(s) on {image_id}",
            instances.len()
        ));
        (asg, template, instances)
    }
}

/// The state `values` of `address`, which must exist.
/// The IDs of `instances`, sorted.
pub fn instance_ids(instances: &[aws_sdk_ec2::types::Instance]) -> Vec<String> {
    let mut ids: Vec<String> = instances
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

pub fn state_of(workdir: &TerraformWorkdir, address: &str) -> Value {
    workdir
        .state_values(address)
        .unwrap_or_else(|| panic!("{address} is not in the state"))
}

/// A string attribute of state values, which must be set.
pub fn string_attr<'a>(values: &'a Value, attribute: &str) -> &'a str {
    values[attribute]
        .as_str()
        .unwrap_or_else(|| panic!("state attribute {attribute} is not a string: {values:#}"))
}

/// Asserts the computed attributes agree with each other and with AWS.
pub fn assert_state_matches(values: &Value, asg: &AutoScalingGroup, template: &LaunchTemplate) {
    let asg_name = asg.auto_scaling_group_name().unwrap();
    assert_eq!(string_attr(values, "id"), asg_name, "id is the ASG name");
    assert_eq!(string_attr(values, "autoscaling_group_name"), asg_name);
    assert_eq!(
        Some(string_attr(values, "launch_template_id")),
        template.launch_template_id()
    );
    assert!(
        values["generation"].is_number(),
        "generation is a number: {values:#}"
    );
}
