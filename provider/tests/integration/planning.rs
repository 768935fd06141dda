//! PlanResourceChange: what Terraform is told will happen. These follow Terraform's own rules
//! (Terraform's internal/plans/objchange/plan_valid.go): computed values unknown only when they
//! will change, prior values kept otherwise, replacement paths only for baked attributes.

use tfplugin_cty::{Path, Value};
use tfplugin_proto::tfplugin5 as pb;

use crate::fixture::{COMPUTED, assert_no_errors, diagnostic_path, fixture, proposed, with};

/// A state as Create would have returned it for `config`.
fn state_for(config: &Value) -> Value {
    let f = fixture();
    with(
        config,
        &[
            ("id", Value::string("plan-g1")),
            ("autoscaling_group_name", Value::string("plan-g1")),
            ("generation", Value::number(1)),
            ("launch_template_id", Value::string("lt-0123456789abcdef0")),
            (
                "desired_capacity",
                config
                    .get("desired_capacity")
                    .cloned()
                    .filter(|v| !v.is_null())
                    .unwrap_or(Value::number(1)),
            ),
            (
                "health_check",
                f.health_check(&[
                    ("type", Value::string("EC2")),
                    ("grace_period", Value::string("30s")),
                    ("timeout", Value::string("10m")),
                    ("healthy_for", Value::string("0s")),
                    ("min_healthy_percent", Value::number(100)),
                ]),
            ),
        ],
    )
}

fn replace_paths(plan: &pb::plan_resource_change::Response) -> Vec<String> {
    plan.requires_replace
        .iter()
        .map(|p| {
            let d = pb::Diagnostic {
                attribute: Some(p.clone()),
                ..Default::default()
            };
            crate::fixture::diagnostic_path(&d)
        })
        .collect()
}

#[test]
fn create_plans_computed_values_unknown_and_fills_health_check_defaults() {
    let f = fixture();
    let config = f.fleet_config(
        "plan",
        &[(
            "health_check",
            f.health_check(&[("timeout", Value::string("5m"))]),
        )],
    );
    let plan = f.plan(&Value::Null, &config, &config);
    assert_no_errors(&plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let planned = f.value(plan.planned_state.as_ref());
    for name in [
        "id",
        "generation",
        "autoscaling_group_name",
        "launch_template_id",
    ] {
        assert!(
            planned.get(name).unwrap().is_unknown(),
            "{name} should be unknown"
        );
    }
    assert_eq!(planned.get("desired_capacity").unwrap().as_i64(), Some(2));
    let health = planned.get("health_check").unwrap();
    assert_eq!(
        health.get("timeout").unwrap().as_str(),
        Some("5m"),
        "configured value kept"
    );
    assert_eq!(
        health.get("type").unwrap().as_str(),
        Some("EC2"),
        "default planned"
    );
    assert_eq!(
        health.get("min_healthy_percent").unwrap().as_i64(),
        Some(100)
    );
}

#[test]
fn create_without_desired_capacity_plans_it_unknown() {
    let f = fixture();
    let config = f.fleet_config("plan", &[("desired_capacity", Value::Null)]);
    let plan = f.plan(&Value::Null, &config, &config);
    assert_no_errors(&plan.diagnostics);
    assert!(
        f.value(plan.planned_state.as_ref())
            .get("desired_capacity")
            .unwrap()
            .is_unknown()
    );
}

#[test]
fn unchanged_configuration_plans_exactly_the_prior_state() {
    let f = fixture();
    let config = f.fleet_config("plan", &[("health_check", f.health_check(&[]))]);
    let prior = state_for(&config);
    let plan = f.plan(&prior, &proposed(&prior, &config, COMPUTED), &config);
    assert_no_errors(&plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    assert_eq!(f.value(plan.planned_state.as_ref()), prior);
}

#[test]
fn image_change_requires_replacement_and_keeps_the_id_for_the_update_plan() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let new_config = with(&config, &[("image_id", Value::string(e2e::MOTO_AMI_2))]);
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    assert_eq!(replace_paths(&plan), vec!["image_id"]);
    let planned = f.value(plan.planned_state.as_ref());
    assert_eq!(planned.get("id"), prior.get("id"));
}

#[test]
fn every_baked_attribute_requires_replacement() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    for (name, value) in [
        ("instance_type", Value::string("m5.large")),
        ("subnet_ids", Value::set(vec![Value::string(&f.subnets[0])])),
        (
            "security_group_ids",
            Value::set(vec![Value::string("sg-12345678")]),
        ),
        ("user_data", Value::string("#!/bin/sh\necho hi")),
        ("iam_instance_profile", Value::string("web")),
        (
            "target_group_arns",
            Value::set(vec![Value::string(
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/a/1",
            )]),
        ),
    ] {
        let new_config = with(&config, &[(name, value)]);
        let plan = f.plan(
            &prior,
            &proposed(&prior, &new_config, COMPUTED),
            &new_config,
        );
        assert_no_errors(&plan.diagnostics);
        assert_eq!(replace_paths(&plan), vec![name], "changing {name}");
    }
}

#[test]
fn a_rename_changes_the_fleet_in_place_and_keeps_its_generation() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let new_config = with(&config, &[("name", Value::string("renamed"))]);
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        replace_paths(&plan)
    );
    let planned = f.value(plan.planned_state.as_ref());
    assert_eq!(planned.get("name"), Some(&Value::string("renamed")));
    assert_eq!(planned.get("id"), prior.get("id"));
    assert_eq!(
        planned.get("desired_capacity"),
        prior.get("desired_capacity")
    );
}

#[test]
fn a_rename_with_a_new_generation_and_autoscaled_capacity_is_refused_at_name() {
    let f = fixture();
    let config = f.fleet_config("plan", &[("desired_capacity", Value::Null)]);
    let prior = state_for(&config);
    let new_config = with(
        &config,
        &[
            ("name", Value::string("renamed")),
            ("instance_type", Value::string("m5.large")),
        ],
    );
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_config, COMPUTED),
        &new_config,
    );
    let error = plan
        .diagnostics
        .iter()
        .find(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .expect("a rename together with a replacement must be refused");
    assert_eq!(diagnostic_path(error), "name");
    assert!(
        error.detail.contains("Apply the rename alone first"),
        "{}",
        error.detail
    );
    assert!(error.detail.contains("instance_type"), "{}", error.detail);

    // With a configured capacity nothing is carried over, so the two may go together.
    let sized = with(&new_config, &[("desired_capacity", Value::number(2))]);
    let prior = with(&prior, &[("desired_capacity", Value::number(2))]);
    let plan = f.plan(&prior, &proposed(&prior, &sized, COMPUTED), &sized);
    assert_no_errors(&plan.diagnostics);
    assert_eq!(replace_paths(&plan), vec!["instance_type"]);
}

#[test]
fn leftovers_found_at_refresh_are_planned_away_and_none_is_a_no_op() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let plan = f.plan(&prior, &proposed(&prior, &config, COMPUTED), &config);
    assert_no_errors(&plan.diagnostics);
    // A state as apply leaves it (the gate defaults filled in).
    let prior = f.value(plan.planned_state.as_ref());
    let plan = f.plan(&prior, &proposed(&prior, &config, COMPUTED), &config);
    assert_eq!(
        f.value(plan.planned_state.as_ref()),
        prior,
        "no leftovers: no change"
    );

    let with_leftovers = with(
        &prior,
        &[("leftovers", Value::set(vec![Value::string("plan-g2")]))],
    );
    let plan = f.plan(
        &with_leftovers,
        &proposed(&with_leftovers, &config, COMPUTED),
        &config,
    );
    assert_no_errors(&plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let planned = f.value(plan.planned_state.as_ref());
    assert_eq!(planned.get("leftovers"), Some(&Value::Null));
    assert_eq!(planned, prior, "only the leftovers change");
}

#[test]
fn capacity_and_tags_change_in_place() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let new_config = with(
        &config,
        &[
            ("desired_capacity", Value::number(3)),
            ("max_size", Value::number(6)),
            (
                "tags",
                Value::Map([("team".to_owned(), Value::string("web"))].into()),
            ),
        ],
    );
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_config, COMPUTED),
        &new_config,
    );
    assert_no_errors(&plan.diagnostics);
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        replace_paths(&plan)
    );
    let planned = f.value(plan.planned_state.as_ref());
    assert_eq!(planned.get("desired_capacity").unwrap().as_i64(), Some(3));
    assert_eq!(planned.get("id"), prior.get("id"), "id is kept on update");
}

#[test]
fn unset_desired_capacity_is_left_to_the_autoscaler() {
    let f = fixture();
    let config = f.fleet_config("plan", &[("desired_capacity", Value::Null)]);
    let mut prior = state_for(&config);
    // The autoscaler scaled the fleet to 3 since the last apply.
    prior = with(&prior, &[("desired_capacity", Value::number(3))]);

    let tags_only = with(
        &config,
        &[(
            "tags",
            Value::Map([("a".to_owned(), Value::string("b"))].into()),
        )],
    );
    let plan = f.plan(&prior, &proposed(&prior, &tags_only, COMPUTED), &tags_only);
    assert_eq!(
        f.value(plan.planned_state.as_ref())
            .get("desired_capacity")
            .unwrap()
            .as_i64(),
        Some(3)
    );

    let new_bounds = with(&config, &[("min_size", Value::number(2))]);
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_bounds, COMPUTED),
        &new_bounds,
    );
    assert!(
        f.value(plan.planned_state.as_ref())
            .get("desired_capacity")
            .unwrap()
            .is_unknown()
    );
}

#[test]
fn destroy_plans_null() {
    let f = fixture();
    let prior = state_for(&f.fleet_config("plan", &[]));
    let plan = f.plan(&prior, &Value::Null, &Value::Null);
    assert_no_errors(&plan.diagnostics);
    assert!(f.value(plan.planned_state.as_ref()).is_null());
}

#[test]
fn requires_replace_paths_are_attribute_paths() {
    // Guards the wire shape Terraform validates: one AttributeName step per top-level path.
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let new_config = with(&config, &[("image_id", Value::string(e2e::MOTO_AMI_2))]);
    let plan = f.plan(
        &prior,
        &proposed(&prior, &new_config, COMPUTED),
        &new_config,
    );
    let expected = Path::root().attr("image_id");
    assert_eq!(plan.requires_replace.len(), expected.steps().len());
}

/// A `metadata_options` block that spells out the defaults changes no launch template: an
/// in-place update of the state, not a new generation; other values replace.
#[test]
fn metadata_options_that_mean_the_default_plan_no_replacement() {
    let f = fixture();
    let config = f.fleet_config("plan", &[]);
    let prior = state_for(&config);
    let block = |tokens: &str| {
        Value::object([
            ("http_tokens", Value::string(tokens)),
            ("http_put_response_hop_limit", Value::number(1)),
            ("instance_metadata_tags", Value::string("disabled")),
        ])
    };
    let spelled_out = with(&config, &[("metadata_options", block("required"))]);
    let plan = f.plan(
        &prior,
        &proposed(&prior, &spelled_out, COMPUTED),
        &spelled_out,
    );
    assert_no_errors(&plan.diagnostics);
    assert!(
        replace_paths(&plan).is_empty(),
        "{:?}",
        replace_paths(&plan)
    );

    let imdsv1 = with(&config, &[("metadata_options", block("optional"))]);
    let plan = f.plan(&prior, &proposed(&prior, &imdsv1, COMPUTED), &imdsv1);
    assert_no_errors(&plan.diagnostics);
    // The block is new, so each of its attributes changed from null.
    assert!(
        replace_paths(&plan).contains(&"metadata_options.http_tokens".to_owned()),
        "{:?}",
        replace_paths(&plan)
    );
}
