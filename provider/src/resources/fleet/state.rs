//! The fleet's Terraform state as typed Rust, and back: the one place that knows how each
//! attribute sits in the cty object. Null stays distinct from empty (a set or map the
//! configuration leaves unset is null, and must come back null).

use std::collections::BTreeMap;

use tfplugin_cty::Value;

use super::schema::{self, at, health_check};
use crate::framework::Diagnostics;
use crate::framework::value::{ObjectExt, int, opt_string, string_map, string_set};

/// One `immutable_fleet` object: a prior state, a new state, or a planned state at apply.
///
/// In a planned state the computed attributes apply fills in (`id`, `generation`, …, and
/// `desired_capacity` when new bounds let AWS move it) are unknown; they read as `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetState {
    pub name: String,
    pub image_id: Option<String>,
    pub instance_type: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Option<Vec<String>>,
    pub user_data: Option<String>,
    pub iam_instance_profile: Option<String>,
    pub target_group_arns: Option<Vec<String>>,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: Option<i64>,
    pub tags: Option<BTreeMap<String, String>>,
    pub health_check: Option<HealthCheckBlock>,
    /// The current generation's ASG name; also the import ID.
    pub id: Option<String>,
    pub generation: Option<i64>,
    pub autoscaling_group_name: Option<String>,
    pub launch_template_id: Option<String>,
    pub leftovers: Option<Vec<String>>,
}

/// The `health_check` block as written (durations keep the user's spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckBlock {
    pub kind: Option<String>,
    pub grace_period: Option<String>,
    pub timeout: Option<String>,
    pub healthy_for: Option<String>,
    pub min_healthy_percent: Option<i64>,
}

fn text(value: &Value, name: &str) -> Option<String> {
    value.string(name).map(str::to_owned)
}

fn set_or_null(items: Option<&Vec<String>>) -> Value {
    items.map_or(Value::Null, |items| string_set(items.iter().cloned()))
}

impl FleetState {
    /// Reads a state or a planned state. A required attribute that is null or unknown, or a
    /// size that is not a whole number, is an error at its path (the framework checked the
    /// type; planning made required values known).
    pub fn from_value(value: &Value) -> Result<Self, Diagnostics> {
        let mut d = Diagnostics::new();
        let mut required = |name: &str, found: bool| {
            if !found {
                d.attribute_error(
                    at(name),
                    "Missing value",
                    format!("`{name}` must be set and known at apply time."),
                );
            }
        };
        let name = text(value, schema::NAME);
        required(schema::NAME, name.is_some());
        let subnet_ids = value.strings(schema::SUBNET_IDS);
        required(schema::SUBNET_IDS, subnet_ids.is_some());
        let min_size = value.int(schema::MIN_SIZE);
        required(schema::MIN_SIZE, min_size.is_some());
        let max_size = value.int(schema::MAX_SIZE);
        required(schema::MAX_SIZE, max_size.is_some());
        if d.has_error() {
            return Err(d);
        }
        Ok(Self {
            name: name.unwrap_or_default(),
            image_id: text(value, schema::IMAGE_ID),
            instance_type: text(value, schema::INSTANCE_TYPE),
            subnet_ids: subnet_ids.unwrap_or_default(),
            security_group_ids: value.strings(schema::SECURITY_GROUP_IDS),
            user_data: text(value, schema::USER_DATA),
            iam_instance_profile: text(value, schema::IAM_INSTANCE_PROFILE),
            target_group_arns: value.strings(schema::TARGET_GROUP_ARNS),
            min_size: min_size.unwrap_or_default(),
            max_size: max_size.unwrap_or_default(),
            desired_capacity: value.int(schema::DESIRED_CAPACITY),
            tags: value.string_map(schema::TAGS),
            health_check: HealthCheckBlock::from_value(value.attr(schema::HEALTH_CHECK)),
            id: text(value, schema::ID),
            generation: value.int(schema::GENERATION),
            autoscaling_group_name: text(value, schema::AUTOSCALING_GROUP_NAME),
            launch_template_id: text(value, schema::LAUNCH_TEMPLATE_ID),
            leftovers: value.strings(schema::LEFTOVERS),
        })
    }

    pub fn to_value(&self) -> Value {
        let number = |n: Option<i64>| n.map_or(Value::Null, int);
        Value::object([
            (schema::NAME, Value::string(&self.name)),
            (schema::IMAGE_ID, opt_string(self.image_id.clone())),
            (
                schema::INSTANCE_TYPE,
                opt_string(self.instance_type.clone()),
            ),
            (
                schema::SUBNET_IDS,
                string_set(self.subnet_ids.iter().cloned()),
            ),
            (
                schema::SECURITY_GROUP_IDS,
                set_or_null(self.security_group_ids.as_ref()),
            ),
            (schema::USER_DATA, opt_string(self.user_data.clone())),
            (
                schema::IAM_INSTANCE_PROFILE,
                opt_string(self.iam_instance_profile.clone()),
            ),
            (
                schema::TARGET_GROUP_ARNS,
                set_or_null(self.target_group_arns.as_ref()),
            ),
            (schema::MIN_SIZE, int(self.min_size)),
            (schema::MAX_SIZE, int(self.max_size)),
            (schema::DESIRED_CAPACITY, number(self.desired_capacity)),
            (
                schema::TAGS,
                self.tags
                    .as_ref()
                    .map_or(Value::Null, |tags| string_map(tags.clone())),
            ),
            (
                schema::HEALTH_CHECK,
                self.health_check
                    .as_ref()
                    .map_or(Value::Null, HealthCheckBlock::to_value),
            ),
            (schema::ID, opt_string(self.id.clone())),
            (schema::GENERATION, number(self.generation)),
            (
                schema::AUTOSCALING_GROUP_NAME,
                opt_string(self.autoscaling_group_name.clone()),
            ),
            (
                schema::LAUNCH_TEMPLATE_ID,
                opt_string(self.launch_template_id.clone()),
            ),
            (schema::LEFTOVERS, set_or_null(self.leftovers.as_ref())),
        ])
    }
}

impl HealthCheckBlock {
    /// `None` for a null (omitted) block.
    pub fn from_value(block: &Value) -> Option<Self> {
        if block.is_null() || block.is_unknown() {
            return None;
        }
        Some(Self {
            kind: text(block, health_check::TYPE),
            grace_period: text(block, health_check::GRACE_PERIOD),
            timeout: text(block, health_check::TIMEOUT),
            healthy_for: text(block, health_check::HEALTHY_FOR),
            min_healthy_percent: block.int(health_check::MIN_HEALTHY_PERCENT),
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (health_check::TYPE, opt_string(self.kind.clone())),
            (
                health_check::GRACE_PERIOD,
                opt_string(self.grace_period.clone()),
            ),
            (health_check::TIMEOUT, opt_string(self.timeout.clone())),
            (
                health_check::HEALTHY_FOR,
                opt_string(self.healthy_for.clone()),
            ),
            (
                health_check::MIN_HEALTHY_PERCENT,
                self.min_healthy_percent.map_or(Value::Null, int),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

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
}
