//! The fleet's AWS operations: create a generation, observe one, change capacity and tags in
//! place, delete one. Every wait honours Stop and is bounded.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{AutoScalingGroup, LaunchTemplateSpecification, Tag as AsgTag};
use aws_sdk_ec2::types::{
    InstanceStateName, InstanceType, LaunchTemplateIamInstanceProfileSpecificationRequest,
    RequestLaunchTemplateData, ResourceType, Tag as Ec2Tag, TagSpecification,
};
use tfplugin_cty::Value;
use tokio_util::sync::CancellationToken;

use super::gate::{self, GateFailure};
use super::inventory::{Generation, Inventory, Rollout, inventory};
use super::model::{FleetSpec, TAG_FINGERPRINT, TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use crate::aws::error::aws_err;
use crate::aws::{AwsClients, AwsError};
use crate::framework::value::{ObjectExt, int, set_attr};

/// How long deletes wait for AWS to finish before giving up (Terraform can retry them).
const DELETE_WAIT: Duration = Duration::from_mins(15);

/// Longest wait for target deregistration (the default deregistration delay is 300 s).
const DRAIN_WAIT: Duration = Duration::from_mins(6);

/// Why a create or update did not complete.
#[derive(Debug)]
pub enum Failure {
    Aws(AwsError),
    Conflict(String),
    /// The new generation failed its gate and was removed again (or removal failed too).
    Gate {
        /// The generation's ASG name, e.g. `web-g4`.
        generation: String,
        failure: GateFailure,
        rollback: Result<(), AwsError>,
    },
    /// Terraform asked to stop before the new generation was launched: nothing was made.
    Stopped,
    /// A scale-out did not pass the gate and was undone (or undoing it failed too).
    ScaleOutGate {
        failure: GateFailure,
        undo: Result<ScaleOutUndone, AwsError>,
    },
}

/// What undoing a failed scale-out did.
#[derive(Debug)]
pub struct ScaleOutUndone {
    pub desired: i32,
    pub terminated: Vec<String>,
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Self::Aws(e)
    }
}

impl Failure {
    /// Whether AWS holds nothing of the failed operation (so its name is free again).
    pub fn left_nothing(&self) -> bool {
        match self {
            Self::Conflict(_) | Self::Stopped => true,
            Self::Gate { rollback, .. } => rollback.is_ok(),
            Self::Aws(_) | Self::ScaleOutGate { .. } => false,
        }
    }

    pub fn summary(&self, fleet: &str) -> String {
        match self {
            Self::Aws(_) => format!("Fleet {fleet}: AWS request failed"),
            Self::Conflict(_) => format!("Fleet {fleet}: name conflict"),
            Self::Stopped => format!("Fleet {fleet}: interrupted before the new generation"),
            Self::Gate {
                generation,
                rollback: Ok(()),
                ..
            } => format!(
                "Fleet {fleet}: new generation {generation} failed its health gate and was rolled back"
            ),
            Self::Gate {
                generation,
                rollback: Err(_),
                ..
            } => format!(
                "Fleet {fleet}: new generation {generation} failed its health gate; rollback incomplete"
            ),
            Self::ScaleOutGate { undo: Ok(_), .. } => {
                format!("Fleet {fleet}: scale-out failed its health gate and was undone")
            }
            Self::ScaleOutGate { undo: Err(_), .. } => {
                format!("Fleet {fleet}: scale-out failed its health gate; undoing it failed")
            }
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Self::Aws(e) => e.to_string(),
            Self::Conflict(text) => text.clone(),
            Self::Stopped => "Terraform was asked to stop before the new generation was \
                              launched; nothing of it was created. The previous generation, if \
                              any, keeps serving."
                .to_owned(),
            Self::Gate {
                failure, rollback, ..
            } => {
                let mut text = failure.to_string();
                match rollback {
                    Ok(()) => text.push_str(
                        "\n\nThe new generation's ASG and launch template were deleted; the \
                         previous generation keeps serving and stays in state. Fix the cause \
                         and apply again.",
                    ),
                    Err(e) => {
                        let _ = write!(
                            text,
                            "\n\nDeleting the new generation failed too ({e}). Its resources \
                             are tagged {TAG_FLEET}; the next apply retries the cleanup."
                        );
                    }
                }
                text
            }
            Self::ScaleOutGate { failure, undo } => {
                let mut text = failure.to_string();
                match undo {
                    Ok(undone) => {
                        let _ = write!(
                            text,
                            "\n\nThe scale-out was undone: desired capacity is back at {}",
                            undone.desired
                        );
                        if undone.terminated.is_empty() {
                            text.push('.');
                        } else {
                            let _ = write!(
                                text,
                                " and the instances it launched were terminated ({}).",
                                undone.terminated.join(", ")
                            );
                        }
                        text.push_str(
                            " State keeps the previous capacity, so the next plan proposes \
                             the scale-out again. Fix the cause and apply again.",
                        );
                    }
                    Err(e) => {
                        let _ = write!(
                            text,
                            "\n\nUndoing the scale-out failed ({e}): the group may still run \
                             the new instances. The next refresh reads its real capacity."
                        );
                    }
                }
                text
            }
        }
    }
}

/// A generation that passed its gate.
pub struct Created {
    pub asg_name: String,
    pub generation: i64,
    pub launch_template_id: String,
    pub desired: i32,
}

impl Created {
    /// The planned state with the values only apply could know.
    pub fn state(&self, planned: &Value) -> Value {
        let mut state = planned.clone();
        set_attr(&mut state, "id", Value::string(&self.asg_name));
        set_attr(
            &mut state,
            "autoscaling_group_name",
            Value::string(&self.asg_name),
        );
        set_attr(&mut state, "generation", int(self.generation));
        set_attr(
            &mut state,
            "launch_template_id",
            Value::string(&self.launch_template_id),
        );
        set_attr(&mut state, "desired_capacity", int(i64::from(self.desired)));
        // A new generation starts clean: create removed every leftover it found.
        set_attr(&mut state, "leftovers", Value::Null);
        state
    }
}

fn generation_name(fleet: &str, generation: i64) -> String {
    format!("{fleet}-g{generation}")
}

/// Removes what interrupted rollouts left behind, except `keep` (a leftover being adopted).
async fn remove_leftovers(
    clients: &AwsClients,
    found: &Inventory,
    keep: Option<&str>,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    for g in &found.generations {
        if g.rollout == Rollout::Gating && Some(g.name.as_str()) != keep {
            tracing::warn!(asg = %g.name, "removing generation {} left over by an interrupted rollout", g.generation);
            delete_generation(clients, &g.name, g.launch_template_id.as_deref(), stop).await?;
        }
    }
    for template in &found.orphan_templates {
        tracing::warn!(launch_template = %template.name, "removing launch template left over by an interrupted rollout");
        delete_launch_template(clients, &template.id).await?;
    }
    Ok(())
}

/// Removes what interrupted rollouts of `fleet` left behind (generations that never passed
/// their gate, launch templates without a group). Run after a delete, so a fleet destroyed
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
) -> Result<(), AwsError> {
    let found = inventory(clients, fleet).await?;
    remove_leftovers(clients, &found, None, &CancellationToken::new()).await?;
    let Some(deleted) = deleted else {
        return Ok(());
    };
    for stray in found
        .generations
        .iter()
        .filter(|g| g.rollout == Rollout::Serving && g.generation < deleted)
    {
        tracing::warn!(asg = %stray.name, "removing older serving generation {} of fleet {fleet}: not held by Terraform", stray.generation);
        // Generation 0 is a group imported from outside: its template may be shared.
        let template = (stray.generation > 0)
            .then_some(stray.launch_template_id.as_deref())
            .flatten();
        delete_generation(clients, &stray.name, template, &CancellationToken::new()).await?;
    }
    Ok(())
}

/// Why two resources must not share a fleet name, and the fix.
pub fn duplicate_name_detail(fleet: &str) -> String {
    format!(
        "Another immutable_fleet in this configuration creates a fleet named {fleet:?} in the \
         same apply. Fleet names must be unique in an account and region: the provider finds a \
         fleet's generations by its name. With count or for_each, include count.index or \
         each.key in the name, e.g. name = \"{fleet}-${{count.index}}\" or \
         name = \"{fleet}-${{each.key}}\"."
    )
}

/// Renames the fleet of the generation in `prior` to `new_name`: its tags only, the group and
/// its instances stay as they are. Refused when `new_name` already has generations.
pub async fn rename(clients: &AwsClients, prior: &Value, new_name: &str) -> Result<(), Failure> {
    let asg_name = prior.string("id").unwrap_or_default();
    let taken = inventory(clients, new_name).await?;
    if let Some(other) = taken.generations.first() {
        return Err(Failure::Conflict(format!(
            "Cannot rename fleet {:?} to {new_name:?}: Auto Scaling group {} (generation {} of \
             fleet {new_name:?}, in {}) already carries that name. Fleet names must be unique \
             in an account and region; choose another name or remove that fleet first.",
            prior.string("name").unwrap_or_default(),
            other.name,
            other.generation,
            clients.region
        )));
    }
    tracing::info!(
        asg = asg_name,
        fleet = new_name,
        "renaming fleet (tags only)"
    );
    put_tags(clients, vec![group_tag(asg_name, TAG_FLEET, new_name)]).await?;
    // An imported group's launch template is the user's and carries no fleet tag.
    if prior.int("generation").is_some_and(|g| g > 0)
        && let Some(template) = prior.string("launch_template_id")
    {
        clients
            .ec2
            .create_tags()
            .resources(template)
            .tags(Ec2Tag::builder().key(TAG_FLEET).value(new_name).build())
            .send()
            .await
            .map_err(aws_err("CreateTags"))?;
    }
    Ok(())
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
            .generations
            .iter()
            .rev()
            .find(|g| g.rollout == Rollout::Serving)
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

    let gate = gate::Gate::new(
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
            // Rollback must finish even after Stop: a fresh token, bounded by DELETE_WAIT.
            let rollback = delete_generation(
                clients,
                &name,
                Some(&template_id),
                &CancellationToken::new(),
            )
            .await;
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
    clients
        .autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .min_size(spec.min_size)
        .max_size(spec.max_size)
        .desired_capacity(desired)
        .health_check_type(&spec.health.kind)
        .health_check_grace_period(seconds(spec.health.grace_period))
        .send()
        .await
        .map_err(aws_err("UpdateAutoScalingGroup"))?;
    let stale: Vec<AsgTag> = leftover
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
    let mut tags: Vec<AsgTag> = spec.tags.iter().map(|(k, v)| asg_tag(name, k, v)).collect();
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
            Err(e) if e.code.contains("AlreadyExists") => {
                return Err(Failure::Conflict(format!(
                    "Launch template {name} already exists: {}",
                    duplicate_name_detail(&spec.name)
                )));
            }
            Err(e) => return Err(e.into()),
        };
    if let Err(e) = create_group(
        clients,
        spec,
        &name,
        &template_id,
        generation,
        fingerprint,
        desired,
    )
    .await
    {
        let _ = delete_launch_template(clients, &template_id).await;
        return Err(e.into());
    }
    Ok((name, generation, template_id))
}

/// Marks an imported generation as serving: Terraform holds it from now on, so a later
/// rollout must never take it for a crashed rollout's leftover and delete it.
pub async fn mark_serving(clients: &AwsClients, group: &str) -> Result<(), AwsError> {
    set_rollout(clients, group, Rollout::Serving).await
}

/// Takes over a group this provider did not create (migration): tags it as serving generation
/// 0 of the fleet named like the group, so the first rollout finds it as the predecessor (and
/// starts at its live capacity) and names the new generation `<group>-g1`. Its launch template
/// stays untagged: it is the user's, and is never deleted.
pub async fn adopt_foreign_group(clients: &AwsClients, group: &str) -> Result<(), AwsError> {
    put_tags(
        clients,
        vec![
            group_tag(group, TAG_FLEET, group),
            group_tag(group, TAG_GENERATION, "0"),
            group_tag(group, Rollout::TAG, Rollout::Serving.as_str()),
        ],
    )
    .await
}

async fn set_rollout(clients: &AwsClients, group: &str, rollout: Rollout) -> Result<(), AwsError> {
    put_tags(
        clients,
        vec![group_tag(group, Rollout::TAG, rollout.as_str())],
    )
    .await
}

async fn create_launch_template(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    generation: i64,
    fingerprint: &str,
) -> Result<String, AwsError> {
    let mut data = RequestLaunchTemplateData::builder()
        .image_id(&spec.image_id)
        .instance_type(InstanceType::from(spec.instance_type.as_str()));
    if !spec.security_group_ids.is_empty() {
        data = data.set_security_group_ids(Some(spec.security_group_ids.clone()));
    }
    if let Some(user_data) = &spec.user_data {
        data = data.user_data(aws_smithy_types::base64::encode(user_data));
    }
    if let Some(profile) = &spec.iam_instance_profile {
        let p = LaunchTemplateIamInstanceProfileSpecificationRequest::builder();
        let p = if profile.starts_with("arn:") {
            p.arn(profile)
        } else {
            p.name(profile)
        };
        data = data.iam_instance_profile(p.build());
    }
    let tags = [
        (TAG_FLEET, spec.name.as_str()),
        (TAG_GENERATION, &generation.to_string()),
        (TAG_FINGERPRINT, fingerprint),
    ]
    .into_iter()
    .map(|(k, v)| Ec2Tag::builder().key(k).value(v).build())
    .collect();
    let out = clients
        .ec2
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(data.build())
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::LaunchTemplate)
                .set_tags(Some(tags))
                .build(),
        )
        .send()
        .await
        .map_err(aws_err("CreateLaunchTemplate"))?;
    out.launch_template()
        .and_then(|lt| lt.launch_template_id())
        .map(str::to_owned)
        .ok_or_else(|| {
            AwsError::other(
                "CreateLaunchTemplate",
                "IncompleteResponse",
                "the response carried no launch template ID",
            )
        })
}

fn group_tags(spec: &FleetSpec, name: &str, generation: i64, fingerprint: &str) -> Vec<AsgTag> {
    let ours = [
        (TAG_FLEET.to_owned(), spec.name.clone()),
        (TAG_GENERATION.to_owned(), generation.to_string()),
        (TAG_FINGERPRINT.to_owned(), fingerprint.to_owned()),
    ];
    let mut tags: Vec<AsgTag> = spec
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(ours)
        .map(|(k, v)| asg_tag(name, &k, &v))
        .collect();
    tags.extend(health_tag(spec, name));
    tags.push(group_tag(name, Rollout::TAG, Rollout::Gating.as_str()));
    tags
}

/// Gate settings live only in state and in this tag (not propagated to instances).
fn health_tag(spec: &FleetSpec, group: &str) -> Option<AsgTag> {
    spec.health_tag
        .as_ref()
        .map(|value| group_tag(group, TAG_HEALTH_CHECK, value))
}

/// A tag reference by key alone, for deletion.
fn tag_key(group: &str, key: &str) -> AsgTag {
    tag_builder(group, key).build()
}

fn tag_builder(group: &str, key: &str) -> aws_sdk_autoscaling::types::builders::TagBuilder {
    AsgTag::builder()
        .resource_id(group)
        .resource_type("auto-scaling-group")
        .key(key)
}

/// A tag of the group and of the instances it launches.
fn asg_tag(group: &str, key: &str, value: &str) -> AsgTag {
    tag_builder(group, key)
        .value(value)
        .propagate_at_launch(true)
        .build()
}

/// A tag of the group only (the provider's bookkeeping).
fn group_tag(group: &str, key: &str, value: &str) -> AsgTag {
    tag_builder(group, key)
        .value(value)
        .propagate_at_launch(false)
        .build()
}

async fn put_tags(clients: &AwsClients, tags: Vec<AsgTag>) -> Result<(), AwsError> {
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

async fn delete_tags(clients: &AwsClients, tags: Vec<AsgTag>) -> Result<(), AwsError> {
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

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

#[allow(clippy::too_many_arguments)]
async fn create_group(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    template_id: &str,
    generation: i64,
    fingerprint: &str,
    desired: i32,
) -> Result<(), AwsError> {
    clients
        .autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_template(
            // A numbered version: `$Latest` would let a later template version change
            // running fleets behind Terraform's back.
            LaunchTemplateSpecification::builder()
                .launch_template_id(template_id)
                .version("1")
                .build(),
        )
        .min_size(spec.min_size)
        .max_size(spec.max_size)
        .desired_capacity(desired)
        .vpc_zone_identifier(spec.subnet_ids.join(","))
        .set_target_group_arns(
            (!spec.target_group_arns.is_empty()).then(|| spec.target_group_arns.clone()),
        )
        .health_check_type(&spec.health.kind)
        .health_check_grace_period(seconds(spec.health.grace_period))
        .set_tags(Some(group_tags(spec, name, generation, fingerprint)))
        .send()
        .await
        .map_err(aws_err("CreateAutoScalingGroup"))?;
    Ok(())
}

pub(super) async fn describe_group(
    clients: &AwsClients,
    name: &str,
) -> Result<Option<AutoScalingGroup>, AwsError> {
    let out = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(name)
        .send()
        .await
        .map_err(aws_err("DescribeAutoScalingGroups"))?;
    Ok(out
        .auto_scaling_groups()
        .iter()
        .find(|g| {
            g.auto_scaling_group_name() == Some(name)
                && g.status().is_none_or(|s| !s.starts_with("Delete"))
        })
        .cloned())
}

/// Applies capacity, tags and health-check settings in place. Returns the group's desired
/// capacity afterwards. A scale-out is held to the health gate.
pub async fn update_in_place(
    clients: &AwsClients,
    asg_name: &str,
    prior: &Value,
    spec: &FleetSpec,
    stop: &CancellationToken,
) -> Result<i32, Failure> {
    let started = Instant::now();
    let started_at = SystemTime::now();
    // What a failed scale-out goes back to: the sizes before, and the instances that were
    // already running (the ones it may terminate are the others).
    let before = describe_group(clients, asg_name).await?;
    clients
        .autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(asg_name)
        .min_size(spec.min_size)
        .max_size(spec.max_size)
        .set_desired_capacity(spec.desired_capacity)
        .health_check_type(&spec.health.kind)
        .health_check_grace_period(seconds(spec.health.grace_period))
        .send()
        .await
        .map_err(aws_err("UpdateAutoScalingGroup"))?;

    let old_tags = prior.string_map("tags").unwrap_or_default();
    // A `health_check` block removed from the configuration: drop its record too, or an
    // import would restore the old settings.
    let health_tag_removed = (spec.health_tag.is_none() && !prior.attr("health_check").is_null())
        .then_some(TAG_HEALTH_CHECK);
    let removed: Vec<AsgTag> = old_tags
        .keys()
        .map(String::as_str)
        .filter(|k| !spec.tags.contains_key(*k))
        .chain(health_tag_removed)
        .map(|k| tag_key(asg_name, k))
        .collect();
    delete_tags(clients, removed).await?;
    let mut changed: Vec<AsgTag> = spec
        .tags
        .iter()
        .filter(|(k, v)| old_tags.get(*k) != Some(*v))
        .map(|(k, v)| asg_tag(asg_name, k, v))
        .collect();
    changed.extend(health_tag(spec, asg_name));
    put_tags(clients, changed).await?;

    let desired = describe_group(clients, asg_name)
        .await?
        .and_then(|g| g.desired_capacity())
        .unwrap_or(spec.min_size);
    let desired_before = prior.int("desired_capacity").unwrap_or(0);
    if i64::from(desired) > desired_before {
        let gated = gate::Gate::new(
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
    clients
        .autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(asg_name)
        .min_size(min)
        .send()
        .await
        .map_err(aws_err("UpdateAutoScalingGroup"))?;
    let now = describe_group(clients, asg_name).await?;
    let launched: Vec<String> = now
        .iter()
        .flat_map(AutoScalingGroup::instances)
        .filter_map(|i| i.instance_id())
        .filter(|id| !running_before.contains(id))
        .map(str::to_owned)
        .collect();
    for id in &launched {
        if let Err(e) = clients
            .autoscaling
            .terminate_instance_in_auto_scaling_group()
            .instance_id(id)
            .should_decrement_desired_capacity(true)
            .send()
            .await
        {
            let e = AwsError::new("TerminateInstanceInAutoScalingGroup", &e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
    }
    clients
        .autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(asg_name)
        .min_size(min)
        .max_size(max)
        .desired_capacity(desired)
        .send()
        .await
        .map_err(aws_err("UpdateAutoScalingGroup"))?;
    Ok(ScaleOutUndone {
        desired,
        terminated: launched,
    })
}

/// Deletes a generation: detach from target groups, delete the ASG and wait until it and
/// its instances are gone, then delete the launch template. Missing pieces are success.
pub async fn delete_generation(
    clients: &AwsClients,
    asg_name: &str,
    template_id: Option<&str>,
    stop: &CancellationToken,
) -> Result<(), AwsError> {
    let group_template = delete_group(clients, asg_name, stop).await?;
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
    stop: &CancellationToken,
) -> Result<Option<String>, AwsError> {
    let deadline = Instant::now() + DELETE_WAIT;
    let mut template_id = None;
    if let Some(asg) = describe_group(clients, asg_name).await? {
        let instance_ids: Vec<String> = asg
            .instances()
            .iter()
            .filter_map(|i| i.instance_id().map(str::to_owned))
            .collect();
        template_id = asg
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .map(str::to_owned);
        let target_groups = asg.target_group_arns().to_vec();
        if !target_groups.is_empty() {
            tracing::info!(asg = asg_name, "detaching from target groups before delete");
            // AWS accepts at most 10 target groups per call.
            for chunk in target_groups.chunks(10) {
                clients
                    .autoscaling
                    .detach_load_balancer_target_groups()
                    .auto_scaling_group_name(asg_name)
                    .set_target_group_arns(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(aws_err("DetachLoadBalancerTargetGroups"))?;
            }
            // Let in-flight requests finish before instances go away; bounded, because a
            // stuck drain must not block a delete forever.
            let drain_deadline = deadline.min(Instant::now() + DRAIN_WAIT);
            let drained = wait_until(
                drain_deadline,
                stop,
                asg_name,
                "targets to deregister",
                || deregistered(clients, &target_groups, &instance_ids),
            )
            .await;
            if let Err(e) = drained {
                if e.code == "Stopped" {
                    return Err(e);
                }
                tracing::warn!(
                    asg = asg_name,
                    "deregistration did not finish in time ({e}); deleting anyway"
                );
            }
        }
        tracing::info!(
            asg = asg_name,
            instances = instance_ids.len(),
            "deleting Auto Scaling group"
        );
        if let Err(e) = clients
            .autoscaling
            .delete_auto_scaling_group()
            .auto_scaling_group_name(asg_name)
            .force_delete(true)
            .send()
            .await
        {
            let e = AwsError::new("DeleteAutoScalingGroup", &e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
        wait_until(
            deadline,
            stop,
            asg_name,
            "Auto Scaling group to disappear",
            || async { Ok(describe_group(clients, asg_name).await?.is_none()) },
        )
        .await?;
        if !instance_ids.is_empty() {
            wait_until(deadline, stop, asg_name, "instances to terminate", || {
                instances_terminated(clients, &instance_ids)
            })
            .await?;
        }
    }
    Ok(template_id)
}

/// True when none of `instances` is still registered (or draining) in any target group.
async fn deregistered(
    clients: &AwsClients,
    target_groups: &[String],
    instances: &[String],
) -> Result<bool, AwsError> {
    for arn in target_groups {
        let out = match clients
            .elbv2
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = AwsError::new("DescribeTargetHealth", &e);
                if e.is_not_found() {
                    continue;
                }
                return Err(e);
            }
        };
        let still_there = out.target_health_descriptions().iter().any(|d| {
            let id = d.target().and_then(|t| t.id()).unwrap_or_default();
            let state = d.target_health().and_then(|h| h.state());
            instances.iter().any(|i| i == id)
                && state
                    != Some(&aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum::Unused)
        });
        if still_there {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn instances_terminated(clients: &AwsClients, ids: &[String]) -> Result<bool, AwsError> {
    let out = match clients
        .ec2
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = AwsError::new("DescribeInstances", &e);
            return if e.is_not_found() { Ok(true) } else { Err(e) };
        }
    };
    Ok(out
        .reservations()
        .iter()
        .flat_map(aws_sdk_ec2::types::Reservation::instances)
        .all(|i| i.state().and_then(|s| s.name()) == Some(&InstanceStateName::Terminated)))
}

async fn delete_launch_template(clients: &AwsClients, id: &str) -> Result<(), AwsError> {
    // Look first: deleting a missing template is not reliably "NotFound" everywhere.
    let exists = match clients
        .ec2
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
    {
        Ok(out) => !out.launch_templates().is_empty(),
        Err(e) => {
            let e = AwsError::new("DescribeLaunchTemplates", &e);
            if e.is_not_found() {
                false
            } else {
                return Err(e);
            }
        }
    };
    if exists {
        tracing::info!(launch_template = id, "deleting launch template");
        if let Err(e) = clients
            .ec2
            .delete_launch_template()
            .launch_template_id(id)
            .send()
            .await
        {
            let e = AwsError::new("DeleteLaunchTemplate", &e);
            if !e.is_not_found() {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Polls `done` with backoff until it is true, the deadline passes, or Stop is requested.
async fn wait_until<F, Fut>(
    deadline: Instant,
    stop: &CancellationToken,
    subject: &str,
    what: &str,
    mut done: F,
) -> Result<(), AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, AwsError>>,
{
    let mut backoff = gate::Backoff::new();
    let started = Instant::now();
    let stopped = || {
        AwsError::other(
            "Wait",
            "Stopped",
            format!("interrupted while waiting for {subject}: {what}"),
        )
    };
    loop {
        // Stop abandons a poll in flight too, not only the sleep between polls: a call to an
        // endpoint that does not answer must not hold Ctrl-C up until its timeout.
        let polled = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(stopped()),
            polled = done() => polled,
        };
        if polled? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(AwsError::other(
                "Wait",
                "Timeout",
                format!(
                    "gave up waiting for {subject}: {what} after {}s",
                    started.elapsed().as_secs()
                ),
            ));
        }
        tracing::info!(
            "{subject}: waiting for {what} ({}s)",
            started.elapsed().as_secs()
        );
        tokio::select! {
            () = stop.cancelled() => return Err(stopped()),
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}
