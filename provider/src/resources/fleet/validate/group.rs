//! Checks of the group settings (lifecycle hooks, scaling policies, lifetime, termination
//! policies, warm-up, metrics) against what the Auto Scaling API accepts, so that a value it
//! would refuse is an error at plan time. Sources: the Auto Scaling API reference
//! (`PutLifecycleHook`, `PutScalingPolicy`, `UpdateAutoScalingGroup`,
//! `EnableMetricsCollection`).

use std::collections::BTreeSet;
use std::time::Duration;

use tfplugin_cty::Value;

use super::super::group_spec::METRICS;
use super::super::schema::group::{hook, policy};
use super::super::schema::{
    DEFAULT_INSTANCE_WARMUP, ENABLED_METRICS, LIFECYCLE_HOOK, MAX_INSTANCE_LIFETIME,
    SCALING_POLICY, TARGET_GROUP_ARNS, TERMINATION_POLICIES, at,
};
use crate::framework::value::ObjectExt;
use crate::framework::{Diagnostics, duration};

/// A hook's heartbeat: 30 s to 7200 s.
const HEARTBEAT: (Duration, Duration) = (Duration::from_secs(30), Duration::from_hours(2));
/// An instance lives 0 (no limit) or from a day to a year.
const LIFETIME: (Duration, Duration) = (Duration::from_hours(24), Duration::from_hours(8760));

const TERMINATION_POLICY_NAMES: [&str; 6] = [
    "Default",
    "AllocationStrategy",
    "OldestLaunchTemplate",
    "OldestInstance",
    "NewestInstance",
    "ClosestToNextInstanceHour",
];

const GROUP_METRICS: [&str; 20] = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupPendingCapacity",
    "GroupStandbyCapacity",
    "GroupTerminatingCapacity",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
];

pub fn config(config: &Value, d: &mut Diagnostics) {
    hooks(config, d);
    policies(config, d);
    if let Some(text) = config.string(MAX_INSTANCE_LIFETIME)
        && let Some(lifetime) = whole_seconds(text, MAX_INSTANCE_LIFETIME, d)
        && !lifetime.is_zero()
        && !(LIFETIME.0..=LIFETIME.1).contains(&lifetime)
    {
        d.attribute_error(
            at(MAX_INSTANCE_LIFETIME),
            "Instance lifetime out of range",
            format!(
                "max_instance_lifetime = {text:?}; Auto Scaling takes \"0s\" (no limit) or \
                 {} to {}.",
                duration::format(LIFETIME.0),
                duration::format(LIFETIME.1)
            ),
        );
    }
    if let Some(text) = config.string(DEFAULT_INSTANCE_WARMUP) {
        whole_seconds(text, DEFAULT_INSTANCE_WARMUP, d);
    }
    for policy in config.strings(TERMINATION_POLICIES).unwrap_or_default() {
        if !TERMINATION_POLICY_NAMES.contains(&policy.as_str())
            && !policy.starts_with("arn:aws:lambda:")
        {
            d.attribute_error(
                at(TERMINATION_POLICIES),
                "Unknown termination policy",
                format!(
                    "{policy:?} is neither one of {} nor a Lambda function ARN.",
                    TERMINATION_POLICY_NAMES.join(", ")
                ),
            );
        }
    }
    for metric in config.strings(ENABLED_METRICS).unwrap_or_default() {
        if !GROUP_METRICS.contains(&metric.as_str()) {
            d.attribute_error(
                at(ENABLED_METRICS),
                "Unknown group metric",
                format!("{metric:?} is not an Auto Scaling group metric, such as GroupInServiceInstances."),
            );
        }
    }
}

/// A duration in whole seconds, or an error at `name` (`None` then).
fn whole_seconds(text: &str, name: &str, d: &mut Diagnostics) -> Option<Duration> {
    match duration::parse(text) {
        Ok(value) if value.subsec_nanos() == 0 => Some(value),
        Ok(_) => {
            d.attribute_error(
                at(name),
                "Duration not in whole seconds",
                format!("{name} = {text:?}; Auto Scaling holds whole seconds."),
            );
            None
        }
        Err(e) => {
            d.attribute_error(at(name), "Invalid duration", e);
            None
        }
    }
}

fn hooks(config: &Value, d: &mut Diagnostics) {
    let path = at(LIFECYCLE_HOOK);
    let mut names = BTreeSet::new();
    for block in config.attr(LIFECYCLE_HOOK).elements().unwrap_or_default() {
        let name = block.string(hook::NAME).unwrap_or_default();
        let mut error = |summary: &str, detail: String| {
            d.attribute_error(path.clone(), summary, format!("hook {name:?}: {detail}"));
        };
        if block.attr(hook::NAME).as_str().is_some() && !names.insert(name.to_owned()) {
            error(
                "Duplicate hook name",
                "two lifecycle_hook blocks have this name.".to_owned(),
            );
        }
        if let Some(transition) = block.string(hook::TRANSITION)
            && !["launching", "terminating"].contains(&transition)
        {
            error(
                "Invalid transition",
                format!("transition = {transition:?}; it is launching or terminating."),
            );
        }
        if let Some(result) = block.string(hook::DEFAULT_RESULT)
            && !["CONTINUE", "ABANDON"].contains(&result)
        {
            error(
                "Invalid default result",
                format!("default_result = {result:?}; it is CONTINUE or ABANDON."),
            );
        }
        if let Some(text) = block.string(hook::HEARTBEAT_TIMEOUT) {
            match duration::parse(text) {
                Ok(heartbeat)
                    if heartbeat.subsec_nanos() == 0
                        && (HEARTBEAT.0..=HEARTBEAT.1).contains(&heartbeat) => {}
                Ok(_) => error(
                    "Heartbeat out of range",
                    format!(
                        "heartbeat_timeout = {text:?}; Auto Scaling takes whole seconds from \
                         30s to 2h."
                    ),
                ),
                Err(e) => error("Invalid duration", e),
            }
        }
        let target = !block.attr(hook::NOTIFICATION_TARGET_ARN).is_null();
        let role = !block.attr(hook::ROLE_ARN).is_null();
        if target != role {
            error(
                "Notification target and role go together",
                "notification_target_arn needs role_arn (the role Auto Scaling publishes \
                 with), and role_arn is for the notification target only."
                    .to_owned(),
            );
        }
    }
}

fn policies(config: &Value, d: &mut Diagnostics) {
    let path = at(SCALING_POLICY);
    let target_groups = config.strings(TARGET_GROUP_ARNS);
    let mut names = BTreeSet::new();
    for block in config.attr(SCALING_POLICY).elements().unwrap_or_default() {
        let name = block.string(policy::NAME).unwrap_or_default();
        let mut error = |summary: &str, detail: String| {
            d.attribute_error(path.clone(), summary, format!("policy {name:?}: {detail}"));
        };
        if block.attr(policy::NAME).as_str().is_some() && !names.insert(name.to_owned()) {
            error(
                "Duplicate policy name",
                "two scaling_policy blocks have this name.".to_owned(),
            );
        }
        let metric = block.string(policy::METRIC);
        if let Some(metric) = metric
            && !METRICS.iter().any(|(ours, _)| *ours == metric)
        {
            let known: Vec<&str> = METRICS.iter().map(|(ours, _)| *ours).collect();
            error(
                "Unknown metric",
                format!("metric = {metric:?}; it is one of {}.", known.join(", ")),
            );
        }
        if let Some(target) = block
            .attr(policy::TARGET_VALUE)
            .as_number()
            .map(tfplugin_cty::Number::as_f64)
        {
            if target <= 0.0 {
                error(
                    "Target not above zero",
                    format!("target_value = {target}; a target is more than 0."),
                );
            } else if metric == Some("cpu") && target > 100.0 {
                error(
                    "CPU target above 100 %",
                    format!("target_value = {target}; CPU utilisation is a percentage."),
                );
            }
        }
        if let Some(text) = block.string(policy::INSTANCE_WARMUP)
            && !duration::parse(text).is_ok_and(|w| w.subsec_nanos() == 0)
        {
            error(
                "Invalid warm-up",
                format!("instance_warmup = {text:?}; a duration in whole seconds, such as \"3m\"."),
            );
        }
        let target_group = block.attr(policy::TARGET_GROUP_ARN);
        match (metric, target_group.as_str()) {
            (Some("alb_requests_per_target"), None) if !target_group.is_unknown() => error(
                "Target group needed",
                "alb_requests_per_target counts requests per target of a target group: set \
                 target_group_arn."
                    .to_owned(),
            ),
            (Some("alb_requests_per_target"), Some(arn)) => {
                if let Some(arns) = &target_groups
                    && !arns.iter().any(|a| a == arn)
                {
                    error(
                        "Target group not attached",
                        format!(
                            "target_group_arn = {arn:?} is not one of target_group_arns, so the fleet's instances are not its targets."
                        ),
                    );
                }
            }
            (Some(other), Some(_)) => error(
                "Target group not used",
                format!("target_group_arn is only for alb_requests_per_target, not {other}."),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::value::{int, string_set};

    fn errors(attrs: Vec<(&str, Value)>) -> Vec<String> {
        let mut d = Diagnostics::new();
        config(&Value::object(attrs), &mut d);
        d.iter()
            .map(|e| format!("{}: {}", e.summary, e.detail))
            .collect()
    }

    #[test]
    fn hooks_auto_scaling_would_refuse_are_errors_naming_the_hook() {
        let found = errors(vec![(
            LIFECYCLE_HOOK,
            Value::set(vec![Value::object([
                (hook::NAME, Value::string("drain")),
                (hook::TRANSITION, Value::string("stopping")),
                (hook::HEARTBEAT_TIMEOUT, Value::string("10s")),
                (hook::DEFAULT_RESULT, Value::string("abandon")),
                (
                    hook::NOTIFICATION_TARGET_ARN,
                    Value::string("arn:aws:sqs:us-east-1:1:q"),
                ),
                (hook::ROLE_ARN, Value::Null),
            ])]),
        )]);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found.iter().all(|e| e.contains("hook \"drain\"")),
            "{found:?}"
        );
    }

    #[test]
    fn policies_and_group_settings_outside_the_api_are_errors() {
        let found = errors(vec![
            (
                SCALING_POLICY,
                Value::set(vec![
                    Value::object([
                        (policy::NAME, Value::string("cpu")),
                        (policy::METRIC, Value::string("cpu")),
                        (policy::TARGET_VALUE, int(150)),
                    ]),
                    Value::object([
                        (policy::NAME, Value::string("rps")),
                        (policy::METRIC, Value::string("alb_requests_per_target")),
                        (policy::TARGET_VALUE, int(100)),
                    ]),
                ]),
            ),
            (MAX_INSTANCE_LIFETIME, Value::string("1h")),
            (
                TERMINATION_POLICIES,
                Value::list(vec![Value::string("Oldest")]),
            ),
            (ENABLED_METRICS, string_set(["GroupInService"])),
        ]);
        let summaries: Vec<&str> = found
            .iter()
            .map(|e| e.split(':').next().unwrap_or_default())
            .collect();
        assert_eq!(
            summaries,
            [
                // Set elements come in cty's order: the object with "alb_…" first.
                "Target group needed",
                "CPU target above 100 %",
                "Instance lifetime out of range",
                "Unknown termination policy",
                "Unknown group metric"
            ],
            "{found:?}"
        );
        let fine = errors(vec![
            (MAX_INSTANCE_LIFETIME, Value::string("0s")),
            (DEFAULT_INSTANCE_WARMUP, Value::string("90s")),
            (
                TERMINATION_POLICIES,
                Value::list(vec![Value::string("OldestInstance")]),
            ),
            (ENABLED_METRICS, string_set(["GroupInServiceInstances"])),
        ]);
        assert!(fine.is_empty(), "{fine:?}");
    }
}
