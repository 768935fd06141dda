//! The fleet's nested blocks as written in state: `health_check`, `block_device_mapping`,
//! `metadata_options`, `lifecycle_hook`, `scaling_policy`, `rollout`.

use tfplugin_cty::{Number, Value};

use super::{opt_bool, opt_int, text};
use crate::framework::value::{ObjectExt, opt_string};
use crate::resources::fleet::schema::group::{hook, policy};
use crate::resources::fleet::schema::health_check;
use crate::resources::fleet::schema::launch::{device, metadata};
use crate::resources::fleet::schema::mixed_instances::{self as mixed, overrides};
use crate::resources::fleet::schema::rollout;

/// The `health_check` block as written (durations keep the user's spelling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheckBlock {
    pub kind: Option<String>,
    pub grace_period: Option<String>,
    pub timeout: Option<String>,
    pub healthy_for: Option<String>,
    pub min_healthy_percent: Option<i64>,
}

/// A `block_device_mapping` block. The computed attributes (`volume_type`, `encrypted`,
/// `delete_on_termination`) are `None` only in a plan, before apply resolves them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockDeviceBlock {
    pub device_name: String,
    pub volume_size: Option<i64>,
    pub volume_type: Option<String>,
    pub iops: Option<i64>,
    pub throughput: Option<i64>,
    pub encrypted: Option<bool>,
    pub kms_key_id: Option<String>,
    pub delete_on_termination: Option<bool>,
}

/// The `metadata_options` block as written (the planner filled in its defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptionsBlock {
    pub http_tokens: Option<String>,
    pub http_put_response_hop_limit: Option<i64>,
    pub instance_metadata_tags: Option<String>,
}

impl BlockDeviceBlock {
    pub fn from_value(block: &Value) -> Self {
        Self {
            device_name: text(block, device::DEVICE_NAME).unwrap_or_default(),
            volume_size: block.int(device::VOLUME_SIZE),
            volume_type: text(block, device::VOLUME_TYPE),
            iops: block.int(device::IOPS),
            throughput: block.int(device::THROUGHPUT),
            encrypted: block.attr(device::ENCRYPTED).as_bool(),
            kms_key_id: text(block, device::KMS_KEY_ID),
            delete_on_termination: block.attr(device::DELETE_ON_TERMINATION).as_bool(),
        }
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (device::DEVICE_NAME, Value::string(&self.device_name)),
            (device::VOLUME_SIZE, opt_int(self.volume_size)),
            (device::VOLUME_TYPE, opt_string(self.volume_type.clone())),
            (device::IOPS, opt_int(self.iops)),
            (device::THROUGHPUT, opt_int(self.throughput)),
            (device::ENCRYPTED, opt_bool(self.encrypted)),
            (device::KMS_KEY_ID, opt_string(self.kms_key_id.clone())),
            (
                device::DELETE_ON_TERMINATION,
                opt_bool(self.delete_on_termination),
            ),
        ])
    }
}

impl MetadataOptionsBlock {
    /// `None` for a null (omitted) block.
    pub fn from_value(block: &Value) -> Option<Self> {
        if block.is_null() || block.is_unknown() {
            return None;
        }
        Some(Self {
            http_tokens: text(block, metadata::HTTP_TOKENS),
            http_put_response_hop_limit: block.int(metadata::HTTP_PUT_RESPONSE_HOP_LIMIT),
            instance_metadata_tags: text(block, metadata::INSTANCE_METADATA_TAGS),
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (metadata::HTTP_TOKENS, opt_string(self.http_tokens.clone())),
            (
                metadata::HTTP_PUT_RESPONSE_HOP_LIMIT,
                opt_int(self.http_put_response_hop_limit),
            ),
            (
                metadata::INSTANCE_METADATA_TAGS,
                opt_string(self.instance_metadata_tags.clone()),
            ),
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
                opt_int(self.min_healthy_percent),
            ),
        ])
    }
}

/// A `lifecycle_hook` block as written: unset optional values stay `None` (the defaults).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LifecycleHookBlock {
    pub name: String,
    pub transition: String,
    pub heartbeat_timeout: Option<String>,
    pub default_result: Option<String>,
    pub notification_target_arn: Option<String>,
    pub role_arn: Option<String>,
}

impl LifecycleHookBlock {
    pub fn from_value(block: &Value) -> Self {
        Self {
            name: text(block, hook::NAME).unwrap_or_default(),
            transition: text(block, hook::TRANSITION).unwrap_or_default(),
            heartbeat_timeout: text(block, hook::HEARTBEAT_TIMEOUT),
            default_result: text(block, hook::DEFAULT_RESULT),
            notification_target_arn: text(block, hook::NOTIFICATION_TARGET_ARN),
            role_arn: text(block, hook::ROLE_ARN),
        }
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (hook::NAME, Value::string(&self.name)),
            (hook::TRANSITION, Value::string(&self.transition)),
            (
                hook::HEARTBEAT_TIMEOUT,
                opt_string(self.heartbeat_timeout.clone()),
            ),
            (
                hook::DEFAULT_RESULT,
                opt_string(self.default_result.clone()),
            ),
            (
                hook::NOTIFICATION_TARGET_ARN,
                opt_string(self.notification_target_arn.clone()),
            ),
            (hook::ROLE_ARN, opt_string(self.role_arn.clone())),
        ])
    }
}

/// A `scaling_policy` block as written. The target keeps its exact decimal text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ScalingPolicyBlock {
    pub name: String,
    pub metric: String,
    pub target_value: Number,
    pub disable_scale_in: Option<bool>,
    pub instance_warmup: Option<String>,
    pub target_group_arn: Option<String>,
}

impl ScalingPolicyBlock {
    pub fn from_value(block: &Value) -> Self {
        Self {
            name: text(block, policy::NAME).unwrap_or_default(),
            metric: text(block, policy::METRIC).unwrap_or_default(),
            target_value: block
                .attr(policy::TARGET_VALUE)
                .as_number()
                .cloned()
                .unwrap_or_else(Number::zero),
            disable_scale_in: block.attr(policy::DISABLE_SCALE_IN).as_bool(),
            instance_warmup: text(block, policy::INSTANCE_WARMUP),
            target_group_arn: text(block, policy::TARGET_GROUP_ARN),
        }
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (policy::NAME, Value::string(&self.name)),
            (policy::METRIC, Value::string(&self.metric)),
            (
                policy::TARGET_VALUE,
                Value::Number(self.target_value.clone()),
            ),
            (policy::DISABLE_SCALE_IN, opt_bool(self.disable_scale_in)),
            (
                policy::INSTANCE_WARMUP,
                opt_string(self.instance_warmup.clone()),
            ),
            (
                policy::TARGET_GROUP_ARN,
                opt_string(self.target_group_arn.clone()),
            ),
        ])
    }
}

/// The `mixed_instances` block as written (the planner filled in its defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedInstancesBlock {
    pub overrides: Vec<OverrideBlock>,
    pub on_demand_base_capacity: Option<i64>,
    pub on_demand_percentage_above_base_capacity: Option<i64>,
    pub spot_allocation_strategy: Option<String>,
    pub on_demand_allocation_strategy: Option<String>,
}

/// An `override` block: one instance type of a mixed instances policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideBlock {
    pub instance_type: String,
    pub weighted_capacity: Option<i64>,
}

impl MixedInstancesBlock {
    /// `None` for a null (omitted) block.
    pub fn from_value(block: &Value) -> Option<Self> {
        if block.is_null() || block.is_unknown() {
            return None;
        }
        Some(Self {
            overrides: block
                .attr(mixed::OVERRIDE)
                .elements()
                .unwrap_or_default()
                .iter()
                .map(|o| OverrideBlock {
                    instance_type: text(o, overrides::INSTANCE_TYPE).unwrap_or_default(),
                    weighted_capacity: o.int(overrides::WEIGHTED_CAPACITY),
                })
                .collect(),
            on_demand_base_capacity: block.int(mixed::ON_DEMAND_BASE_CAPACITY),
            on_demand_percentage_above_base_capacity: block
                .int(mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY),
            spot_allocation_strategy: text(block, mixed::SPOT_ALLOCATION_STRATEGY),
            on_demand_allocation_strategy: text(block, mixed::ON_DEMAND_ALLOCATION_STRATEGY),
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            (
                mixed::OVERRIDE,
                Value::list(
                    self.overrides
                        .iter()
                        .map(|o| {
                            Value::object([
                                (overrides::INSTANCE_TYPE, Value::string(&o.instance_type)),
                                (overrides::WEIGHTED_CAPACITY, opt_int(o.weighted_capacity)),
                            ])
                        })
                        .collect(),
                ),
            ),
            (
                mixed::ON_DEMAND_BASE_CAPACITY,
                opt_int(self.on_demand_base_capacity),
            ),
            (
                mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY,
                opt_int(self.on_demand_percentage_above_base_capacity),
            ),
            (
                mixed::SPOT_ALLOCATION_STRATEGY,
                opt_string(self.spot_allocation_strategy.clone()),
            ),
            (
                mixed::ON_DEMAND_ALLOCATION_STRATEGY,
                opt_string(self.on_demand_allocation_strategy.clone()),
            ),
        ])
    }
}

/// The `rollout` block as written (durations keep the user's spelling; the planner filled
/// in the defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutBlock {
    pub steps: Option<Vec<i64>>,
    pub assess_for: Option<String>,
    pub alarms: Option<Vec<String>>,
    pub shrink_previous: Option<bool>,
    pub keep_previous_for: Option<String>,
}

impl RolloutBlock {
    /// `None` for a null (omitted) block.
    pub fn from_value(block: &Value) -> Option<Self> {
        if block.is_null() || block.is_unknown() {
            return None;
        }
        Some(Self {
            steps: block
                .attr(rollout::STEPS)
                .elements()
                .map(|steps| steps.iter().filter_map(Value::as_i64).collect()),
            assess_for: text(block, rollout::ASSESS_FOR),
            alarms: block.strings(rollout::ALARMS),
            shrink_previous: block.attr(rollout::SHRINK_PREVIOUS).as_bool(),
            keep_previous_for: text(block, rollout::KEEP_PREVIOUS_FOR),
        })
    }

    pub fn to_value(&self) -> Value {
        let list = |items: Option<Vec<Value>>| items.map_or(Value::Null, Value::list);
        Value::object([
            (
                rollout::STEPS,
                list(self.steps.as_ref().map(|s| {
                    s.iter()
                        .copied()
                        .map(crate::framework::value::int)
                        .collect()
                })),
            ),
            (rollout::ASSESS_FOR, opt_string(self.assess_for.clone())),
            (
                rollout::ALARMS,
                list(
                    self.alarms
                        .as_ref()
                        .map(|a| a.iter().map(Value::string).collect()),
                ),
            ),
            (rollout::SHRINK_PREVIOUS, opt_bool(self.shrink_previous)),
            (
                rollout::KEEP_PREVIOUS_FOR,
                opt_string(self.keep_previous_for.clone()),
            ),
        ])
    }
}
