//! The fleet's Terraform state as typed Rust, and back: the one place that knows how each
//! attribute sits in the cty object. Null stays distinct from empty (a set or map the
//! configuration leaves unset is null, and must come back null).

use std::collections::BTreeMap;

use tfplugin_cty::Value;

use super::schema::{self, at};
use crate::framework::Diagnostics;
use crate::framework::value::{ObjectExt, int, opt_string, string_map, string_set};

mod blocks;

pub use self::blocks::{
    BlockDeviceBlock, HealthCheckBlock, LifecycleHookBlock, MetadataOptionsBlock,
    MixedInstancesBlock, OverrideBlock, RolloutBlock, ScalingPolicyBlock,
};

pub(super) fn opt_bool(b: Option<bool>) -> Value {
    b.map_or(Value::Null, Value::Bool)
}

pub(super) fn opt_int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, int)
}

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
    /// One per device; empty when the configuration has none (a set block is never null).
    pub block_device_mapping: Vec<BlockDeviceBlock>,
    pub metadata_options: Option<MetadataOptionsBlock>,
    pub mixed_instances: Option<MixedInstancesBlock>,
    pub rollout: Option<RolloutBlock>,
    pub associate_public_ip_address: Option<bool>,
    pub monitoring: Option<bool>,
    pub ebs_optimized: Option<bool>,
    pub credit_specification: Option<String>,
    pub lifecycle_hook: Vec<LifecycleHookBlock>,
    pub scaling_policy: Vec<ScalingPolicyBlock>,
    pub max_instance_lifetime: Option<String>,
    pub termination_policies: Option<Vec<String>>,
    pub default_instance_warmup: Option<String>,
    pub capacity_rebalance: Option<bool>,
    pub enabled_metrics: Option<Vec<String>>,
    /// The current generation's ASG name; also the import ID.
    pub id: Option<String>,
    pub generation: Option<i64>,
    pub autoscaling_group_name: Option<String>,
    pub launch_template_id: Option<String>,
    pub leftovers: Option<Vec<String>>,
}

pub(super) fn text(value: &Value, name: &str) -> Option<String> {
    value.string(name).map(str::to_owned)
}

fn set_or_null(items: Option<&Vec<String>>) -> Value {
    items.map_or(Value::Null, |items| string_set(items.iter().cloned()))
}

/// The elements of a set or list block (none when it is absent).
fn blocks<T>(value: &Value, name: &str, read: impl Fn(&Value) -> T) -> Vec<T> {
    value
        .attr(name)
        .elements()
        .unwrap_or_default()
        .iter()
        .map(read)
        .collect()
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
            block_device_mapping: blocks(
                value,
                schema::BLOCK_DEVICE_MAPPING,
                BlockDeviceBlock::from_value,
            ),
            metadata_options: MetadataOptionsBlock::from_value(
                value.attr(schema::METADATA_OPTIONS),
            ),
            mixed_instances: MixedInstancesBlock::from_value(value.attr(schema::MIXED_INSTANCES)),
            rollout: RolloutBlock::from_value(value.attr(schema::ROLLOUT)),
            associate_public_ip_address: value.attr(schema::ASSOCIATE_PUBLIC_IP_ADDRESS).as_bool(),
            monitoring: value.attr(schema::MONITORING).as_bool(),
            ebs_optimized: value.attr(schema::EBS_OPTIMIZED).as_bool(),
            credit_specification: text(value, schema::CREDIT_SPECIFICATION),
            lifecycle_hook: blocks(
                value,
                schema::LIFECYCLE_HOOK,
                LifecycleHookBlock::from_value,
            ),
            scaling_policy: blocks(
                value,
                schema::SCALING_POLICY,
                ScalingPolicyBlock::from_value,
            ),
            max_instance_lifetime: text(value, schema::MAX_INSTANCE_LIFETIME),
            termination_policies: value.strings(schema::TERMINATION_POLICIES),
            default_instance_warmup: text(value, schema::DEFAULT_INSTANCE_WARMUP),
            capacity_rebalance: value.attr(schema::CAPACITY_REBALANCE).as_bool(),
            enabled_metrics: value.strings(schema::ENABLED_METRICS),
            id: text(value, schema::ID),
            generation: value.int(schema::GENERATION),
            autoscaling_group_name: text(value, schema::AUTOSCALING_GROUP_NAME),
            launch_template_id: text(value, schema::LAUNCH_TEMPLATE_ID),
            leftovers: value.strings(schema::LEFTOVERS),
        })
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one entry per attribute of the schema"
    )]
    pub fn to_value(&self) -> Value {
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
            (schema::DESIRED_CAPACITY, opt_int(self.desired_capacity)),
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
            (
                schema::BLOCK_DEVICE_MAPPING,
                Value::set(
                    self.block_device_mapping
                        .iter()
                        .map(BlockDeviceBlock::to_value)
                        .collect(),
                ),
            ),
            (
                schema::METADATA_OPTIONS,
                self.metadata_options
                    .as_ref()
                    .map_or(Value::Null, MetadataOptionsBlock::to_value),
            ),
            (
                schema::MIXED_INSTANCES,
                self.mixed_instances
                    .as_ref()
                    .map_or(Value::Null, MixedInstancesBlock::to_value),
            ),
            (
                schema::ROLLOUT,
                self.rollout
                    .as_ref()
                    .map_or(Value::Null, RolloutBlock::to_value),
            ),
            (
                schema::ASSOCIATE_PUBLIC_IP_ADDRESS,
                opt_bool(self.associate_public_ip_address),
            ),
            (schema::MONITORING, opt_bool(self.monitoring)),
            (schema::EBS_OPTIMIZED, opt_bool(self.ebs_optimized)),
            (
                schema::CREDIT_SPECIFICATION,
                opt_string(self.credit_specification.clone()),
            ),
            (
                schema::LIFECYCLE_HOOK,
                Value::set(
                    self.lifecycle_hook
                        .iter()
                        .map(LifecycleHookBlock::to_value)
                        .collect(),
                ),
            ),
            (
                schema::SCALING_POLICY,
                Value::set(
                    self.scaling_policy
                        .iter()
                        .map(ScalingPolicyBlock::to_value)
                        .collect(),
                ),
            ),
            (
                schema::MAX_INSTANCE_LIFETIME,
                opt_string(self.max_instance_lifetime.clone()),
            ),
            (
                schema::TERMINATION_POLICIES,
                self.termination_policies.as_ref().map_or(Value::Null, |p| {
                    Value::list(p.iter().map(Value::string).collect())
                }),
            ),
            (
                schema::DEFAULT_INSTANCE_WARMUP,
                opt_string(self.default_instance_warmup.clone()),
            ),
            (
                schema::CAPACITY_REBALANCE,
                opt_bool(self.capacity_rebalance),
            ),
            (
                schema::ENABLED_METRICS,
                set_or_null(self.enabled_metrics.as_ref()),
            ),
            (schema::ID, opt_string(self.id.clone())),
            (schema::GENERATION, opt_int(self.generation)),
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

#[cfg(test)]
mod tests;
