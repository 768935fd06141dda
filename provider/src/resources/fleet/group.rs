//! A generation's Auto Scaling group: creating it, its settings that change in place, and the
//! tags by which the provider finds it again.

use aws_sdk_autoscaling::types::{
    InstancesDistribution, LaunchTemplateOverrides, LaunchTemplateSpecification,
    MixedInstancesPolicy, Tag,
};

use super::group_settings;
use super::group_spec::DEFAULT_TERMINATION_POLICIES;
use super::inventory::Rollout;
use super::launch_spec::MixedInstances;
use super::launch_template::GENERATION_TEMPLATE_VERSION;
use super::spec::{FleetSpec, TAG_FINGERPRINT, TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use crate::aws::error::aws_err;
use crate::aws::groups::{api_seconds, group_tag, propagated_tag, put_tags};
use crate::aws::{AwsClients, AwsError};

/// The name of generation `generation` of `fleet`: its group's and its template's.
pub fn generation_name(fleet: &str, generation: i64) -> String {
    format!("{fleet}-g{generation}")
}

/// Which identity a new group starts with.
pub struct NewGroup<'a> {
    pub name: &'a str,
    pub template_id: &'a str,
    pub generation: i64,
    pub fingerprint: &'a str,
    /// Sizes at creation: the configured bounds, or pinned to a first canary step's capacity.
    pub min: i32,
    pub max: i32,
    pub desired: i32,
}

/// Creates the group of a new generation, tagged `gating` until it passes its gate.
pub async fn create_group(
    clients: &AwsClients,
    spec: &FleetSpec,
    group: &NewGroup<'_>,
) -> Result<(), AwsError> {
    let settings = &spec.group;
    let template = LaunchTemplateSpecification::builder()
        .launch_template_id(group.template_id)
        .version(GENERATION_TEMPLATE_VERSION)
        .build();
    clients
        .autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(group.name)
        .set_launch_template(spec.launch.mixed.is_none().then(|| template.clone()))
        .set_mixed_instances_policy(
            spec.launch
                .mixed
                .as_ref()
                .map(|mixed| mixed_instances_policy(mixed, template.clone())),
        )
        .min_size(group.min)
        .max_size(group.max)
        .desired_capacity(group.desired)
        .vpc_zone_identifier(spec.subnet_ids.join(","))
        .set_target_group_arns(
            (!spec.target_group_arns.is_empty()).then(|| spec.target_group_arns.clone()),
        )
        .health_check_type(&spec.health.kind)
        .health_check_grace_period(api_seconds(spec.health.grace_period))
        .set_max_instance_lifetime(settings.max_instance_lifetime)
        .set_termination_policies(settings.termination_policies.clone())
        .set_default_instance_warmup(settings.default_instance_warmup)
        .set_capacity_rebalance(settings.capacity_rebalance)
        // In the create call, so that the hooks hold the very first instances.
        .set_lifecycle_hook_specification_list((!settings.hooks.is_empty()).then(|| {
            settings
                .hooks
                .iter()
                .map(group_settings::hook_specification)
                .collect()
        }))
        .set_tags(Some(generation_tags(spec, group)))
        .send()
        .await
        .map_err(aws_err("CreateAutoScalingGroup"))?;
    group_settings::after_create(clients, group.name, spec).await
}

/// The group's mixed instances policy: the generation's template, the types that override
/// its instance type, and the Spot/On-Demand mix.
fn mixed_instances_policy(
    mixed: &MixedInstances,
    template: LaunchTemplateSpecification,
) -> MixedInstancesPolicy {
    let overrides = mixed
        .overrides
        .iter()
        .map(|(instance_type, weight)| {
            LaunchTemplateOverrides::builder()
                .instance_type(instance_type)
                .set_weighted_capacity(weight.map(|w| w.to_string()))
                .build()
        })
        .collect();
    MixedInstancesPolicy::builder()
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplate::builder()
                .launch_template_specification(template)
                .set_overrides(Some(overrides))
                .build(),
        )
        .instances_distribution(
            InstancesDistribution::builder()
                .on_demand_base_capacity(mixed.on_demand_base_capacity)
                .on_demand_percentage_above_base_capacity(
                    mixed.on_demand_percentage_above_base_capacity,
                )
                .spot_allocation_strategy(&mixed.spot_allocation_strategy)
                .on_demand_allocation_strategy(&mixed.on_demand_allocation_strategy)
                .build(),
        )
        .build()
}

/// The tags of a new generation's group: the user's (propagated to instances) and the
/// provider's own (the group's only).
fn generation_tags(spec: &FleetSpec, group: &NewGroup<'_>) -> Vec<Tag> {
    let ours = [
        (TAG_FLEET.to_owned(), spec.name.clone()),
        (TAG_GENERATION.to_owned(), group.generation.to_string()),
        (TAG_FINGERPRINT.to_owned(), group.fingerprint.to_owned()),
    ];
    let mut tags: Vec<Tag> = spec
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .chain(ours)
        .map(|(k, v)| propagated_tag(group.name, &k, &v))
        .collect();
    tags.extend(health_tag(spec, group.name));
    tags.push(group_tag(
        group.name,
        Rollout::TAG,
        &Rollout::Gating.tag_value(),
    ));
    tags
}

/// Gate settings live only in state and in this tag (not propagated to instances).
pub fn health_tag(spec: &FleetSpec, group: &str) -> Option<Tag> {
    spec.health_tag
        .as_ref()
        .map(|value| group_tag(group, TAG_HEALTH_CHECK, value))
}

/// Sizes to set on a group; `None` leaves a size as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sizes {
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub desired: Option<i32>,
}

/// The one UpdateAutoScalingGroup of the fleet: sizes, and with `spec` the group settings
/// that change in place. A setting the configuration no longer sets goes back to AWS's
/// default (AWS keeps a value until told otherwise).
pub async fn update_group(
    clients: &AwsClients,
    group: &str,
    sizes: Sizes,
    spec: Option<&FleetSpec>,
) -> Result<(), AwsError> {
    let mut update = clients
        .autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(group)
        .set_min_size(sizes.min)
        .set_max_size(sizes.max)
        .set_desired_capacity(sizes.desired);
    if let Some(spec) = spec {
        let settings = &spec.group;
        let default_policies = DEFAULT_TERMINATION_POLICIES.map(str::to_owned).to_vec();
        update = update
            .health_check_type(&spec.health.kind)
            .health_check_grace_period(api_seconds(spec.health.grace_period))
            // 0: no limit.
            .max_instance_lifetime(settings.max_instance_lifetime.unwrap_or(0))
            .set_termination_policies(Some(
                settings
                    .termination_policies
                    .clone()
                    .unwrap_or(default_policies),
            ))
            // -1 removes a warm-up set before.
            .default_instance_warmup(settings.default_instance_warmup.unwrap_or(-1))
            .capacity_rebalance(settings.capacity_rebalance.unwrap_or(false));
    }
    update
        .send()
        .await
        .map_err(aws_err("UpdateAutoScalingGroup"))?;
    Ok(())
}

/// Applies `spec`'s sizes (with `desired`, `None`: left to AWS and the autoscaler) and its
/// in-place settings to `group`.
pub async fn apply_settings(
    clients: &AwsClients,
    group: &str,
    spec: &FleetSpec,
    desired: Option<i32>,
) -> Result<(), AwsError> {
    let sizes = Sizes {
        min: Some(spec.min_size),
        max: Some(spec.max_size),
        desired,
    };
    update_group(clients, group, sizes, Some(spec)).await
}

/// Records where a generation stands in its `immutable:state` tag.
pub async fn set_rollout(
    clients: &AwsClients,
    group: &str,
    rollout: Rollout,
) -> Result<(), AwsError> {
    put_tags(
        clients,
        vec![group_tag(group, Rollout::TAG, &rollout.tag_value())],
    )
    .await
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
            group_tag(group, Rollout::TAG, &Rollout::Serving.tag_value()),
        ],
    )
    .await
}

/// Puts the fleet's (new) name on a generation's group, for a rename.
pub async fn retag_fleet(clients: &AwsClients, group: &str, fleet: &str) -> Result<(), AwsError> {
    put_tags(clients, vec![group_tag(group, TAG_FLEET, fleet)]).await
}
