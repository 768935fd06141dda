//! A group's lifecycle hooks, target-tracking policies and metrics collection: put on a new
//! generation, kept in line with the configuration in place, and read back for refresh and
//! import.

use std::time::Duration;

use aws_sdk_autoscaling::types::{
    LifecycleHookSpecification, PredefinedMetricSpecification, ScalingPolicy as AwsPolicy,
    TargetTrackingConfiguration,
};

use super::group_spec::{DEFAULT_HEARTBEAT, DEFAULT_RESULT, LifecycleHook, METRICS, ScalingPolicy};
use super::spec::FleetSpec;
use super::state::{LifecycleHookBlock, ScalingPolicyBlock};
use crate::aws::error::aws_err;
use crate::aws::groups::describe_group;
use crate::aws::{AwsClients, AwsError};
use crate::framework::duration;

/// Granularity of group metrics: the only one Auto Scaling offers.
const METRICS_GRANULARITY: &str = "1Minute";

/// A hook as part of CreateAutoScalingGroup.
pub fn hook_specification(hook: &LifecycleHook) -> LifecycleHookSpecification {
    LifecycleHookSpecification::builder()
        .lifecycle_hook_name(&hook.name)
        .lifecycle_transition(hook.api_transition())
        .heartbeat_timeout(hook.heartbeat_seconds)
        .default_result(&hook.default_result)
        .set_notification_target_arn(hook.notification_target_arn.clone())
        .set_role_arn(hook.role_arn.clone())
        .build()
}

/// What a new generation gets after CreateAutoScalingGroup (which took its hooks): its
/// scaling policies and metrics collection.
pub async fn after_create(
    clients: &AwsClients,
    group: &str,
    spec: &FleetSpec,
) -> Result<(), AwsError> {
    for policy in &spec.group.policies {
        put_policy(clients, group, policy).await?;
    }
    set_metrics(clients, group, &[], &spec.group.enabled_metrics).await
}

/// Brings the running group's hooks, policies and metrics in line with `spec`: what is
/// missing or different is put, what the configuration no longer has is removed.
pub async fn sync(clients: &AwsClients, group: &str, spec: &FleetSpec) -> Result<(), AwsError> {
    let hooks = read_hooks(clients, group).await?;
    let (put, stale) = changes(&hooks, &spec.group.hooks, |h| &h.name);
    for hook in put {
        put_hook(clients, group, hook).await?;
    }
    for hook in stale {
        clients
            .autoscaling
            .delete_lifecycle_hook()
            .auto_scaling_group_name(group)
            .lifecycle_hook_name(&hook.name)
            .send()
            .await
            .map_err(aws_err("DeleteLifecycleHook"))?;
    }
    let policies = read_policies(clients, group, &spec.target_group_arns).await?;
    let (put, stale) = changes(&policies, &spec.group.policies, |p| &p.name);
    for policy in put {
        put_policy(clients, group, policy).await?;
    }
    for policy in stale {
        clients
            .autoscaling
            .delete_policy()
            .auto_scaling_group_name(group)
            .policy_name(&policy.name)
            .send()
            .await
            .map_err(aws_err("DeletePolicy"))?;
    }
    let enabled = describe_group(clients, group)
        .await?
        .map(|g| enabled_metrics(&g))
        .unwrap_or_default();
    set_metrics(clients, group, &enabled, &spec.group.enabled_metrics).await
}

/// What brings `have` in line with `want`: the wanted items that AWS lacks or holds
/// otherwise (to put), and the items AWS holds under a name no wanted one has (to delete).
fn changes<'a, T: PartialEq>(
    have: &'a [T],
    want: &'a [T],
    name: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, Vec<&'a T>) {
    let put = want.iter().filter(|w| !have.contains(w)).collect();
    let stale = have
        .iter()
        .filter(|h| !want.iter().any(|w| name(w) == name(h)))
        .collect();
    (put, stale)
}

async fn put_hook(clients: &AwsClients, group: &str, hook: &LifecycleHook) -> Result<(), AwsError> {
    clients
        .autoscaling
        .put_lifecycle_hook()
        .auto_scaling_group_name(group)
        .lifecycle_hook_name(&hook.name)
        .lifecycle_transition(hook.api_transition())
        .heartbeat_timeout(hook.heartbeat_seconds)
        .default_result(&hook.default_result)
        .set_notification_target_arn(hook.notification_target_arn.clone())
        .set_role_arn(hook.role_arn.clone())
        .send()
        .await
        .map_err(aws_err("PutLifecycleHook"))?;
    Ok(())
}

async fn put_policy(
    clients: &AwsClients,
    group: &str,
    policy: &ScalingPolicy,
) -> Result<(), AwsError> {
    let resource_label = match &policy.target_group_arn {
        Some(arn) if policy.metric == "alb_requests_per_target" => {
            Some(resource_label(clients, arn).await?)
        }
        _ => None,
    };
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(policy.api_metric().into())
        .set_resource_label(resource_label)
        .build();
    let tracking = TargetTrackingConfiguration::builder()
        .predefined_metric_specification(metric)
        .target_value(policy.target_value)
        .disable_scale_in(policy.disable_scale_in)
        .build();
    clients
        .autoscaling
        .put_scaling_policy()
        .auto_scaling_group_name(group)
        .policy_name(&policy.name)
        .policy_type("TargetTrackingScaling")
        .target_tracking_configuration(tracking)
        .set_estimated_instance_warmup(policy.instance_warmup_seconds)
        .send()
        .await
        .map_err(aws_err("PutScalingPolicy"))?;
    Ok(())
}

/// The `ALBRequestCountPerTarget` label of a target group: `app/<lb>/<id>/targetgroup/<tg>/<id>`,
/// from the first load balancer that routes to it.
async fn resource_label(clients: &AwsClients, target_group_arn: &str) -> Result<String, AwsError> {
    let out = clients
        .elbv2
        .describe_target_groups()
        .target_group_arns(target_group_arn)
        .send()
        .await
        .map_err(aws_err("DescribeTargetGroups"))?;
    let load_balancer = out
        .target_groups()
        .first()
        .and_then(|t| t.load_balancer_arns().first())
        .ok_or_else(|| {
            AwsError::other(
                "DescribeTargetGroups",
                "NoLoadBalancer",
                format!(
                    "target group {target_group_arn} has no load balancer routing to it, so \
                     there are no requests per target to track"
                ),
            )
        })?;
    let lb = load_balancer
        .split_once(":loadbalancer/")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default();
    let tg = target_group_arn
        .split_once(":targetgroup/")
        .map(|(_, rest)| rest.to_owned())
        .unwrap_or_default();
    Ok(format!("{lb}/targetgroup/{tg}"))
}

/// Enables what `wanted` adds to `enabled` and disables what it drops.
async fn set_metrics(
    clients: &AwsClients,
    group: &str,
    enabled: &[String],
    wanted: &[String],
) -> Result<(), AwsError> {
    let (add, drop) = changes(enabled, wanted, String::as_str);
    let add: Vec<String> = add.into_iter().cloned().collect();
    let drop: Vec<String> = drop.into_iter().cloned().collect();
    if !add.is_empty() {
        clients
            .autoscaling
            .enable_metrics_collection()
            .auto_scaling_group_name(group)
            .set_metrics(Some(add))
            .granularity(METRICS_GRANULARITY)
            .send()
            .await
            .map_err(aws_err("EnableMetricsCollection"))?;
    }
    if !drop.is_empty() {
        clients
            .autoscaling
            .disable_metrics_collection()
            .auto_scaling_group_name(group)
            .set_metrics(Some(drop))
            .send()
            .await
            .map_err(aws_err("DisableMetricsCollection"))?;
    }
    Ok(())
}

/// The group's enabled metrics, sorted.
pub fn enabled_metrics(group: &aws_sdk_autoscaling::types::AutoScalingGroup) -> Vec<String> {
    let mut metrics: Vec<String> = group
        .enabled_metrics()
        .iter()
        .filter_map(|m| m.metric().map(str::to_owned))
        .collect();
    metrics.sort();
    metrics.dedup();
    metrics
}

/// The group's lifecycle hooks as AWS has them, sorted.
pub async fn read_hooks(clients: &AwsClients, group: &str) -> Result<Vec<LifecycleHook>, AwsError> {
    let out = clients
        .autoscaling
        .describe_lifecycle_hooks()
        .auto_scaling_group_name(group)
        .send()
        .await
        .map_err(aws_err("DescribeLifecycleHooks"))?;
    let mut hooks: Vec<LifecycleHook> = out
        .lifecycle_hooks()
        .iter()
        .map(|h| LifecycleHook {
            name: h.lifecycle_hook_name().unwrap_or_default().to_owned(),
            transition: if h.lifecycle_transition() == Some("autoscaling:EC2_INSTANCE_TERMINATING")
            {
                "terminating".to_owned()
            } else {
                "launching".to_owned()
            },
            heartbeat_seconds: h.heartbeat_timeout().unwrap_or(300),
            default_result: h.default_result().unwrap_or(DEFAULT_RESULT).to_owned(),
            notification_target_arn: h.notification_target_arn().map(str::to_owned),
            role_arn: h.role_arn().map(str::to_owned),
        })
        .collect();
    hooks.sort();
    Ok(hooks)
}

/// The group's target-tracking policies with a predefined metric, sorted by name, read
/// directly. A label's target group is named by the one of `target_group_arns` it points at.
pub async fn read_policies(
    clients: &AwsClients,
    group: &str,
    target_group_arns: &[String],
) -> Result<Vec<ScalingPolicy>, AwsError> {
    let policies: Vec<AwsPolicy> = clients
        .autoscaling
        .describe_policies()
        .auto_scaling_group_name(group)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws_err("DescribePolicies"))?;
    Ok(from_aws(&policies, target_group_arns))
}

/// [`read_policies`] for refreshes: from the process's listing of every group's policies
/// when it has one (no call of its own), else directly.
pub async fn refresh_policies(
    clients: &AwsClients,
    group: &str,
    target_group_arns: &[String],
) -> Result<Vec<ScalingPolicy>, AwsError> {
    match clients.policies.of_group(group).await {
        Some(policies) => Ok(from_aws(&policies, target_group_arns)),
        None => read_policies(clients, group, target_group_arns).await,
    }
}

fn from_aws(policies: &[AwsPolicy], target_group_arns: &[String]) -> Vec<ScalingPolicy> {
    let mut found: Vec<ScalingPolicy> = policies
        .iter()
        .filter_map(|p| {
            let tracking = p.target_tracking_configuration()?;
            let metric = tracking.predefined_metric_specification()?;
            let api = metric.predefined_metric_type()?.as_str();
            let ours = METRICS.iter().find(|(_, a)| *a == api).map(|(o, _)| *o)?;
            let target_group_arn = metric.resource_label().and_then(|label| {
                let tg = label.split_once("/targetgroup/").map(|(_, rest)| rest)?;
                target_group_arns
                    .iter()
                    .find(|arn| arn.ends_with(&format!("targetgroup/{tg}")))
                    .cloned()
            });
            Some(ScalingPolicy {
                name: p.policy_name().unwrap_or_default().to_owned(),
                metric: ours.to_owned(),
                target_value: tracking.target_value()?,
                disable_scale_in: tracking.disable_scale_in().unwrap_or(false),
                instance_warmup_seconds: p.estimated_instance_warmup(),
                target_group_arn,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// A duration in whole seconds, written the way `prior` wrote it when it means the same.
fn spelled(seconds: i32, prior: Option<&str>) -> String {
    let secs = u64::try_from(seconds.max(0)).unwrap_or(0);
    match prior {
        Some(text) if duration::parse(text).is_ok_and(|d| d.as_secs() == secs) => text.to_owned(),
        _ => duration::format(Duration::from_secs(secs)),
    }
}

/// The `lifecycle_hook` blocks for the hooks AWS has: a value equal to its default stays
/// unset where the prior block left it unset (`prior` is empty for an import).
pub fn hook_blocks(
    hooks: &[LifecycleHook],
    prior: &[LifecycleHookBlock],
) -> Vec<LifecycleHookBlock> {
    let default_heartbeat = i32::try_from(DEFAULT_HEARTBEAT.as_secs()).unwrap_or(300);
    hooks
        .iter()
        .map(|hook| {
            let before = prior.iter().find(|p| p.name == hook.name);
            let kept_unset = |was_unset: bool, is_default: bool| was_unset && is_default;
            let heartbeat_unset = before.is_none_or(|b| b.heartbeat_timeout.is_none());
            let result_unset = before.is_none_or(|b| b.default_result.is_none());
            LifecycleHookBlock {
                name: hook.name.clone(),
                transition: hook.transition.clone(),
                heartbeat_timeout: (!kept_unset(
                    heartbeat_unset,
                    hook.heartbeat_seconds == default_heartbeat,
                ))
                .then(|| {
                    spelled(
                        hook.heartbeat_seconds,
                        before.and_then(|b| b.heartbeat_timeout.as_deref()),
                    )
                }),
                default_result: (!kept_unset(result_unset, hook.default_result == DEFAULT_RESULT))
                    .then(|| hook.default_result.clone()),
                notification_target_arn: hook.notification_target_arn.clone(),
                role_arn: hook.role_arn.clone(),
            }
        })
        .collect()
}

/// The `scaling_policy` blocks for the policies AWS has, keeping the prior spelling of
/// values that mean the same.
pub fn policy_blocks(
    policies: &[ScalingPolicy],
    prior: &[ScalingPolicyBlock],
) -> Vec<ScalingPolicyBlock> {
    policies
        .iter()
        .map(|policy| {
            let before = prior.iter().find(|p| p.name == policy.name);
            #[allow(clippy::float_cmp, reason = "the same decimal read back")]
            let target_value = before
                .map(|b| b.target_value.clone())
                .filter(|n| n.as_f64() == policy.target_value)
                .or_else(|| tfplugin_cty::Number::from_f64(policy.target_value))
                .unwrap_or_else(tfplugin_cty::Number::zero);
            let scale_in_unset = before.is_none_or(|b| b.disable_scale_in.is_none());
            ScalingPolicyBlock {
                name: policy.name.clone(),
                metric: policy.metric.clone(),
                target_value,
                disable_scale_in: (!scale_in_unset || policy.disable_scale_in)
                    .then_some(policy.disable_scale_in),
                instance_warmup: policy
                    .instance_warmup_seconds
                    .map(|s| spelled(s, before.and_then(|b| b.instance_warmup.as_deref()))),
                target_group_arn: policy.target_group_arn.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::changes;

    #[test]
    fn changes_put_what_differs_and_delete_what_is_no_longer_named() {
        let have = [("cpu", 50), ("network", 10), ("old", 1)];
        let want = [("cpu", 60), ("network", 10), ("new", 5)];
        let (put, stale) = changes(&have, &want, |item| item.0);
        assert_eq!(put, [&("cpu", 60), &("new", 5)]);
        // A changed item is put over, not deleted first.
        assert_eq!(stale, [&("old", 1)]);
    }
}
