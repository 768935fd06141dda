//! Auto Scaling group calls the resources share: read one group, write its tags, terminate an
//! instance, attach and detach target groups, suspend and resume processes, schedule its
//! scale-to-zero, delete it. "Already gone" counts as done where a caller removes something.

use std::time::{Duration, SystemTime};

use aws_sdk_autoscaling::primitives::DateTime;
use aws_sdk_autoscaling::types::{AutoScalingGroup, ScheduledUpdateGroupAction, Tag};

use super::error::{absent_is_none, aws_err};
use super::{AwsClients, AwsError};

/// Target groups per Attach/DetachLoadBalancerTargetGroups call (the API's limit).
const TARGET_GROUPS_PER_CALL: usize = 10;

/// Whether a listed group is not being deleted (AWS lists groups until deletion completes,
/// with a `Delete in progress` status).
pub fn is_live(group: &AutoScalingGroup) -> bool {
    group.status().is_none_or(|s| !s.starts_with("Delete"))
}

/// The group named `name` unless it is gone or being deleted: a direct read, never from a
/// snapshot, sharing one DescribeAutoScalingGroups with the reads other fleets of the process
/// make within the same 20 ms (fifty fleets replaced at once read their groups together).
pub async fn describe_group(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<AutoScalingGroup>, AwsError> {
    clients.groups.describe_directly(name).await
}

/// The launch template the group launches from, directly or through its mixed instances
/// policy.
pub fn launch_template_id(group: &AutoScalingGroup) -> Option<&str> {
    group
        .launch_template()
        .or_else(|| {
            group
                .mixed_instances_policy()
                .and_then(|p| p.launch_template())
                .and_then(|t| t.launch_template_specification())
        })
        .and_then(|t| t.launch_template_id())
}

/// The group's tags as `(key, value)` pairs.
pub fn group_tags(group: &AutoScalingGroup) -> impl Iterator<Item = (&str, &str)> {
    group
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))
}

fn tag_builder(group: &str, key: &str) -> aws_sdk_autoscaling::types::builders::TagBuilder {
    Tag::builder()
        .resource_id(group)
        .resource_type("auto-scaling-group")
        .key(key)
}

/// A tag reference by key alone, for [`delete_tags`].
pub fn tag_key(group: &str, key: &str) -> Tag {
    tag_builder(group, key).build()
}

/// A tag of the group that it also puts on the instances it launches.
pub fn propagated_tag(group: &str, key: &str, value: &str) -> Tag {
    tag_builder(group, key)
        .value(value)
        .propagate_at_launch(true)
        .build()
}

/// A tag of the group only.
pub fn group_tag(group: &str, key: &str, value: &str) -> Tag {
    tag_builder(group, key)
        .value(value)
        .propagate_at_launch(false)
        .build()
}

/// Creates or overwrites `tags` (none: no call).
pub async fn put_tags(clients: &AwsClients, tags: Vec<Tag>) -> Result<(), AwsError> {
    if !tags.is_empty() {
        clients
            .autoscaling
            .create_or_update_tags()
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(aws_err("CreateOrUpdateTags"))?;
    }
    Ok(())
}

/// Deletes `tags` by key (none: no call).
pub async fn delete_tags(clients: &AwsClients, tags: Vec<Tag>) -> Result<(), AwsError> {
    if !tags.is_empty() {
        clients
            .autoscaling
            .delete_tags()
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(aws_err("DeleteTags"))?;
    }
    Ok(())
}

/// A duration as the whole seconds the Auto Scaling API takes (saturating).
pub fn api_seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Terminates one instance of its group, lowering the group's desired capacity by one so
/// that no replacement is launched. An instance already gone is success.
pub async fn terminate_and_decrement(clients: &AwsClients, instance: &str) -> Result<(), AwsError> {
    let terminated = clients
        .autoscaling
        .terminate_instance_in_auto_scaling_group()
        .instance_id(instance)
        .should_decrement_desired_capacity(true)
        .send()
        .await
        .map_err(aws_err("TerminateInstanceInAutoScalingGroup"));
    absent_is_none(terminated).map(drop)
}

/// Detaches the group from `target_groups`, which starts their deregistration delay.
pub async fn detach_target_groups(
    clients: &AwsClients,
    group: &str,
    target_groups: &[String],
) -> Result<(), AwsError> {
    for chunk in target_groups.chunks(TARGET_GROUPS_PER_CALL) {
        clients
            .autoscaling
            .detach_load_balancer_target_groups()
            .auto_scaling_group_name(group)
            .set_target_group_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err("DetachLoadBalancerTargetGroups"))?;
    }
    Ok(())
}

/// Attaches the group to `target_groups`: its instances are registered with them.
pub async fn attach_target_groups(
    clients: &AwsClients,
    group: &str,
    target_groups: &[String],
) -> Result<(), AwsError> {
    for chunk in target_groups.chunks(TARGET_GROUPS_PER_CALL) {
        clients
            .autoscaling
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name(group)
            .set_target_group_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err("AttachLoadBalancerTargetGroups"))?;
    }
    Ok(())
}

/// Suspends the group's scaling `processes` (`Launch`, `Terminate`, `AddToLoadBalancer`…).
/// None: no call (an empty list would suspend them all).
pub async fn suspend_processes(
    clients: &AwsClients,
    group: &str,
    processes: &[&str],
) -> Result<(), AwsError> {
    if processes.is_empty() {
        return Ok(());
    }
    clients
        .autoscaling
        .suspend_processes()
        .auto_scaling_group_name(group)
        .set_scaling_processes(Some(processes.iter().map(|p| (*p).to_owned()).collect()))
        .send()
        .await
        .map_err(aws_err("SuspendProcesses"))?;
    Ok(())
}

/// Resumes the group's suspended `processes`. None: no call (an empty list would resume them
/// all). A group already gone is success.
pub async fn resume_processes(
    clients: &AwsClients,
    group: &str,
    processes: &[&str],
) -> Result<(), AwsError> {
    if processes.is_empty() {
        return Ok(());
    }
    let resumed = clients
        .autoscaling
        .resume_processes()
        .auto_scaling_group_name(group)
        .set_scaling_processes(Some(processes.iter().map(|p| (*p).to_owned()).collect()))
        .send()
        .await
        .map_err(aws_err("ResumeProcesses"));
    absent_is_none(resumed).map(drop)
}

/// A scheduled action of a group, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledAction {
    pub name: String,
    pub start: Option<SystemTime>,
    pub min_size: Option<i32>,
    pub desired_capacity: Option<i32>,
}

impl ScheduledAction {
    fn from_api(action: &ScheduledUpdateGroupAction) -> Option<Self> {
        Some(Self {
            name: action.scheduled_action_name()?.to_owned(),
            start: action
                .start_time()
                .and_then(|t| SystemTime::try_from(*t).ok()),
            min_size: action.min_size(),
            desired_capacity: action.desired_capacity(),
        })
    }
}

/// Creates or replaces the scheduled action `action` that sets the group's minimum and
/// desired capacity to 0 at `start`, so that AWS ends the group's life without us.
pub async fn put_scale_to_zero_at(
    clients: &AwsClients,
    group: &str,
    action: &str,
    start: SystemTime,
) -> Result<(), AwsError> {
    clients
        .autoscaling
        .put_scheduled_update_group_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(action)
        .start_time(DateTime::from(start))
        .min_size(0)
        .desired_capacity(0)
        .send()
        .await
        .map_err(aws_err("PutScheduledUpdateGroupAction"))?;
    Ok(())
}

/// Deletes the group's scheduled action `action`. An action or group already gone is success.
pub async fn delete_scheduled_action(
    clients: &AwsClients,
    group: &str,
    action: &str,
) -> Result<(), AwsError> {
    let deleted = clients
        .autoscaling
        .delete_scheduled_action()
        .auto_scaling_group_name(group)
        .scheduled_action_name(action)
        .send()
        .await
        .map_err(aws_err("DeleteScheduledAction"));
    absent_is_none(deleted).map(drop)
}

/// The group's scheduled actions, by name. A group that is gone has none.
pub async fn scheduled_actions(
    clients: &AwsClients,
    group: &str,
) -> Result<Vec<ScheduledAction>, AwsError> {
    let mut actions = Vec::new();
    let mut pages = clients
        .autoscaling
        .describe_scheduled_actions()
        .auto_scaling_group_name(group)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = absent_is_none(page.map_err(aws_err("DescribeScheduledActions")))? else {
            return Ok(Vec::new());
        };
        actions.extend(
            page.scheduled_update_group_actions()
                .iter()
                .filter_map(ScheduledAction::from_api),
        );
    }
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(actions)
}

/// Starts deleting the group and its instances (force delete). A group already gone is
/// success; the deletion itself continues in AWS.
pub async fn start_group_delete(clients: &AwsClients, group: &str) -> Result<(), AwsError> {
    let deleted = clients
        .autoscaling
        .delete_auto_scaling_group()
        .auto_scaling_group_name(group)
        .force_delete(true)
        .send()
        .await
        .map_err(aws_err("DeleteAutoScalingGroup"));
    absent_is_none(deleted).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_action_reads_back_with_its_time_and_sizes() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_hours(500_000);
        let api = ScheduledUpdateGroupAction::builder()
            .scheduled_action_name("park-end")
            .start_time(DateTime::from(start))
            .min_size(0)
            .desired_capacity(0)
            .build();
        assert_eq!(
            ScheduledAction::from_api(&api),
            Some(ScheduledAction {
                name: "park-end".to_owned(),
                start: Some(start),
                min_size: Some(0),
                desired_capacity: Some(0),
            })
        );
        // Nameless: not an action anyone can address.
        let nameless = ScheduledUpdateGroupAction::builder().min_size(0).build();
        assert_eq!(ScheduledAction::from_api(&nameless), None);
    }
}
