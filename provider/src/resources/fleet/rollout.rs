//! Rolling out: a new generation next to the old one (created, or adopted from an
//! interrupted rollout of the same configuration) held to the gate and removed again when it
//! fails; and the changes made in place (capacity, tags, gate settings, a rename), where a
//! scale-out is held to the gate too and undone when it fails.

use std::time::{Instant, SystemTime};

use aws_sdk_autoscaling::types::{AutoScalingGroup, Tag};
use tokio_util::sync::CancellationToken;

use super::failure::{Failure, ScaleOutUndone, duplicate_name_detail};
use super::gate::Gate;
use super::group::{
    self, NewGroup, Sizes, apply_settings, create_group, generation_name, health_tag, set_rollout,
};
use super::group_settings;
use super::group_spec::GroupSettings;
use super::inventory::{Generation, Rollout, inventory};
use super::launch_spec::BlockDevice;
use super::launch_template::{self, create_launch_template};
use super::spec::{FleetSpec, TAG_HEALTH_CHECK};
use super::state::FleetState;
use super::teardown::{Hooks, delete_generation, remove_leftovers};
use crate::aws::groups::{
    delete_tags, describe_group, propagated_tag, put_tags, tag_key, terminate_and_decrement,
};
use crate::aws::templates::delete_launch_template;
use crate::aws::{AwsClients, AwsError, ErrorKind};
use crate::framework::Diagnostics;

/// A generation that passed its gate.
pub struct Created {
    pub asg_name: String,
    pub generation: i64,
    pub launch_template_id: String,
    pub desired: i32,
}

impl Created {
    /// The planned state with the values only apply could know.
    pub fn into_state(self, planned: FleetState, spec: &FleetSpec) -> FleetState {
        FleetState {
            // The disks' defaults as applied (unknown in the plan of a new disk).
            block_device_mapping: spec
                .launch
                .block_devices
                .iter()
                .map(BlockDevice::to_block)
                .collect(),
            id: Some(self.asg_name.clone()),
            autoscaling_group_name: Some(self.asg_name),
            generation: Some(self.generation),
            launch_template_id: Some(self.launch_template_id),
            desired_capacity: Some(i64::from(self.desired)),
            // A new generation starts clean: create removed every leftover it found.
            leftovers: None,
            ..planned
        }
    }
}

/// Creates the next generation of `spec` and holds it to the health gate. On failure the
/// new generation is removed again, so the caller can return a null state.
///
/// Leftovers of interrupted rollouts are found by their tags first: one that was built from
/// exactly this configuration is adopted (it continues through the gate), the others are
/// deleted. So a provider killed mid-gate costs nothing but time, and leaves nothing behind.
pub async fn create_generation(
    clients: &AwsClients,
    spec: &FleetSpec,
    stop: &CancellationToken,
) -> Result<Created, Failure> {
    let started_at = SystemTime::now();
    let found = tokio::select! {
        () = stop.cancelled() => return Err(Failure::Stopped),
        found = inventory(clients, &spec.name) => found?,
    };
    let fingerprint = spec.fingerprint();
    let adoptable = found.generations.iter().rev().find(|g| {
        g.rollout == Rollout::Gating
            && g.fingerprint.as_deref() == Some(fingerprint.as_str())
            && g.launch_template_id.is_some()
    });
    remove_leftovers(clients, &found, adoptable.map(|g| g.name.as_str()), stop).await?;
    // The timeout is the new generation's: removing leftovers (which may drain target
    // groups for minutes) must not eat into it.
    let started = Instant::now();

    // A replacement at peak must not shrink the fleet: without a configured size, start
    // where the newest serving predecessor is now.
    let desired = spec.desired_capacity.unwrap_or_else(|| {
        found
            .newest_serving()
            .map_or(spec.min_size, |g| g.desired)
            .clamp(spec.min_size, spec.max_size.max(spec.min_size))
    });

    // Launching is two quick calls, never interrupted halfway; after it the gate answers a
    // Stop with a rollback.
    if stop.is_cancelled() {
        return Err(Failure::Stopped);
    }
    let (name, generation, template_id) = match adoptable {
        Some(leftover) => adopt(clients, spec, leftover, desired).await?,
        None => launch(clients, spec, found.newest + 1, &fingerprint, desired).await?,
    };

    let gate = Gate::new(
        clients,
        &spec.name,
        &name,
        desired,
        &spec.health,
        &spec.target_group_arns,
    )
    .started(started, started_at);
    match gate.wait(stop).await {
        Ok(()) => {
            set_rollout(clients, &name, Rollout::Serving).await?;
            Ok(Created {
                asg_name: name,
                generation,
                launch_template_id: template_id,
                desired,
            })
        }
        Err(failure) => {
            tracing::warn!(fleet = %spec.name, "gate failed for {name}: rolling back");
            // Rollback must finish even after Stop: a fresh token, bounded by the delete's
            // own wait.
            let hooks = Hooks::of(spec.group.has_terminating_hook());
            let stop = CancellationToken::new();
            let rollback =
                delete_generation(clients, &name, Some(&template_id), hooks, &stop).await;
            Err(Failure::Gate {
                generation: name,
                failure,
                rollback,
            })
        }
    }
}

/// Takes over a leftover generation built from the same configuration: sets its capacity,
/// health-check settings and tags (none of them is in the fingerprint, and the state
/// returned must be true); the caller gates it like a new one.
async fn adopt(
    clients: &AwsClients,
    spec: &FleetSpec,
    leftover: &Generation,
    desired: i32,
) -> Result<(String, i64, String), Failure> {
    tracing::info!(
        fleet = %spec.name,
        "adopting {} left over by an interrupted rollout of the same configuration",
        leftover.name
    );
    let name = leftover.name.as_str();
    apply_settings(clients, name, spec, Some(desired)).await?;
    group_settings::sync(clients, name, spec).await?;
    let stale: Vec<Tag> = leftover
        .user_tag_keys
        .iter()
        .filter(|k| {
            if *k == TAG_HEALTH_CHECK {
                spec.health_tag.is_none()
            } else {
                !spec.tags.contains_key(*k)
            }
        })
        .map(|k| tag_key(name, k))
        .collect();
    delete_tags(clients, stale).await?;
    let mut tags: Vec<Tag> = spec
        .tags
        .iter()
        .map(|(k, v)| propagated_tag(name, k, v))
        .collect();
    tags.extend(health_tag(spec, name));
    put_tags(clients, tags).await?;
    Ok((
        leftover.name.clone(),
        leftover.generation,
        leftover.launch_template_id.clone().unwrap_or_default(),
    ))
}

/// Creates generation `generation`: its launch template, then its ASG (removing the
/// template again if the ASG cannot be created).
async fn launch(
    clients: &AwsClients,
    spec: &FleetSpec,
    generation: i64,
    fingerprint: &str,
    desired: i32,
) -> Result<(String, i64, String), Failure> {
    let name = generation_name(&spec.name, generation);
    if describe_group(clients, &name).await?.is_some() {
        return Err(Failure::Conflict(format!(
            "An Auto Scaling group named {name} already exists but does not carry the tags \
             of fleet {:?}. Rename the fleet or remove that group.",
            spec.name
        )));
    }
    tracing::info!(fleet = %spec.name, generation, desired, "creating new fleet generation {name}");
    let template_id =
        match create_launch_template(clients, spec, &name, generation, fingerprint).await {
            Ok(id) => id,
            // Another create of the same fleet name took this generation number first: only a
            // second resource with the same name does that (the state lock keeps other applies
            // out, and a provider process creates each resource once).
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(Failure::Conflict(format!(
                    "Launch template {name} already exists: {}",
                    duplicate_name_detail(&spec.name)
                )));
            }
            Err(e) => return Err(e.into()),
        };
    let group = NewGroup {
        name: &name,
        template_id: &template_id,
        generation,
        fingerprint,
        desired,
    };
    if let Err(e) = create_group(clients, spec, &group).await {
        let _ = delete_launch_template(clients, &template_id).await;
        return Err(e.into());
    }
    Ok((name, generation, template_id))
}

/// Renames the fleet of the generation in `prior` to `new_name`: its tags only, the group and
/// its instances stay as they are. Refused when `new_name` already has generations.
pub async fn rename(
    clients: &AwsClients,
    prior: &FleetState,
    new_name: &str,
) -> Result<(), Failure> {
    let asg_name = prior.id.as_deref().unwrap_or_default();
    let taken = inventory(clients, new_name).await?;
    if let Some(other) = taken.generations.first() {
        return Err(Failure::Conflict(format!(
            "Cannot rename fleet {:?} to {new_name:?}: Auto Scaling group {} (generation {} of \
             fleet {new_name:?}, in {}) already carries that name. Fleet names must be unique \
             in an account and region; choose another name or remove that fleet first.",
            prior.name, other.name, other.generation, clients.region
        )));
    }
    tracing::info!(
        asg = asg_name,
        fleet = new_name,
        "renaming fleet (tags only)"
    );
    group::retag_fleet(clients, asg_name, new_name).await?;
    // An imported group's launch template is the user's and carries no fleet tag.
    if prior.generation.is_some_and(|g| g > 0)
        && let Some(template) = &prior.launch_template_id
    {
        launch_template::retag_fleet(clients, template, new_name).await?;
    }
    Ok(())
}

/// Applies capacity, tags and health-check settings in place. Returns the group's desired
/// capacity afterwards. A scale-out is held to the health gate.
pub async fn update_in_place(
    clients: &AwsClients,
    asg_name: &str,
    prior: &FleetState,
    spec: &FleetSpec,
    stop: &CancellationToken,
) -> Result<i32, Failure> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    // What a failed scale-out goes back to: the sizes before, and the instances that were
    // already running (the ones it may terminate are the others).
    let before = describe_group(clients, asg_name).await?;
    apply_settings(clients, asg_name, spec, spec.desired_capacity).await?;
    // Hooks, policies and metrics are read and written only when the plan changes them.
    let mut unused = Diagnostics::new();
    if GroupSettings::from_state(prior, &mut unused) != spec.group {
        group_settings::sync(clients, asg_name, spec).await?;
    }

    let old_tags = prior.tags.clone().unwrap_or_default();
    // A `health_check` block removed from the configuration: drop its record too, or an
    // import would restore the old settings.
    let health_tag_removed =
        (spec.health_tag.is_none() && prior.health_check.is_some()).then_some(TAG_HEALTH_CHECK);
    let removed: Vec<Tag> = old_tags
        .keys()
        .map(String::as_str)
        .filter(|k| !spec.tags.contains_key(*k))
        .chain(health_tag_removed)
        .map(|k| tag_key(asg_name, k))
        .collect();
    delete_tags(clients, removed).await?;
    let mut changed: Vec<Tag> = spec
        .tags
        .iter()
        .filter(|(k, v)| old_tags.get(*k) != Some(*v))
        .map(|(k, v)| propagated_tag(asg_name, k, v))
        .collect();
    changed.extend(health_tag(spec, asg_name));
    put_tags(clients, changed).await?;

    let desired = describe_group(clients, asg_name)
        .await?
        .and_then(|g| g.desired_capacity())
        .unwrap_or(spec.min_size);
    let desired_before = prior.desired_capacity.unwrap_or(0);
    if i64::from(desired) > desired_before {
        let gated = Gate::new(
            clients,
            &spec.name,
            asg_name,
            desired,
            &spec.health,
            &spec.target_group_arns,
        )
        .started(started, started_at)
        .wait(stop)
        .await;
        if let Err(failure) = gated {
            tracing::warn!(fleet = %spec.name, "scale-out of {asg_name} failed its gate: undoing it");
            let undo = undo_scale_out(clients, asg_name, before.as_ref()).await;
            return Err(Failure::ScaleOutGate { failure, undo });
        }
    }
    Ok(desired)
}

/// Puts a group whose scale-out failed back where it was: the instances launched since
/// `before` are terminated (decrementing the desired capacity, so no others are picked), then
/// the sizes are set back exactly.
async fn undo_scale_out(
    clients: &AwsClients,
    asg_name: &str,
    before: Option<&AutoScalingGroup>,
) -> Result<ScaleOutUndone, AwsError> {
    let Some(before) = before else {
        return Err(AwsError::other(
            "DescribeAutoScalingGroups",
            "NotFound",
            format!("{asg_name} was not found before the scale-out"),
        ));
    };
    let (min, max, desired) = (
        before.min_size().unwrap_or(0),
        before.max_size().unwrap_or(0),
        before.desired_capacity().unwrap_or(0),
    );
    let running_before: Vec<&str> = before
        .instances()
        .iter()
        .filter_map(|i| i.instance_id())
        .collect();
    // Lower the minimum first: terminating with a decrement may not go below it.
    let min_only = Sizes {
        min: Some(min),
        ..Sizes::default()
    };
    group::update_group(clients, asg_name, min_only, None).await?;
    let now = describe_group(clients, asg_name).await?;
    let launched: Vec<String> = now
        .iter()
        .flat_map(AutoScalingGroup::instances)
        .filter_map(|i| i.instance_id())
        .filter(|id| !running_before.contains(id))
        .map(str::to_owned)
        .collect();
    for id in &launched {
        terminate_and_decrement(clients, id).await?;
    }
    let sizes = Sizes {
        min: Some(min),
        max: Some(max),
        desired: Some(desired),
    };
    group::update_group(clients, asg_name, sizes, None).await?;
    Ok(ScaleOutUndone {
        desired,
        terminated: launched,
    })
}
