//! Reading a generation back from AWS: for refresh (drift) and for import.
//!
//! Launch template versions are immutable, so a refresh fetches one only when the group's
//! launch template reference is not the one Terraform recorded: an unchanged reference
//! cannot carry changed baked attributes. Group reads go through `aws::GroupReader` (one
//! listing of every fleet group per plan, then batched reads by name), so a plan with many
//! fleets makes about one DescribeAutoScalingGroups call per 100 fleets, not one each.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_autoscaling::types::LaunchTemplateSpecification;

use super::inventory::tag_value;
use super::launch_template::GENERATION_TEMPLATE_VERSION;
use super::spec::{HealthCheck, TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use super::state::{FleetState, HealthCheckBlock};
use crate::aws::error::{absent_is_none, aws_err};
use crate::aws::groups::group_tags;
use crate::aws::templates::template_exists;
use crate::aws::{AwsClients, AwsError};
use crate::framework::duration;

/// A generation as AWS has it now.
#[derive(Debug, Clone)]
pub struct Observed {
    asg_name: String,
    fleet_tag: Option<String>,
    generation_tag: Option<i64>,
    launch_template_id: Option<String>,
    image_id: Option<String>,
    instance_type: Option<String>,
    security_group_ids: Vec<String>,
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
    mixed_instances: bool,
    template_version: Option<String>,
    /// The group still uses the template version Terraform recorded: the baked attributes
    /// in state are still true and were not fetched again.
    baked_unchanged: bool,
}

/// Reads a generation's ASG and, unless the group still points at `recorded_template`
/// (version 1, as created), its launch template version. `None` when the ASG is gone.
pub async fn observe(
    clients: &AwsClients,
    asg_name: &str,
    recorded_template: Option<&str>,
) -> Result<Option<Observed>, AwsError> {
    let Some(asg) = clients.groups.describe(asg_name).await? else {
        return Ok(None);
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
        security_group_ids: Vec::new(),
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
        mixed_instances: asg.mixed_instances_policy().is_some(),
        template_version: spec.as_ref().and_then(|s| s.version()).map(str::to_owned),
        baked_unchanged: false,
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
        let mut request = clients.ec2.describe_launch_template_versions();
        request = match (spec.launch_template_id(), spec.launch_template_name()) {
            (Some(id), _) => request.launch_template_id(id),
            (None, Some(name)) => request.launch_template_name(name),
            (None, None) => return Ok(Some(observed)),
        };
        let version = spec.version().unwrap_or("$Default");
        let described = request
            .versions(version)
            .send()
            .await
            .map_err(aws_err("DescribeLaunchTemplateVersions"));
        // A deleted template reads as "no image": the plan then proposes a replacement that
        // restores the declared one.
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
            observed.security_group_ids = data.security_group_ids().to_vec();
            observed.user_data = data
                .user_data()
                .and_then(|b64| aws_smithy_types::base64::decode(b64).ok())
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
            observed.iam_instance_profile = data
                .iam_instance_profile()
                .and_then(|p| p.arn().or(p.name()))
                .map(str::to_owned);
        }
    }
    Ok(Some(observed))
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

/// A set attribute as AWS has it: null stays null while AWS holds none.
fn set_or_null(items: &[String], prior: Option<&Vec<String>>) -> Option<Vec<String>> {
    if items.is_empty() && prior.is_none() {
        None
    } else {
        Some(items.to_vec())
    }
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
        if self.mixed_instances {
            return Some(
                "uses a mixed instances policy (instance type overrides or a Spot/On-Demand \
                 mix). immutable_fleet launches one instance type from one launch template \
                 version; a group with a mixed instances policy cannot be imported."
                    .to_owned(),
            );
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
        if self.image_id.is_none() || self.instance_type.is_none() {
            return Some(format!(
                "launches from launch template {template} version {version}, which sets no \
                 image ID or no instance type; immutable_fleet needs both in the template."
            ));
        }
        None
    }

    /// The prior state with everything AWS knows replaced by what AWS says, so out-of-band
    /// changes show up as drift.
    pub fn refresh(&self, prior: &FleetState) -> FleetState {
        let mut state = prior.clone();
        if !self.baked_unchanged {
            state.image_id.clone_from(&self.image_id);
            state.instance_type.clone_from(&self.instance_type);
            state.security_group_ids =
                set_or_null(&self.security_group_ids, prior.security_group_ids.as_ref());
            state.user_data.clone_from(&self.user_data);
            state
                .iam_instance_profile
                .clone_from(&self.iam_instance_profile);
        }
        state.subnet_ids.clone_from(&self.subnet_ids);
        state.target_group_arns =
            set_or_null(&self.target_group_arns, prior.target_group_arns.as_ref());
        state.min_size = i64::from(self.min_size);
        state.max_size = i64::from(self.max_size);
        state.desired_capacity = Some(i64::from(self.desired));
        state.tags = if self.tags.is_empty() && prior.tags.is_none() {
            None
        } else {
            Some(self.tags.clone())
        };
        if let Some(id) = &self.launch_template_id {
            state.launch_template_id = Some(id.clone());
        }
        state.autoscaling_group_name = Some(self.asg_name.clone());
        if let Some(block) = &mut state.health_check {
            if let Some(kind) = &self.health_check_type {
                block.kind = Some(kind.clone());
            }
            if let Some(grace) = self.grace_period {
                // Keep the user's spelling ("90s" vs "1m30s") when it means the same.
                let same = block
                    .grace_period
                    .as_deref()
                    .and_then(|t| duration::parse(t).ok())
                    .is_some_and(|d| d.as_secs() == u64::try_from(grace).unwrap_or(u64::MAX));
                if !same {
                    block.grace_period = Some(duration::format(Duration::from_secs(
                        u64::try_from(grace.max(0)).unwrap_or(0),
                    )));
                }
            }
        }
        state
    }

    /// A whole state rebuilt from AWS, for `terraform import`.
    pub fn imported(&self) -> FleetState {
        // A group this provider did not create (generation 0, adopted or not yet) has no
        // record of gate settings. Its health check type and grace period go into the block
        // (the gate's defaults for the rest), so that configuration generated from the import
        // (`-generate-config-out`) keeps them: no block would mean EC2 and 30s from the first
        // rollout on.
        let foreign_health_check = match (self.generation_tag, &self.health_check_type) {
            (None | Some(0), Some(kind)) => {
                let defaults = HealthCheck::default();
                let grace = u64::try_from(self.grace_period.unwrap_or(0).max(0)).unwrap_or(0);
                Some(HealthCheckBlock {
                    kind: Some(kind.clone()),
                    grace_period: Some(duration::format(Duration::from_secs(grace))),
                    timeout: Some(duration::format(defaults.timeout)),
                    healthy_for: Some(duration::format(defaults.healthy_for)),
                    min_healthy_percent: Some(i64::from(defaults.min_healthy_percent)),
                })
            }
            _ => None,
        };
        let optional_set = |items: &[String]| (!items.is_empty()).then(|| items.to_vec());
        FleetState {
            id: Some(self.asg_name.clone()),
            name: self
                .fleet_tag
                .clone()
                .unwrap_or_else(|| self.asg_name.clone()),
            image_id: self.image_id.clone(),
            instance_type: self.instance_type.clone(),
            subnet_ids: self.subnet_ids.clone(),
            security_group_ids: optional_set(&self.security_group_ids),
            user_data: self.user_data.clone(),
            iam_instance_profile: self.iam_instance_profile.clone(),
            target_group_arns: optional_set(&self.target_group_arns),
            min_size: i64::from(self.min_size),
            max_size: i64::from(self.max_size),
            desired_capacity: Some(i64::from(self.desired)),
            tags: (!self.tags.is_empty()).then(|| self.tags.clone()),
            generation: Some(self.generation_tag.unwrap_or(0)),
            autoscaling_group_name: Some(self.asg_name.clone()),
            launch_template_id: self.launch_template_id.clone(),
            leftovers: None,
            health_check: self
                .health_check_tag
                .as_deref()
                .and_then(HealthCheck::block_from_tag)
                .or(foreign_health_check),
        }
    }
}

#[cfg(test)]
mod tests {
    use tfplugin_cty::Value;

    use super::*;
    use crate::framework::value::{ObjectExt, int};

    /// A group created outside the provider, launching from template version 3.
    fn foreign() -> Observed {
        Observed {
            asg_name: "web".to_owned(),
            fleet_tag: None,
            generation_tag: None,
            launch_template_id: Some("lt-0abc".to_owned()),
            image_id: Some("ami-12c6146b".to_owned()),
            instance_type: Some("t3.micro".to_owned()),
            security_group_ids: Vec::new(),
            user_data: None,
            iam_instance_profile: None,
            subnet_ids: vec!["subnet-1".to_owned()],
            target_group_arns: Vec::new(),
            min_size: 1,
            max_size: 2,
            desired: 1,
            tags: BTreeMap::new(),
            health_check_type: Some("EC2".to_owned()),
            grace_period: Some(300),
            health_check_tag: None,
            launch_configuration: None,
            mixed_instances: false,
            template_version: Some("3".to_owned()),
            baked_unchanged: false,
        }
    }

    fn problem(edit: impl FnOnce(&mut Observed)) -> String {
        let mut observed = foreign();
        edit(&mut observed);
        observed.import_problem().unwrap_or_default()
    }

    #[test]
    fn a_pinned_template_version_imports_as_generation_zero_under_its_own_name() {
        let observed = foreign();
        assert_eq!(observed.import_problem(), None);
        let state = observed.imported().to_value();
        assert_eq!(state.string("name"), Some("web"));
        assert_eq!(state.int("generation"), Some(0));
        // The group's own health check, so generated configuration keeps it (issue #10).
        assert_eq!(
            state.attr("health_check"),
            &Value::object([
                ("type", Value::string("EC2")),
                ("grace_period", Value::string("5m")),
                ("timeout", Value::string("10m")),
                ("healthy_for", Value::string("0s")),
                ("min_healthy_percent", int(100)),
            ])
        );
    }

    #[test]
    fn unsupported_launch_sources_are_named() {
        assert!(
            problem(|o| o.launch_configuration = Some("web-lc".to_owned()))
                .contains("launch configuration \"web-lc\"")
        );
        assert!(problem(|o| o.mixed_instances = true).contains("mixed instances policy"));
        assert!(problem(|o| o.launch_template_id = None).contains("no launch template"));
        for unpinned in [Some("$Latest"), Some("$Default"), None] {
            let message = problem(|o| o.template_version = unpinned.map(str::to_owned));
            let shown = unpinned.unwrap_or("$Default");
            assert!(
                message.contains(&format!("version \"{shown}\"")) && message.contains("Pin"),
                "{message}"
            );
        }
        assert!(problem(|o| o.image_id = None).contains("no image ID"));
    }
}
