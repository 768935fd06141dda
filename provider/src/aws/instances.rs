//! EC2 instance and target group reads the resources wait on.

use aws_sdk_ec2::types::{InstanceStateName, Reservation};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use futures::future::join_all;

use super::error::{ErrorKind, absent_is_none, aws_err};
use super::tick_reader::Watch;
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
/// a target group that is gone holds none. Read through the shared tick reader, so the deletes
/// of many fleets draining from one target group share its DescribeTargetHealth.
pub async fn deregistered(
    clients: &AwsClients,
    target_groups: &[String],
    instances: &[String],
) -> Result<bool, AwsError> {
    // One watch per target group: a deleted one must not hide the others' targets.
    let reads = target_groups.iter().map(|arn| {
        clients.ticks.read(Watch {
            target_groups: vec![arn.clone()],
            ..Watch::default()
        })
    });
    for reading in join_all(reads).await {
        let reading = match reading {
            Ok(reading) => reading,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let still_there = reading
            .target_health
            .iter()
            .flat_map(|(_, descriptions)| descriptions)
            .any(|d| {
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
