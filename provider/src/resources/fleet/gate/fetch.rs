//! The gate's AWS calls: the group (DescribeAutoScalingGroups, through
//! `aws::groups::describe_group`), the attached target groups' names and ports, their target
//! health, and the group's recent scaling activities. No decisions: those are in
//! `classify.rs`.

use std::time::SystemTime;

use aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription;

use super::classify::{TargetGroup, failed_activity};
use crate::aws::error::aws_err;
pub(super) use crate::aws::groups::describe_group;
use crate::aws::{AwsClients, AwsError};

/// Names and ports of the target groups the generation is attached to (one call).
pub(super) async fn target_groups(
    clients: &AwsClients,
    target_group_arns: &[String],
) -> Result<Vec<TargetGroup>, AwsError> {
    let arns = target_group_arns.to_vec();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    let out = clients
        .elbv2
        .describe_target_groups()
        .set_target_group_arns(Some(arns.clone()))
        .send()
        .await
        .map_err(aws_err("DescribeTargetGroups"))?;
    Ok(arns
        .into_iter()
        .map(|arn| {
            let tg = out
                .target_groups()
                .iter()
                .find(|t| t.target_group_arn() == Some(arn.as_str()));
            TargetGroup {
                name: tg
                    .and_then(|t| t.target_group_name())
                    .unwrap_or(&arn)
                    .to_owned(),
                port: tg.and_then(aws_sdk_elasticloadbalancingv2::types::TargetGroup::port),
                arn,
            }
        })
        .collect())
}

/// One DescribeTargetHealth per target group, in order.
pub(super) async fn target_health<'t>(
    clients: &AwsClients,
    target_groups: &'t [TargetGroup],
) -> Result<Vec<(&'t TargetGroup, Vec<TargetHealthDescription>)>, AwsError> {
    let mut health = Vec::with_capacity(target_groups.len());
    for tg in target_groups {
        let out = clients
            .elbv2
            .describe_target_health()
            .target_group_arn(&tg.arn)
            .send()
            .await
            .map_err(aws_err("DescribeTargetHealth"))?;
        health.push((tg, out.target_health_descriptions.unwrap_or_default()));
    }
    Ok(health)
}

/// The message of a failed scaling activity that started after this rollout, if any.
/// Reads newest first and stops at the first activity older than the rollout, so a
/// long history is never paged (terraform-provider-aws#29753).
pub(super) async fn failed_scaling_activity(
    clients: &AwsClients,
    asg_name: &str,
    started_at: SystemTime,
) -> Result<Option<String>, AwsError> {
    let out = clients
        .autoscaling
        .describe_scaling_activities()
        .auto_scaling_group_name(asg_name)
        .max_records(20)
        .send()
        .await
        .map_err(aws_err("DescribeScalingActivities"))?;
    Ok(failed_activity(out.activities(), started_at))
}
