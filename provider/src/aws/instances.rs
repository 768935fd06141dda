//! EC2 instance and target group reads the resources wait on.

use aws_sdk_ec2::types::{InstanceStateName, Reservation};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use super::error::{absent_is_none, aws_err};
use super::{AwsClients, AwsError};

/// True when every one of `ids` is terminated (or unknown to EC2).
pub async fn instances_terminated(clients: &AwsClients, ids: &[String]) -> Result<bool, AwsError> {
    let described = clients
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(aws_err("DescribeInstances"));
    let Some(out) = absent_is_none(described)? else {
        return Ok(true);
    };
    Ok(out
        .reservations()
        .iter()
        .flat_map(Reservation::instances)
        .all(|i| i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Terminated)))
}

/// True when none of `instances` is still registered (or draining) in any of `target_groups`;
/// a target group that is gone holds none.
pub async fn deregistered(
    clients: &AwsClients,
    target_groups: &[String],
    instances: &[String],
) -> Result<bool, AwsError> {
    for arn in target_groups {
        let described = clients
            .elbv2
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
            .map_err(aws_err("DescribeTargetHealth"));
        let Some(out) = absent_is_none(described)? else {
            continue;
        };
        let still_there = out.target_health_descriptions().iter().any(|d| {
            let id = d.target().and_then(|t| t.id()).unwrap_or_default();
            let state = d.target_health().and_then(|h| h.state());
            instances.iter().any(|i| i == id) && state != Some(&TargetHealthStateEnum::Unused)
        });
        if still_there {
            return Ok(false);
        }
    }
    Ok(true)
}
