//! Parking a retired generation (`keep_previous_for`): out of traffic but running, so that a
//! rollback inside the window launches nothing; and bringing it back.
//!
//! A parked group is detached from its target groups and its processes that would launch,
//! replace, rebalance, register or scale instances are suspended. `Terminate` stays active on
//! purpose: with it suspended a group does not scale in, so the scheduled action that scales
//! the group to zero at the end of the window — AWS's enforcement of the window, whether or
//! not Terraform runs again — would do nothing.

use std::time::{Duration, SystemTime};

use super::group::set_rollout;
use super::inventory::{Rollout, tag_value};
use crate::aws::groups::{
    attach_target_groups, delete_scheduled_action, describe_group, detach_target_groups,
    group_tags, put_scale_to_zero_at, resume_processes, suspend_processes,
};
use crate::aws::{AwsClients, AwsError};

/// The processes suspended while a generation is parked.
pub const PARKED_PROCESSES: [&str; 5] = [
    "Launch",
    "AddToLoadBalancer",
    "AlarmNotification",
    "AZRebalance",
    "ReplaceUnhealthy",
];

/// The scheduled action that ends a parked generation's window.
pub const WINDOW_END_ACTION: &str = "immutable-parked-window-end";

/// Parks `asg` for `window`; returns the end of the window. The state tag comes last: a
/// provider killed halfway leaves a group still tagged serving, which the deposed object's
/// delete (retried by the next apply) removes.
pub async fn park(
    clients: &AwsClients,
    fleet: &str,
    asg: &str,
    window: Duration,
) -> Result<SystemTime, AwsError> {
    // Whole seconds: the tag and the scheduled action read the same.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(Duration::ZERO, |d| Duration::from_secs(d.as_secs()));
    let until = SystemTime::UNIX_EPOCH + now + window;
    suspend_processes(clients, asg, &PARKED_PROCESSES).await?;
    if let Some(group) = describe_group(clients, asg).await? {
        let attached = group.target_group_arns().to_vec();
        if !attached.is_empty() {
            detach_target_groups(clients, asg, &attached).await?;
        }
    }
    put_scale_to_zero_at(clients, asg, WINDOW_END_ACTION, until).await?;
    let parked = Rollout::Parked { until };
    set_rollout(clients, asg, parked).await?;
    tracing::info!(
        fleet,
        asg,
        "{fleet}: previous generation {asg} parked ({}): detached, instances running",
        parked.tag_value()
    );
    Ok(until)
}

/// Takes `asg` out of its parking: tagged gating first (a provider killed halfway leaves a
/// leftover the next apply adopts or removes, never a parked group that takes traffic), then
/// the window's end cancelled, the processes resumed and the target groups attached again.
/// The caller gates it.
pub async fn unpark(
    clients: &AwsClients,
    asg: &str,
    target_group_arns: &[String],
) -> Result<(), AwsError> {
    set_rollout(clients, asg, Rollout::Gating).await?;
    delete_scheduled_action(clients, asg, WINDOW_END_ACTION).await?;
    resume_processes(clients, asg, &PARKED_PROCESSES).await?;
    if !target_group_arns.is_empty() {
        attach_target_groups(clients, asg, target_group_arns).await?;
    }
    Ok(())
}

/// Where `asg` stands by its state tag; `None` when the group is gone.
pub async fn rollout_of(clients: &AwsClients, asg: &str) -> Result<Option<Rollout>, AwsError> {
    Ok(describe_group(clients, asg)
        .await?
        .map(|g| Rollout::parse(tag_value(group_tags(&g), Rollout::TAG))))
}
