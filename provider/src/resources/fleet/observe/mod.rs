//! Reading a generation back from AWS: for refresh (drift) and for import.
//!
//! Launch template versions are immutable, so a refresh fetches one only when the group's
//! launch template reference is not the one Terraform recorded: an unchanged reference
//! cannot carry changed baked attributes. Group reads go through `aws::GroupReader` (one
//! listing of every fleet group per plan, then batched reads by name), so a plan with many
//! fleets makes about one DescribeAutoScalingGroups call per 100 fleets, not one each.

use std::collections::BTreeMap;

use aws_sdk_autoscaling::types::{
    InstancesDistribution, LaunchTemplateSpecification, MixedInstancesPolicy,
};

mod to_state;

use super::group_settings;
use super::group_spec::{LifecycleHook, ScalingPolicy};
use super::inventory::tag_value;
use super::launch_template::{GENERATION_TEMPLATE_VERSION, TemplateOptions, read_options};
use super::spec::{TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use super::state::{FleetState, MixedInstancesBlock, OverrideBlock};
use crate::aws::error::{absent_is_none, aws_err};
use crate::aws::groups::group_tags;
use crate::aws::templates::template_exists;
use crate::aws::{AwsClients, AwsError};

/// A generation as AWS has it now.
#[derive(Debug, Clone)]
pub struct Observed {
    asg_name: String,
    fleet_tag: Option<String>,
    generation_tag: Option<i64>,
    launch_template_id: Option<String>,
    image_id: Option<String>,
    instance_type: Option<String>,
    /// Security groups, disks, metadata service and the other launch options.
    options: TemplateOptions,
    user_data: Option<String>,
    iam_instance_profile: Option<String>,
    subnet_ids: Vec<String>,
    target_group_arns: Vec<String>,
    min_size: i32,
    max_size: i32,
    desired: i32,
    tags: BTreeMap<String, String>,
    health_check_type: Option<String>,
    grace_period: Option<i32>,
    health_check_tag: Option<String>,
    /// What the group launches from, for import's checks of groups this provider did not
    /// create.
    launch_configuration: Option<String>,
    /// The group's mixed instances policy as state records it.
    mixed: Option<MixedInstancesBlock>,
    /// What of the policy `immutable_fleet` cannot express, said as what to change.
    mixed_unsupported: Option<String>,
    template_version: Option<String>,
    /// The group still uses the template version Terraform recorded: the baked attributes
    /// in state are still true and were not fetched again.
    baked_unchanged: bool,
    max_instance_lifetime: Option<i32>,
    termination_policies: Vec<String>,
    default_instance_warmup: Option<i32>,
    capacity_rebalance: Option<bool>,
    enabled_metrics: Vec<String>,
    /// `None` when they were not read (the state declares none).
    hooks: Option<Vec<LifecycleHook>>,
    policies: Option<Vec<ScalingPolicy>>,
}

/// What a read fetches beyond the group and its template: hooks and policies cost a call
/// per group, so a refresh reads them for fleets that declare some.
#[derive(Debug, Clone, Copy)]
pub struct Reads {
    pub hooks: bool,
    pub policies: bool,
}

impl Reads {
    /// Everything: for import, where nothing is declared yet.
    pub const ALL: Self = Self {
        hooks: true,
        policies: true,
    };

    /// What a refresh of `state` needs.
    pub fn for_state(state: &FleetState) -> Self {
        Self {
            hooks: !state.lifecycle_hook.is_empty(),
            policies: !state.scaling_policy.is_empty(),
        }
    }
}

/// Reads a generation's ASG and, unless the group still points at `recorded_template`
/// (version 1, as created), its launch template version. `None` when the ASG is gone.
pub async fn observe(
    clients: &AwsClients,
    asg_name: &str,
    recorded_template: Option<&str>,
    reads: Reads,
) -> Result<Option<Observed>, AwsError> {
    let Some(asg) = clients.groups.describe(asg_name).await? else {
        return Ok(None);
    };
    let hooks = if reads.hooks {
        Some(group_settings::read_hooks(clients, asg_name).await?)
    } else {
        None
    };
    let policies = if reads.policies {
        Some(group_settings::refresh_policies(clients, asg_name, asg.target_group_arns()).await?)
    } else {
        None
    };
    let spec = asg.launch_template().cloned().or_else(|| {
        asg.mixed_instances_policy()
            .and_then(|p| p.launch_template())
            .and_then(|t| t.launch_template_specification())
            .cloned()
    });
    let mut observed = Observed {
        asg_name: asg_name.to_owned(),
        fleet_tag: tag_value(group_tags(&asg), TAG_FLEET).map(str::to_owned),
        generation_tag: tag_value(group_tags(&asg), TAG_GENERATION).and_then(|g| g.parse().ok()),
        launch_template_id: spec
            .as_ref()
            .and_then(|s| s.launch_template_id())
            .map(str::to_owned),
        image_id: None,
        instance_type: None,
        options: TemplateOptions::default(),
        user_data: None,
        iam_instance_profile: None,
        subnet_ids: asg
            .vpc_zone_identifier()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        target_group_arns: asg.target_group_arns().to_vec(),
        min_size: asg.min_size().unwrap_or(0),
        max_size: asg.max_size().unwrap_or(0),
        desired: asg.desired_capacity().unwrap_or(0),
        tags: group_tags(&asg)
            .filter(|(k, _)| !k.starts_with("immutable:") && !k.starts_with("aws:"))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        health_check_type: asg.health_check_type().map(str::to_owned),
        grace_period: asg.health_check_grace_period(),
        health_check_tag: tag_value(group_tags(&asg), TAG_HEALTH_CHECK).map(str::to_owned),
        launch_configuration: asg.launch_configuration_name().map(str::to_owned),
        mixed: asg.mixed_instances_policy().map(mixed_block),
        mixed_unsupported: asg.mixed_instances_policy().and_then(mixed_unsupported),
        template_version: spec.as_ref().and_then(|s| s.version()).map(str::to_owned),
        baked_unchanged: false,
        max_instance_lifetime: asg.max_instance_lifetime(),
        termination_policies: asg.termination_policies().to_vec(),
        default_instance_warmup: asg.default_instance_warmup(),
        capacity_rebalance: asg.capacity_rebalance(),
        enabled_metrics: group_settings::enabled_metrics(&asg),
        hooks,
        policies,
    };
    if let Some(template) = unchanged_reference(spec.as_ref(), recorded_template) {
        // The version cannot have changed, but the template can be gone (deleted out of
        // band): then the group cannot launch, and reading it as "no image" makes the plan
        // propose the replacement that restores it.
        observed.baked_unchanged = template_exists(clients, template).await?;
        if !observed.baked_unchanged {
            tracing::warn!(
                asg = asg_name,
                "launch template {template} no longer exists"
            );
        }
        return Ok(Some(observed));
    }
    if let Some(spec) = spec {
        read_template_version(clients, &spec, &mut observed).await?;
    }
    Ok(Some(observed))
}

/// Reads the launch template version `spec` names into `observed`. A deleted template reads
/// as "no image": the plan then proposes a replacement that restores the declared one.
async fn read_template_version(
    clients: &AwsClients,
    spec: &LaunchTemplateSpecification,
    observed: &mut Observed,
) -> Result<(), AwsError> {
    let mut request = clients.ec2.describe_launch_template_versions();
    request = match (spec.launch_template_id(), spec.launch_template_name()) {
        (Some(id), _) => request.launch_template_id(id),
        (None, Some(name)) => request.launch_template_name(name),
        (None, None) => return Ok(()),
    };
    let version = spec.version().unwrap_or("$Default");
    let described = request
        .versions(version)
        .send()
        .await
        .map_err(aws_err("DescribeLaunchTemplateVersions"));
    let data = absent_is_none(described)?.and_then(|out| {
        let version = out
            .launch_template_versions
            .unwrap_or_default()
            .into_iter()
            .next()?;
        if observed.launch_template_id.is_none() {
            observed.launch_template_id = version.launch_template_id;
        }
        version.launch_template_data
    });
    if let Some(data) = data {
        observed.image_id = data.image_id().map(str::to_owned);
        observed.instance_type = data.instance_type().map(|t| t.as_str().to_owned());
        observed.options = read_options(&data);
        observed.user_data = data
            .user_data()
            .and_then(|b64| aws_smithy_types::base64::decode(b64).ok())
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        observed.iam_instance_profile = data
            .iam_instance_profile()
            .and_then(|p| p.arn().or(p.name()))
            .map(str::to_owned);
    }
    Ok(())
}

/// The recorded template, when the group still launches from its version 1 as created.
fn unchanged_reference<'a>(
    spec: Option<&LaunchTemplateSpecification>,
    recorded: Option<&'a str>,
) -> Option<&'a str> {
    let recorded = recorded?;
    let spec = spec?;
    (spec.launch_template_id() == Some(recorded)
        && spec.version() == Some(GENERATION_TEMPLATE_VERSION))
    .then_some(recorded)
}

/// A mixed instances policy as state records it; absent values read as AWS's defaults.
fn mixed_block(policy: &MixedInstancesPolicy) -> MixedInstancesBlock {
    let distribution = policy.instances_distribution();
    MixedInstancesBlock {
        overrides: policy
            .launch_template()
            .map(aws_sdk_autoscaling::types::LaunchTemplate::overrides)
            .unwrap_or_default()
            .iter()
            .map(|o| OverrideBlock {
                instance_type: o.instance_type().unwrap_or_default().to_owned(),
                weighted_capacity: o.weighted_capacity().and_then(|w| w.parse().ok()),
            })
            .collect(),
        on_demand_base_capacity: Some(i64::from(
            distribution
                .and_then(InstancesDistribution::on_demand_base_capacity)
                .unwrap_or(0),
        )),
        on_demand_percentage_above_base_capacity: Some(i64::from(
            distribution
                .and_then(InstancesDistribution::on_demand_percentage_above_base_capacity)
                .unwrap_or(100),
        )),
        spot_allocation_strategy: Some(
            distribution
                .and_then(InstancesDistribution::spot_allocation_strategy)
                .unwrap_or("lowest-price")
                .to_owned(),
        ),
        on_demand_allocation_strategy: Some(
            distribution
                .and_then(InstancesDistribution::on_demand_allocation_strategy)
                .unwrap_or("prioritized")
                .to_owned(),
        ),
    }
}

/// What of a mixed instances policy `immutable_fleet` cannot express.
fn mixed_unsupported(policy: &MixedInstancesPolicy) -> Option<String> {
    let overrides = policy
        .launch_template()
        .map(aws_sdk_autoscaling::types::LaunchTemplate::overrides)
        .unwrap_or_default();
    if overrides
        .iter()
        .any(|o| o.instance_requirements().is_some())
    {
        return Some(
            "chooses instance types by attributes (instance requirements); name the types \
             in overrides instead"
                .to_owned(),
        );
    }
    if overrides
        .iter()
        .any(|o| o.launch_template_specification().is_some())
    {
        return Some(
            "gives an override a launch template of its own; immutable_fleet launches every \
             type from the generation's one template"
                .to_owned(),
        );
    }
    if policy
        .instances_distribution()
        .and_then(InstancesDistribution::spot_max_price)
        .is_some_and(|p| !p.is_empty())
    {
        return Some(
            "sets a Spot maximum price; remove it (Spot then costs at most the On-Demand \
             price, as AWS recommends)"
                .to_owned(),
        );
    }
    None
}

impl Observed {
    /// Whether the group carries the fleet tags the provider puts on its generations.
    pub fn is_fleet_generation(&self) -> bool {
        self.fleet_tag.is_some()
    }

    /// The fleet the group is a generation of, by its tag.
    pub fn fleet_name(&self) -> Option<&str> {
        self.fleet_tag.as_deref()
    }

    /// Why this group cannot be imported as a fleet, if it cannot: what it launches from must
    /// be one launch template version that never changes under it.
    pub fn import_problem(&self) -> Option<String> {
        if let Some(configuration) = &self.launch_configuration {
            return Some(format!(
                "launches from launch configuration {configuration:?}. immutable_fleet \
                 launches from a launch template; move the group to a launch template pinned \
                 to a version number first, then import it."
            ));
        }
        if let Some(problem) = &self.mixed_unsupported {
            return Some(format!("has a mixed instances policy that {problem}."));
        }
        let Some(template) = &self.launch_template_id else {
            return Some("has no launch template.".to_owned());
        };
        let version = self.template_version.as_deref().unwrap_or("$Default");
        if !version.bytes().all(|b| b.is_ascii_digit()) {
            return Some(format!(
                "launches from launch template {template} version {version:?}, which moves \
                 whenever a template version is created or made the default, so the image \
                 it runs is not fixed. Pin the group to a version number first (with \
                 aws_autoscaling_group: `version = aws_launch_template.<name>.latest_version`, \
                 then apply), then import it."
            ));
        }
        if let Some(problem) = self.options.unsupported.first() {
            return Some(format!(
                "launches from launch template {template} version {version}, which {problem}."
            ));
        }
        if self.image_id.is_none() || self.instance_type.is_none() {
            return Some(format!(
                "launches from launch template {template} version {version}, which sets no \
                 image ID or no instance type; immutable_fleet needs both in the template."
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests;
