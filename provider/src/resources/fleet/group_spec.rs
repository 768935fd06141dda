//! The group settings with their defaults resolved: what `group.rs` writes on a new
//! generation's group and keeps in place on the running one.

use std::time::Duration;

use super::schema::{self, at};
use super::state::{FleetState, LifecycleHookBlock, ScalingPolicyBlock};
use crate::framework::{Diagnostics, duration};

/// Heartbeat of a hook that names none (AWS's default, too).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_mins(5);
/// What a hook whose heartbeat ran out does, unless it says otherwise: a launch nothing
/// confirmed does not serve.
pub const DEFAULT_RESULT: &str = "ABANDON";
/// What AWS reports for a group that names no termination policy.
pub const DEFAULT_TERMINATION_POLICIES: [&str; 1] = ["Default"];

/// A lifecycle hook of every generation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LifecycleHook {
    pub name: String,
    /// `launching` or `terminating`.
    pub transition: String,
    pub heartbeat_seconds: i32,
    pub default_result: String,
    pub notification_target_arn: Option<String>,
    pub role_arn: Option<String>,
}

impl LifecycleHook {
    /// The Auto Scaling API's name of the transition.
    pub fn api_transition(&self) -> &'static str {
        if self.transition == "terminating" {
            "autoscaling:EC2_INSTANCE_TERMINATING"
        } else {
            "autoscaling:EC2_INSTANCE_LAUNCHING"
        }
    }
}

/// A target-tracking scaling policy of every generation.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicy {
    pub name: String,
    /// `cpu`, `network_in`, `network_out` or `alb_requests_per_target`.
    pub metric: String,
    pub target_value: f64,
    pub disable_scale_in: bool,
    pub instance_warmup_seconds: Option<i32>,
    pub target_group_arn: Option<String>,
}

/// The tracked metrics: the configuration's name and the Auto Scaling API's.
pub const METRICS: [(&str, &str); 4] = [
    ("cpu", "ASGAverageCPUUtilization"),
    ("network_in", "ASGAverageNetworkIn"),
    ("network_out", "ASGAverageNetworkOut"),
    ("alb_requests_per_target", "ALBRequestCountPerTarget"),
];

impl ScalingPolicy {
    pub fn api_metric(&self) -> &'static str {
        METRICS
            .iter()
            .find(|(ours, _)| *ours == self.metric)
            .map_or("ASGAverageCPUUtilization", |(_, api)| api)
    }
}

/// Everything a generation's group carries beyond capacity, network and the gate.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupSettings {
    /// Sorted by name.
    pub hooks: Vec<LifecycleHook>,
    /// Sorted by name.
    pub policies: Vec<ScalingPolicy>,
    /// Seconds; `None` when unset (no limit).
    pub max_instance_lifetime: Option<i32>,
    pub termination_policies: Option<Vec<String>>,
    /// Seconds; `None` when unset.
    pub default_instance_warmup: Option<i32>,
    pub capacity_rebalance: Option<bool>,
    /// Sorted; empty when none.
    pub enabled_metrics: Vec<String>,
}

/// Whole seconds of a duration the configuration wrote (validation checked its form).
fn seconds(
    text: Option<&str>,
    path: impl FnOnce() -> tfplugin_cty::Path,
    d: &mut Diagnostics,
) -> Option<i32> {
    let text = text?;
    match duration::parse(text) {
        Ok(parsed) => Some(i32::try_from(parsed.as_secs()).unwrap_or(i32::MAX)),
        Err(e) => {
            d.attribute_error(path(), "Invalid duration", e);
            None
        }
    }
}

impl GroupSettings {
    pub fn from_state(state: &FleetState, d: &mut Diagnostics) -> Self {
        let mut hooks: Vec<LifecycleHook> = state
            .lifecycle_hook
            .iter()
            .map(|block| LifecycleHook::from_block(block, d))
            .collect();
        hooks.sort();
        let mut policies: Vec<ScalingPolicy> = state
            .scaling_policy
            .iter()
            .map(|block| ScalingPolicy::from_block(block, d))
            .collect();
        policies.sort_by(|a, b| a.name.cmp(&b.name));
        let mut enabled_metrics = state.enabled_metrics.clone().unwrap_or_default();
        enabled_metrics.sort();
        Self {
            hooks,
            policies,
            max_instance_lifetime: seconds(
                state.max_instance_lifetime.as_deref(),
                || at(schema::MAX_INSTANCE_LIFETIME),
                d,
            ),
            termination_policies: state.termination_policies.clone(),
            default_instance_warmup: seconds(
                state.default_instance_warmup.as_deref(),
                || at(schema::DEFAULT_INSTANCE_WARMUP),
                d,
            ),
            capacity_rebalance: state.capacity_rebalance,
            enabled_metrics,
        }
    }

    /// Whether any hook holds instances on their way out (a delete must let it run).
    pub fn has_terminating_hook(&self) -> bool {
        self.hooks.iter().any(|h| h.transition == "terminating")
    }
}

impl LifecycleHook {
    fn from_block(block: &LifecycleHookBlock, d: &mut Diagnostics) -> Self {
        let heartbeat = seconds(
            block.heartbeat_timeout.as_deref(),
            || at(schema::LIFECYCLE_HOOK),
            d,
        );
        Self {
            name: block.name.clone(),
            transition: block.transition.clone(),
            heartbeat_seconds: heartbeat
                .unwrap_or(i32::try_from(DEFAULT_HEARTBEAT.as_secs()).unwrap_or(300)),
            default_result: block
                .default_result
                .clone()
                .unwrap_or_else(|| DEFAULT_RESULT.to_owned()),
            notification_target_arn: block.notification_target_arn.clone(),
            role_arn: block.role_arn.clone(),
        }
    }
}

impl ScalingPolicy {
    fn from_block(block: &ScalingPolicyBlock, d: &mut Diagnostics) -> Self {
        Self {
            name: block.name.clone(),
            metric: block.metric.clone(),
            target_value: block.target_value.as_f64(),
            disable_scale_in: block.disable_scale_in.unwrap_or(false),
            instance_warmup_seconds: seconds(
                block.instance_warmup.as_deref(),
                || at(schema::SCALING_POLICY),
                d,
            ),
            target_group_arn: block.target_group_arn.clone(),
        }
    }
}
