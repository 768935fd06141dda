//! Rolling out: a new generation next to the old one (created, adopted from an interrupted
//! rollout of the same configuration, or brought back from its parking) held to the gate —
//! step by step with a `rollout` block (`canary.rs`) — and removed again when it fails; and
//! the changes made in place (capacity, tags, gate settings, a rename), where a scale-out is
//! held to the gate too and undone when it fails.

use std::time::{Instant, SystemTime};

use aws_sdk_autoscaling::types::{AutoScalingGroup, Tag};
use tokio_util::sync::CancellationToken;

use super::canary::{self, StepFailure};
use super::failure::{Failure, ScaleOutUndone, duplicate_name_detail};
use super::gate::alarms::{self, AlarmVerdict};
use super::gate::{Gate, GateFailure};
use super::group::{
    self, NewGroup, Sizes, apply_settings, create_group, generation_name, health_tag, set_rollout,
};
use super::group_settings;
use super::group_spec::GroupSettings;
use super::inventory::{Generation, Inventory, Rollout, inventory, tag_value};
use super::launch_spec::BlockDevice;
use super::launch_template::{self, create_launch_template};
use super::park::{park, unpark};
use super::rollout_spec::Step;
use super::spec::{FleetSpec, TAG_HEALTH_CHECK};
use super::state::FleetState;
use super::teardown::{Hooks, delete_generation, remove_leftovers};
use crate::aws::groups::{
    delete_tags, describe_group, group_tags, propagated_tag, put_tags, tag_key,
    terminate_and_decrement,
};
use crate::aws::templates::delete_launch_template;
use crate::aws::wait::WaitError;
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

/// Creates the next generation of `spec` and holds it to the health gate — through its canary
/// steps and alarms when the fleet has a `rollout` block. On failure the new generation is
/// removed again (a shrunk previous generation scaled back first), so the caller can return
/// a null state. On success the previous generations are parked when `keep_previous_for`
/// asks for it; otherwise Terraform deletes the deposed one.
///
/// Leftovers of interrupted rollouts are found by their tags first: one that was built from
/// exactly this configuration is adopted (it continues through the gate), the others are
/// deleted, and a previous generation a crashed rollout had shrunk gets its size back. So a
/// provider killed mid-gate costs nothing but time, and leaves nothing behind. A parked
/// generation built from this configuration is brought back instead of launching anything.
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
    let now = SystemTime::now();
    let built_from_this = |g: &&Generation| {
        g.fingerprint.as_deref() == Some(fingerprint.as_str()) && g.launch_template_id.is_some()
    };
    // Going back to a parked generation is how an incident ends: no alarm holds it back.
    if let Some(parked) = found
        .generations
        .iter()
        .rev()
        .filter(built_from_this)
        .find(|g| g.rollout.parked_at(now))
    {
        return bring_back(clients, spec, &found, parked, stop).await;
    }
    refuse_into_an_incident(clients, spec, stop).await?;
    let adoptable = found
        .generations
        .iter()
        .rev()
        .filter(built_from_this)
        .find(|g| g.rollout == Rollout::Gating);
    remove_leftovers(clients, &found, adoptable.map(|g| g.name.as_str()), stop).await?;
    restore_shrunk(clients, spec, &found).await?;
    // The timeout is the new generation's: removing leftovers (which may drain target
    // groups for minutes) must not eat into it.
    let started = Instant::now();

    // A replacement at peak must not shrink the fleet: without a configured size, start
    // where the newest serving predecessor is now.
    let previous = found.newest_serving();
    let desired = spec.desired_capacity.unwrap_or_else(|| {
        previous
            .map_or(spec.min_size, |g| g.sizes.desired)
            .clamp(spec.min_size, spec.max_size.max(spec.min_size))
    });
    // Steps share traffic between two generations; the first generation has nobody to share
    // with, so it launches at full size (still gated, watched and assessed).
    let steps = if previous.is_some() {
        spec.rollout.steps(desired)
    } else {
        spec.rollout.first_generation().steps(desired)
    };
    let first_sizes = canary::first_sizes(spec, &steps);
    let mut shrinking =
        previous
            .filter(|_| spec.rollout.shrink_previous)
            .map(|g| canary::Shrinking {
                name: &g.name,
                full: canary::full_sizes(g),
            });

    // Launching is two quick calls, never interrupted halfway; after it the gate answers a
    // Stop with a rollback.
    if stop.is_cancelled() {
        return Err(Failure::Stopped);
    }
    let (name, generation, template_id) = match adoptable {
        Some(leftover) => adopt(clients, spec, leftover, first_sizes).await?,
        None => launch(clients, spec, found.newest + 1, &fingerprint, first_sizes).await?,
    };

    let stepped = canary::run_steps(
        clients,
        spec,
        &name,
        &steps,
        shrinking.as_mut(),
        started,
        started_at,
        stop,
    )
    .await;
    match stepped {
        Ok(()) => {
            // Parked before the new generation is tagged serving: a provider killed in between
            // leaves a gating generation, which the next apply adopts.
            if !spec.rollout.keep_previous_for.is_zero() {
                park_serving(clients, spec, &found).await;
            }
            set_rollout(clients, &name, Rollout::Serving).await?;
            Ok(Created {
                asg_name: name,
                generation,
                launch_template_id: template_id,
                desired,
            })
        }
        Err(StepFailure { step, failure }) => {
            let failed_step = (steps.len() > 1).then_some(step);
            let failure = roll_back(
                clients,
                spec,
                &name,
                &template_id,
                failed_step,
                failure,
                shrinking,
            );
            Err(failure.await)
        }
    }
}

/// Rolls back a new generation that failed `step` (or its only gate): a shrunk previous
/// generation is scaled back first — removing the new one before the old is back at full size
/// would take the fleet below its healthy minimum — then the new one is deleted.
async fn roll_back(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    template_id: &str,
    step: Option<Step>,
    failure: GateFailure,
    shrinking: Option<canary::Shrinking<'_>>,
) -> Failure {
    let why = failure.to_string();
    let why = why.lines().next().unwrap_or_default();
    if let Some(step) = step {
        tracing::warn!(fleet = %spec.name, "{}: {step} failed: {why}", spec.name);
    }
    tracing::warn!(fleet = %spec.name, "gate failed for {name}: rolling back");
    let restored = match shrinking {
        Some(previous) => Some(
            canary::restore(clients, spec, previous.name, previous.full)
                .await
                .map(|()| (previous.name.to_owned(), previous.full.desired)),
        ),
        None => None,
    };
    let rollback = remove_new(clients, spec, name, template_id).await;
    if rollback.is_ok() {
        tracing::info!(fleet = %spec.name, "{}: rolled back: {name} deleted", spec.name);
    }
    Failure::Gate {
        generation: name.to_owned(),
        step,
        failure,
        restored,
        rollback,
    }
}

/// Refuses a rollout while one of its alarms is in `ALARM` (don't deploy into an incident) or
/// does not exist (a watch that cannot fire).
async fn refuse_into_an_incident(
    clients: &AwsClients,
    spec: &FleetSpec,
    stop: &CancellationToken,
) -> Result<(), Failure> {
    if spec.rollout.alarms.is_empty() {
        return Ok(());
    }
    let verdict = tokio::select! {
        () = stop.cancelled() => return Err(Failure::Stopped),
        verdict = alarms::judge(clients, &spec.rollout.alarms) => verdict?,
    };
    if verdict == AlarmVerdict::Quiet {
        Ok(())
    } else {
        Err(Failure::Refused(verdict))
    }
}

/// Parks the generations that served before this rollout (`keep_previous_for`). The rollout
/// has passed, so a generation that cannot be parked is not a failure: it stays tagged
/// serving, and Terraform's delete of the deposed object deletes it instead.
async fn park_serving(clients: &AwsClients, spec: &FleetSpec, found: &Inventory) {
    for g in found.generations.iter().filter(|g| g.rollout.is_serving()) {
        if let Err(e) = park(clients, &spec.name, &g.name, spec.rollout.keep_previous_for).await {
            tracing::warn!(
                fleet = %spec.name,
                asg = %g.name,
                "{}: parking {} failed ({e}); it is deleted instead",
                spec.name,
                g.name
            );
        }
    }
}

/// Deletes a new generation that failed. It must finish even after Stop (it is the
/// rollback): a fresh token, bounded by the delete's own wait.
async fn remove_new(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    template_id: &str,
) -> Result<(), WaitError> {
    let hooks = Hooks::of(spec.group.has_terminating_hook());
    let stop = CancellationToken::new();
    delete_generation(clients, name, Some(template_id), hooks, &stop).await
}

/// Gives the generations an interrupted rollout left scaled down their size back.
async fn restore_shrunk(
    clients: &AwsClients,
    spec: &FleetSpec,
    found: &Inventory,
) -> Result<(), Failure> {
    for g in &found.generations {
        if let Rollout::Shrunk(full) = g.rollout {
            canary::restore(clients, spec, &g.name, full)
                .await
                .map_err(|e| {
                    Failure::Conflict(format!(
                        "{} was left scaled down by an interrupted rollout, and scaling it \
                         back to {} instance(s) failed: {e}",
                        g.name, full.desired
                    ))
                })?;
        }
    }
    Ok(())
}

/// Brings back a parked generation built from this configuration (a rollback inside the
/// window): out of its parking, its settings and tags brought up to date, gated at its running
/// capacity, then the generations that served are retired — parked again when the fleet keeps
/// its previous generations, deleted otherwise. Launches nothing when the capacity is the
/// same. A parked generation that fails the gate cannot serve and is deleted.
async fn bring_back(
    clients: &AwsClients,
    spec: &FleetSpec,
    found: &Inventory,
    parked: &Generation,
    stop: &CancellationToken,
) -> Result<Created, Failure> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    tracing::info!(
        fleet = %spec.name,
        asg = %parked.name,
        "{}: rolling back to parked generation {} (built from this configuration)",
        spec.name,
        parked.name
    );
    unpark(clients, &parked.name, &spec.target_group_arns).await?;
    let desired = spec.desired_capacity.unwrap_or(parked.sizes.desired);
    let sizes = Sizes {
        min: Some(spec.min_size),
        max: Some(spec.max_size),
        desired: Some(desired),
    };
    let (name, generation, template_id) = adopt(clients, spec, parked, sizes).await?;
    let gated = Gate::new(clients, spec, &name, desired)
        .started(started, started_at)
        .wait(stop)
        .await;
    if let Err(failure) = gated {
        let rollback = remove_new(clients, spec, &name, &template_id).await;
        return Err(Failure::Gate {
            generation: name,
            step: None,
            failure,
            restored: None,
            rollback,
        });
    }
    // The generations that served retire before this one is tagged serving: a provider
    // killed in between leaves it gating, for the next apply to adopt.
    for g in found.generations.iter().filter(|g| g.rollout.is_serving()) {
        if spec.rollout.keep_previous_for.is_zero() {
            tracing::info!(fleet = %spec.name, "{}: retiring {}", spec.name, g.name);
            let hooks = Hooks::of(spec.group.has_terminating_hook());
            let template = (g.generation > 0)
                .then_some(g.launch_template_id.as_deref())
                .flatten();
            delete_generation(clients, &g.name, template, hooks, &CancellationToken::new()).await?;
        } else {
            park(clients, &spec.name, &g.name, spec.rollout.keep_previous_for).await?;
        }
    }
    set_rollout(clients, &name, Rollout::Serving).await?;
    // Last: the rollback is done, and this may drain target groups for minutes.
    remove_leftovers(clients, found, Some(&name), &CancellationToken::new()).await?;
    Ok(Created {
        asg_name: name,
        generation,
        launch_template_id: template_id,
        desired,
    })
}

/// Takes over a leftover generation built from the same configuration: sets its capacity,
/// health-check settings and tags (none of them is in the fingerprint, and the state
/// returned must be true); the caller gates it like a new one.
async fn adopt(
    clients: &AwsClients,
    spec: &FleetSpec,
    leftover: &Generation,
    sizes: Sizes,
) -> Result<(String, i64, String), Failure> {
    if leftover.rollout == Rollout::Gating {
        tracing::info!(
            fleet = %spec.name,
            "adopting {} left over by an interrupted rollout of the same configuration",
            leftover.name
        );
    }
    let name = leftover.name.as_str();
    group::update_group(clients, name, sizes, Some(spec)).await?;
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
    sizes: Sizes,
) -> Result<(String, i64, String), Failure> {
    let desired = sizes.desired.unwrap_or(spec.min_size);
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
        min: sizes.min.unwrap_or(spec.min_size),
        max: sizes.max.unwrap_or(spec.max_size),
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
    // A generation an interrupted rollout left scaled down gets its size back (the recorded
    // one, where the configuration leaves capacity to the autoscaler).
    let shrunk = match before
        .as_ref()
        .map(|g| Rollout::parse(tag_value(group_tags(g), Rollout::TAG)))
    {
        Some(Rollout::Shrunk(full)) => Some(full),
        _ => None,
    };
    let desired = spec.desired_capacity.or(shrunk.map(|full| full.desired));
    apply_settings(clients, asg_name, spec, desired).await?;
    if shrunk.is_some() {
        set_rollout(clients, asg_name, Rollout::Serving).await?;
    }
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
        let gated = Gate::new(clients, spec, asg_name, desired)
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
