//! The fleet's AWS operations: create a generation, observe one, change capacity and tags in
//! place, delete one. Every wait honours Stop and is bounded.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, Filter as AsgFilter, LaunchTemplateSpecification, Tag as AsgTag,
};
use aws_sdk_ec2::types::{
    Filter as Ec2Filter, InstanceStateName, InstanceType,
    LaunchTemplateIamInstanceProfileSpecificationRequest, RequestLaunchTemplateData, ResourceType,
    Tag as Ec2Tag, TagSpecification,
};
use tfplugin_cty::Value;
use tokio_util::sync::CancellationToken;

use super::gate::{self, GateFailure};
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
    /// A scale-out did not pass the gate; capacity stays as AWS has it.
    ScaleOutGate(GateFailure),
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Self::Aws(e)
    }
}

impl Failure {
    pub fn summary(&self, fleet: &str) -> String {
        match self {
            Self::Aws(_) => format!("Fleet {fleet}: AWS request failed"),
            Self::Conflict(_) => format!("Fleet {fleet}: name conflict"),
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
            Self::ScaleOutGate(_) => format!("Fleet {fleet}: scale-out failed its health gate"),
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Self::Aws(e) => e.to_string(),
            Self::Conflict(text) => text.clone(),
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
            Self::ScaleOutGate(failure) => format!(
                "{failure}\n\nThe Auto Scaling group keeps the new capacity; the next plan \
                 shows the difference."
            ),
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
        state
    }
}

/// Where a generation stands, recorded in its `immutable:state` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rollout {
    /// Created, gate not yet passed. Seen by a later apply, it is a leftover of an
    /// interrupted rollout (provider killed, machine lost): Terraform never recorded it.
    Gating,
    /// Passed its gate; Terraform holds it in state (current or deposed).
    Serving,
}

impl Rollout {
    const TAG: &'static str = "immutable:state";

    fn as_str(self) -> &'static str {
        match self {
            Self::Gating => "gating",
            Self::Serving => "serving",
        }
    }

    fn parse(value: Option<&str>) -> Self {
        // Untagged groups (imported, or made before this tag existed) are treated as serving:
        // never delete what might be in use.
        if value == Some("gating") {
            Self::Gating
        } else {
            Self::Serving
        }
    }
}

/// An existing generation of a fleet, found by its tags.
#[derive(Debug, Clone)]
#[allow(
    clippy::struct_field_names,
    reason = "`generation.generation` is the generation number"
)]
struct Generation {
    name: String,
    generation: i64,
    desired: i32,
    fingerprint: Option<String>,
    rollout: Rollout,
    launch_template_id: Option<String>,
    /// Keys of the user's tags on the group (not the provider's, not AWS's), plus the
    /// health-check tag: what an adoption may have to remove.
    user_tag_keys: Vec<String>,
}

/// All that exists of a fleet in AWS.
#[derive(Debug, Default)]
struct Inventory {
    /// Generations with an ASG, oldest first.
    generations: Vec<Generation>,
    /// Launch templates whose generation has no ASG: leftovers of a create that died between
    /// the two calls, or of a group deleted by hand.
    orphan_templates: Vec<String>,
    newest: i64,
}

pub(super) fn tag_value<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    key: &str,
) -> Option<&'a str> {
    tags.into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

pub(super) fn asg_tags(asg: &AutoScalingGroup) -> impl Iterator<Item = (&str, &str)> {
    asg.tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))))
}

/// Finds every generation of `fleet` by its tags: ASGs and launch templates.
async fn inventory(clients: &AwsClients, fleet: &str) -> Result<Inventory, AwsError> {
    let groups: Vec<AutoScalingGroup> = clients
        .autoscaling
        .describe_auto_scaling_groups()
        .filters(
            AsgFilter::builder()
                .name(format!("tag:{TAG_FLEET}"))
                .values(fleet)
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws_err("DescribeAutoScalingGroups"))?;
    let mut found = Inventory::default();
    for asg in &groups {
        let Some(generation) =
            tag_value(asg_tags(asg), TAG_GENERATION).and_then(|g| g.parse().ok())
        else {
            continue;
        };
        if asg.status().is_some_and(|s| s.starts_with("Delete")) {
            found.newest = found.newest.max(generation);
            continue;
        }
        found.newest = found.newest.max(generation);
        found.generations.push(Generation {
            name: asg.auto_scaling_group_name().unwrap_or_default().to_owned(),
            generation,
            desired: asg.desired_capacity().unwrap_or(0),
            fingerprint: tag_value(asg_tags(asg), TAG_FINGERPRINT).map(str::to_owned),
            rollout: Rollout::parse(tag_value(asg_tags(asg), Rollout::TAG)),
            launch_template_id: asg
                .launch_template()
                .and_then(|t| t.launch_template_id())
                .map(str::to_owned),
            user_tag_keys: asg_tags(asg)
                .map(|(k, _)| k)
                .filter(|k| {
                    *k == TAG_HEALTH_CHECK
                        || !(k.starts_with("immutable:") || k.starts_with("aws:"))
                })
                .map(str::to_owned)
                .collect(),
        });
    }
    found.generations.sort_by_key(|g| g.generation);
    let templates = clients
        .ec2
        .describe_launch_templates()
        .filters(
            Ec2Filter::builder()
                .name(format!("tag:{TAG_FLEET}"))
                .values(fleet)
                .build(),
        )
        .send()
        .await
        .map_err(aws_err("DescribeLaunchTemplates"))?;
    for lt in templates.launch_templates() {
        let tags = lt
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value().unwrap_or(""))));
        let Some(generation) = tag_value(tags, TAG_GENERATION).and_then(|g| g.parse::<i64>().ok())
        else {
            continue;
        };
        found.newest = found.newest.max(generation);
        let id = lt.launch_template_id().unwrap_or_default();
        let used = found
            .generations
            .iter()
            .any(|g| g.generation == generation || g.launch_template_id.as_deref() == Some(id));
        if !used && !id.is_empty() {
            found.orphan_templates.push(id.to_owned());
        }
    }
    Ok(found)
}

fn generation_name(fleet: &str, generation: i64) -> String {
    format!("{fleet}-g{generation}")
}

/// Removes what interrupted rollouts left behind, except `keep` (a leftover being adopted).
async fn remove_leftovers(
    clients: &AwsClients,
    found: &Inventory,
    keep: Option<&str>,
) -> Result<(), AwsError> {
    for g in &found.generations {
        if g.rollout == Rollout::Gating && Some(g.name.as_str()) != keep {
            tracing::warn!(asg = %g.name, "removing generation {} left over by an interrupted rollout", g.generation);
            delete_generation(
                clients,
                &g.name,
                g.launch_template_id.as_deref(),
                &CancellationToken::new(),
            )
            .await?;
        }
    }
    for id in &found.orphan_templates {
        tracing::warn!(launch_template = %id, "removing launch template left over by an interrupted rollout");
        delete_launch_template(clients, id).await?;
    }
    Ok(())
}

/// Removes what interrupted rollouts of `fleet` left behind (generations that never passed
/// their gate, launch templates without a group). Run after a delete, so a fleet destroyed
/// after a crashed rollout leaves nothing in AWS either.
pub async fn remove_fleet_leftovers(clients: &AwsClients, fleet: &str) -> Result<(), AwsError> {
    let found = inventory(clients, fleet).await?;
    remove_leftovers(clients, &found, None).await
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
    let found = inventory(clients, &spec.name).await?;
    let fingerprint = spec.fingerprint();
    let adoptable = found.generations.iter().rev().find(|g| {
        g.rollout == Rollout::Gating
            && g.fingerprint.as_deref() == Some(fingerprint.as_str())
            && g.launch_template_id.is_some()
    });
    remove_leftovers(clients, &found, adoptable.map(|g| g.name.as_str())).await?;
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
    let template_id = create_launch_template(clients, spec, &name, generation, fingerprint).await?;
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
        .ok_or_else(|| AwsError {
            operation: "CreateLaunchTemplate",
            code: "IncompleteResponse".into(),
            message: "the response carried no launch template ID".into(),
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
    let before = prior.int("desired_capacity").unwrap_or(0);
    if i64::from(desired) > before {
        gate::Gate::new(
            clients,
            &spec.name,
            asg_name,
            desired,
            &spec.health,
            &spec.target_group_arns,
        )
        .started(started, started_at)
        .wait(stop)
        .await
        .map_err(Failure::ScaleOutGate)?;
    }
    Ok(desired)
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
    loop {
        if done().await? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(AwsError {
                operation: "Wait",
                code: "Timeout".into(),
                message: format!(
                    "gave up waiting for {subject}: {what} after {}s",
                    started.elapsed().as_secs()
                ),
            });
        }
        tracing::info!(
            "{subject}: waiting for {what} ({}s)",
            started.elapsed().as_secs()
        );
        tokio::select! {
            () = stop.cancelled() => {
                return Err(AwsError {
                    operation: "Wait",
                    code: "Stopped".into(),
                    message: format!("interrupted while waiting for {subject}: {what}"),
                });
            }
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}
