//! Import checks and imported states of groups this provider did not create.

use tfplugin_cty::Value;

use super::*;
use crate::framework::value::{ObjectExt, int};

/// A group created outside the provider, launching from template version 3.
fn foreign() -> Observed {
    Observed {
        asg_name: "web".to_owned(),
        fleet_tag: None,
        generation_tag: None,
        launch_template_id: Some("lt-0abc".to_owned()),
        image_id: Some("ami-12c6146b".to_owned()),
        instance_type: Some("t3.micro".to_owned()),
        options: TemplateOptions::default(),
        user_data: None,
        iam_instance_profile: None,
        subnet_ids: vec!["subnet-1".to_owned()],
        target_group_arns: Vec::new(),
        min_size: 1,
        max_size: 2,
        desired: 1,
        tags: BTreeMap::new(),
        health_check_type: Some("EC2".to_owned()),
        grace_period: Some(300),
        health_check_tag: None,
        launch_configuration: None,
        mixed: None,
        mixed_unsupported: None,
        template_version: Some("3".to_owned()),
        baked_unchanged: false,
        max_instance_lifetime: None,
        termination_policies: vec!["Default".to_owned()],
        default_instance_warmup: None,
        capacity_rebalance: Some(false),
        enabled_metrics: Vec::new(),
        hooks: Some(Vec::new()),
        policies: Some(Vec::new()),
    }
}

fn problem(edit: impl FnOnce(&mut Observed)) -> String {
    let mut observed = foreign();
    edit(&mut observed);
    observed.import_problem().unwrap_or_default()
}

#[test]
fn a_pinned_template_version_imports_as_generation_zero_under_its_own_name() {
    let observed = foreign();
    assert_eq!(observed.import_problem(), None);
    let state = observed.imported().to_value();
    assert_eq!(state.string("name"), Some("web"));
    assert_eq!(state.int("generation"), Some(0));
    // The group's own health check, so generated configuration keeps it (issue #10).
    assert_eq!(
        state.attr("health_check"),
        &Value::object([
            ("type", Value::string("EC2")),
            ("grace_period", Value::string("5m")),
            ("timeout", Value::string("10m")),
            ("healthy_for", Value::string("0s")),
            ("min_healthy_percent", int(100)),
        ])
    );
}

#[test]
fn unsupported_launch_sources_are_named() {
    assert!(
        problem(|o| o.launch_configuration = Some("web-lc".to_owned()))
            .contains("launch configuration \"web-lc\"")
    );
    let attribute_based = problem(|o| {
        o.mixed_unsupported = mixed_unsupported(
            &MixedInstancesPolicy::builder()
                .launch_template(
                    aws_sdk_autoscaling::types::LaunchTemplate::builder()
                        .overrides(
                            aws_sdk_autoscaling::types::LaunchTemplateOverrides::builder()
                                .instance_requirements(
                                    aws_sdk_autoscaling::types::InstanceRequirements::builder()
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    });
    assert!(
        attribute_based
            .contains("mixed instances policy that chooses instance types by attributes"),
        "{attribute_based}"
    );
    assert!(problem(|o| o.launch_template_id = None).contains("no launch template"));
    for unpinned in [Some("$Latest"), Some("$Default"), None] {
        let message = problem(|o| o.template_version = unpinned.map(str::to_owned));
        let shown = unpinned.unwrap_or("$Default");
        assert!(
            message.contains(&format!("version \"{shown}\"")) && message.contains("Pin"),
            "{message}"
        );
    }
    assert!(problem(|o| o.image_id = None).contains("no image ID"));
}
