//! The one AWS read a gate makes on its own: the group's recent scaling activities, read only
//! while the group is still launching (DescribeScalingActivities takes one group a call). The
//! group, its target health and the alarms come from the process's shared
//! [`TickReader`](crate::aws::TickReader). No decisions: those are in `classify.rs`.

use std::time::SystemTime;

use super::classify::failed_activity;
use crate::aws::error::aws_err;
use crate::aws::{AwsClients, AwsError};

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
