//! A state written and read back: attributes, nulls and empties, unknowns of a plan.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::resources::fleet::schema::group::{hook, policy};
use crate::resources::fleet::schema::health_check;
use crate::resources::fleet::schema::launch::{device, metadata};
use crate::resources::fleet::schema::mixed_instances::{self as mixed, overrides};
use crate::resources::fleet::schema::rollout;

#[allow(
    clippy::too_many_lines,
    reason = "one entry per attribute of the schema"
)]
fn full() -> Value {
    Value::object([
        (schema::NAME, Value::string("web")),
        (schema::IMAGE_ID, Value::string("ami-12c6146b")),
        (schema::INSTANCE_TYPE, Value::string("t3.micro")),
        (schema::SUBNET_IDS, string_set(["subnet-b", "subnet-a"])),
        (schema::SECURITY_GROUP_IDS, Value::Null),
        (schema::USER_DATA, Value::string("#!/bin/sh")),
        (schema::IAM_INSTANCE_PROFILE, Value::Null),
        (schema::TARGET_GROUP_ARNS, string_set(Vec::<String>::new())),
        (schema::MIN_SIZE, int(1)),
        (schema::MAX_SIZE, int(4)),
        (schema::DESIRED_CAPACITY, int(2)),
        (schema::TAGS, string_map([("team", "web")])),
        (
            schema::HEALTH_CHECK,
            Value::object([
                (health_check::TYPE, Value::string("ELB")),
                (health_check::GRACE_PERIOD, Value::string("90s")),
                (health_check::TIMEOUT, Value::string("10m")),
                (health_check::HEALTHY_FOR, Value::string("0s")),
                (health_check::MIN_HEALTHY_PERCENT, int(50)),
            ]),
        ),
        (
            schema::BLOCK_DEVICE_MAPPING,
            Value::set(vec![Value::object([
                (device::DEVICE_NAME, Value::string("/dev/xvda")),
                (device::VOLUME_SIZE, int(30)),
                (device::VOLUME_TYPE, Value::string("gp3")),
                (device::IOPS, Value::Null),
                (device::THROUGHPUT, Value::Null),
                (device::ENCRYPTED, Value::Bool(true)),
                (device::KMS_KEY_ID, Value::Null),
                (device::DELETE_ON_TERMINATION, Value::Bool(true)),
            ])]),
        ),
        (
            schema::METADATA_OPTIONS,
            Value::object([
                (metadata::HTTP_TOKENS, Value::string("required")),
                (metadata::HTTP_PUT_RESPONSE_HOP_LIMIT, int(2)),
                (metadata::INSTANCE_METADATA_TAGS, Value::string("disabled")),
            ]),
        ),
        (schema::ASSOCIATE_PUBLIC_IP_ADDRESS, Value::Bool(false)),
        (schema::MONITORING, Value::Null),
        (schema::EBS_OPTIMIZED, Value::Bool(true)),
        (schema::CREDIT_SPECIFICATION, Value::string("unlimited")),
        (
            schema::LIFECYCLE_HOOK,
            Value::set(vec![Value::object([
                (hook::NAME, Value::string("drain")),
                (hook::TRANSITION, Value::string("terminating")),
                (hook::HEARTBEAT_TIMEOUT, Value::string("10m")),
                (hook::DEFAULT_RESULT, Value::Null),
                (hook::NOTIFICATION_TARGET_ARN, Value::Null),
                (hook::ROLE_ARN, Value::Null),
            ])]),
        ),
        (
            schema::SCALING_POLICY,
            Value::set(vec![Value::object([
                (policy::NAME, Value::string("cpu")),
                (policy::METRIC, Value::string("cpu")),
                (
                    policy::TARGET_VALUE,
                    Value::Number(tfplugin_cty::Number::parse("50.5").unwrap()),
                ),
                (policy::DISABLE_SCALE_IN, Value::Null),
                (policy::INSTANCE_WARMUP, Value::string("2m")),
                (policy::TARGET_GROUP_ARN, Value::Null),
            ])]),
        ),
        (schema::MAX_INSTANCE_LIFETIME, Value::string("24h")),
        (
            schema::TERMINATION_POLICIES,
            Value::list(vec![Value::string("OldestInstance")]),
        ),
        (schema::DEFAULT_INSTANCE_WARMUP, Value::Null),
        (schema::CAPACITY_REBALANCE, Value::Bool(true)),
        (
            schema::ENABLED_METRICS,
            string_set(["GroupInServiceInstances"]),
        ),
        (
            schema::MIXED_INSTANCES,
            Value::object([
                (
                    mixed::OVERRIDE,
                    Value::list(vec![Value::object([
                        (overrides::INSTANCE_TYPE, Value::string("t3a.micro")),
                        (overrides::WEIGHTED_CAPACITY, int(2)),
                    ])]),
                ),
                (mixed::ON_DEMAND_BASE_CAPACITY, int(1)),
                (mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY, int(50)),
                (
                    mixed::SPOT_ALLOCATION_STRATEGY,
                    Value::string("price-capacity-optimized"),
                ),
                (
                    mixed::ON_DEMAND_ALLOCATION_STRATEGY,
                    Value::string("prioritized"),
                ),
            ]),
        ),
        (
            schema::ROLLOUT,
            Value::object([
                (rollout::STEPS, Value::list(vec![int(10), int(50)])),
                (rollout::ASSESS_FOR, Value::string("5m")),
                (rollout::ALARMS, Value::list(vec![Value::string("web-5xx")])),
                (rollout::SHRINK_PREVIOUS, Value::Bool(false)),
                (rollout::KEEP_PREVIOUS_FOR, Value::string("1h")),
            ]),
        ),
        (schema::ID, Value::string("web-g2")),
        (schema::GENERATION, int(2)),
        (schema::AUTOSCALING_GROUP_NAME, Value::string("web-g2")),
        (schema::LAUNCH_TEMPLATE_ID, Value::string("lt-2")),
        (schema::LEFTOVERS, Value::Null),
    ])
}

#[test]
fn a_state_reads_and_writes_back_unchanged_with_null_and_empty_kept_apart() {
    let value = full();
    let state = FleetState::from_value(&value).unwrap();
    assert_eq!(state.security_group_ids, None);
    assert_eq!(state.target_group_arns, Some(Vec::new()));
    assert_eq!(state.subnet_ids, ["subnet-a", "subnet-b"]);
    assert_eq!(state.to_value(), value);
}

#[test]
fn the_state_has_exactly_the_schema_attributes() {
    let written = FleetState::from_value(&full()).unwrap().to_value();
    let ty = schema::schema().block.implied_type();
    written.conforms_to(&ty).unwrap();
}

#[test]
fn unknown_computed_values_of_a_plan_read_as_none() {
    let mut value = full();
    if let Value::Object(attrs) = &mut value {
        attrs.insert(schema::ID.to_owned(), Value::unknown());
        attrs.insert(schema::DESIRED_CAPACITY.to_owned(), Value::unknown());
    }
    let state = FleetState::from_value(&value).unwrap();
    assert_eq!((state.id, state.desired_capacity), (None, None));
}

#[test]
fn a_missing_required_value_is_an_error_at_its_path() {
    let mut value = full();
    if let Value::Object(attrs) = &mut value {
        attrs.insert(schema::MIN_SIZE.to_owned(), Value::unknown());
    }
    let errors = FleetState::from_value(&value).unwrap_err();
    let text = format!("{errors:?}");
    assert!(text.contains("min_size"), "{text}");
}
