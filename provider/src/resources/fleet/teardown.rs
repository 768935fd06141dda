//! Removing generations: drain from the target groups, delete the group and wait until it and
//! its instances are gone, delete the launch template; and removing what interrupted rollouts
//! left behind. Missing pieces are success, so every removal can be retried.

use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::group::{Sizes, update_group};
use super::inventory::{Inventory, Rollout, inventory};
use crate::aws::groups::{
    describe_group, detach_target_groups, launch_template_id, start_group_delete,
};
use crate::aws::instances::{deregistered, instances_terminated};
use crate::aws::templates::delete_launch_template;
use crate::aws::tick_reader::Watch;
use crate::aws::wait::{WaitError, wait_until};
use crate::aws::{AwsClients, AwsError};

/// Whether a delete lets the group's terminating lifecycle hooks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hooks {
    /// The generation has terminating hooks: scale in first, so they run.
    LetTerminatingRun,
    /// No terminating hooks, or a generation that never served (a leftover).
    Skip,
}

impl Hooks {
    pub fn of(has_terminating_hook: bool) -> Self {
        if has_terminating_hook {
            Self::LetTerminatingRun
        } else {
            Self::Skip
        }
    }
}

/// How long deletes wait for AWS to finish before giving up (Terraform can retry them).
pub const DELETE_WAIT: Duration = Duration::from_mins(15);

/// Longest wait for target deregistration (the default deregistration delay is 300 s).
const DRAIN_WAIT: Duration = Duration::from_mins(6);

/// Deletes a generation: detach from target groups, delete the ASG and wait until it and
/// its instances are gone, then delete the launch template. Missing pieces are success.
pub async fn delete_generation(
    clients: &AwsClients,
    asg_name: &str,
    template_id: Option<&str>,
    hooks: Hooks,
    stop: &CancellationToken,
) -> Result<(), WaitError> {
    let group_template = delete_group(clients, asg_name, hooks, stop).await?;
    if let Some(id) = template_id.map(str::to_owned).or(group_template) {
        delete_launch_template(clients, &id).await?;
    }
    Ok(())
}

/// Deletes an ASG as [`delete_generation`] does, but not its launch template, whose ID it
/// returns (`None` when the group was already gone).
pub async fn delete_group(
    clients: &AwsClients,
    asg_name: &str,
    hooks: Hooks,
    stop: &CancellationToken,
) -> Result<Option<String>, WaitError> {
    let deadline = Instant::now() + DELETE_WAIT;
    let Some(asg) = describe_group(clients, asg_name).await? else {
        return Ok(None);
    };
    let instance_ids: Vec<String> = asg
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    let template_id = launch_template_id(&asg).map(str::to_owned);
    let target_groups = asg.target_group_arns().to_vec();
    if !target_groups.is_empty() {
        drain(
            clients,
            asg_name,
            &target_groups,
            &instance_ids,
            deadline,
            stop,
        )
        .await?;
    }
    if hooks == Hooks::LetTerminatingRun && !instance_ids.is_empty() {
        // A force delete skips the terminating hooks; scaling in first lets them run (each
        // instance waits in Terminating:Wait until its action completes or times out).
        tracing::info!(
            asg = asg_name,
            "scaling in to zero so that terminating lifecycle hooks run"
        );
        let zero = Sizes {
            min: Some(0),
            desired: Some(0),
            ..Sizes::default()
        };
        update_group(clients, asg_name, zero, None).await?;
        wait_until(
            deadline,
            stop,
            asg_name,
            "instances to pass their terminating lifecycle hooks",
            || instances_terminated(clients, &instance_ids),
        )
        .await?;
    }
    tracing::info!(
        asg = asg_name,
        instances = instance_ids.len(),
        "deleting Auto Scaling group"
    );
    start_group_delete(clients, asg_name).await?;
    wait_until(
        deadline,
        stop,
        asg_name,
        "Auto Scaling group to disappear",
        || group_gone(clients, asg_name),
    )
    .await?;
    if !instance_ids.is_empty() {
        wait_until(deadline, stop, asg_name, "instances to terminate", || {
            instances_terminated(clients, &instance_ids)
        })
        .await?;
    }
    Ok(template_id)
}

/// Whether the group is gone or being deleted, read at the next tick of the shared reader: the
/// deletes of fifty replaced fleets share one DescribeAutoScalingGroups a tick.
async fn group_gone(clients: &AwsClients, asg_name: &str) -> Result<bool, AwsError> {
    let watch = Watch {
        group: Some(asg_name.to_owned()),
        ..Watch::default()
    };
    Ok(clients.ticks.read(watch).await?.group.is_none())
}

/// Detaches the group from its target groups and lets in-flight requests finish before its
/// instances go away: bounded, because a stuck drain must not block a delete forever. Only a
/// Stop (or a failed detach) ends the delete here; a drain that fails or runs out of time is
/// logged and the delete goes on.
async fn drain(
    clients: &AwsClients,
    asg_name: &str,
    target_groups: &[String],
    instance_ids: &[String],
    deadline: Instant,
    stop: &CancellationToken,
) -> Result<(), WaitError> {
    tracing::info!(asg = asg_name, "detaching from target groups before delete");
    detach_target_groups(clients, asg_name, target_groups).await?;
    let drain_deadline = deadline.min(Instant::now() + DRAIN_WAIT);
    let drained = wait_until(
        drain_deadline,
        stop,
        asg_name,
        "targets to deregister",
        || deregistered(clients, target_groups, instance_ids),
    )
    .await;
    match drained {
        Err(WaitError::Stopped { .. }) => drained,
        Err(e) => {
            tracing::warn!(
                asg = asg_name,
                "deregistration did not finish in time ({e}); deleting anyway"
            );
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// Removes what interrupted rollouts left behind and parked generations past their window,
/// except `keep` (a leftover being adopted).
pub async fn remove_leftovers(
    clients: &AwsClients,
    found: &Inventory,
    keep: Option<&str>,
    stop: &CancellationToken,
) -> Result<(), WaitError> {
    let now = SystemTime::now();
    for g in &found.generations {
        if Some(g.name.as_str()) == keep {
            continue;
        }
        if g.rollout == Rollout::Gating {
            tracing::warn!(asg = %g.name, "removing generation {} left over by an interrupted rollout", g.generation);
        } else if g.rollout.expired_at(now) {
            tracing::info!(asg = %g.name, "removing parked generation {}: its window has ended", g.generation);
        } else {
            continue;
        }
        let template = g.launch_template_id.as_deref();
        delete_generation(clients, &g.name, template, Hooks::Skip, stop).await?;
    }
    for template in &found.orphan_templates {
        tracing::warn!(launch_template = %template.name, "removing launch template left over by an interrupted rollout");
        delete_launch_template(clients, &template.id).await?;
    }
    Ok(())
}

/// Removes what interrupted rollouts of `fleet` left behind (generations that never passed
/// their gate, launch templates without a group) and parked generations past their window —
/// all parked ones when no generation serves any more. Run after a delete, so a fleet destroyed
/// after a crashed rollout leaves nothing in AWS either, and by the update that a refresh
/// planned when it found leftovers.
///
/// After the delete of generation `deleted`, serving generations *older* than it go too: the
/// fleet name is unique in the account and region, so they are strays (left by `terraform
/// state rm`, say), and every refresh warned about them. Newer ones stay: in a replacement
/// the new generation is newer than the one Terraform deletes.
pub async fn remove_fleet_leftovers(
    clients: &AwsClients,
    fleet: &str,
    deleted: Option<i64>,
) -> Result<(), WaitError> {
    let found = inventory(clients, fleet).await?;
    remove_leftovers(clients, &found, None, &CancellationToken::new()).await?;
    // Parked generations are kept for a rollback of the fleet; with no fleet left to roll
    // back (it was destroyed), they go too.
    if !found.generations.iter().any(|g| g.rollout.is_serving()) {
        let stop = CancellationToken::new();
        for parked in found
            .generations
            .iter()
            .filter(|g| matches!(g.rollout, Rollout::Parked { .. }))
        {
            tracing::info!(asg = %parked.name, "removing parked generation {} of destroyed fleet {fleet}", parked.generation);
            let template = parked.launch_template_id.as_deref();
            delete_generation(clients, &parked.name, template, Hooks::Skip, &stop).await?;
        }
    }
    let Some(deleted) = deleted else {
        return Ok(());
    };
    for stray in found
        .generations
        .iter()
        .filter(|g| g.rollout.is_serving() && g.generation < deleted)
    {
        tracing::warn!(asg = %stray.name, "removing older serving generation {} of fleet {fleet}: not held by Terraform", stray.generation);
        // Generation 0 is a group imported from outside: its template may be shared.
        let template = (stray.generation > 0)
            .then_some(stray.launch_template_id.as_deref())
            .flatten();
        let stop = CancellationToken::new();
        delete_generation(clients, &stray.name, template, Hooks::Skip, &stop).await?;
    }
    Ok(())
}
