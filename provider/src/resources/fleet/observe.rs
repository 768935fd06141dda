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
use tfplugin_cty::Value;

use super::inventory::{asg_tags, tag_value};
use super::model::{HealthCheck, TAG_FLEET, TAG_GENERATION, TAG_HEALTH_CHECK};
use crate::aws::{AwsClients, AwsError};
use crate::framework::duration;
use crate::framework::value::{ObjectExt, attr_mut, int, set_attr, string_map, string_set};

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

/// The launch template version every generation is created with.
const GENERATION_TEMPLATE_VERSION: &str = "1";

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
        fleet_tag: tag_value(asg_tags(&asg), TAG_FLEET).map(str::to_owned),
        generation_tag: tag_value(asg_tags(&asg), TAG_GENERATION).and_then(|g| g.parse().ok()),
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
        tags: asg_tags(&asg)
            .filter(|(k, _)| !k.starts_with("immutable:") && !k.starts_with("aws:"))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        health_check_type: asg.health_check_type().map(str::to_owned),
        grace_period: asg.health_check_grace_period(),
        health_check_tag: tag_value(asg_tags(&asg), TAG_HEALTH_CHECK).map(str::to_owned),
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
        match request.versions(version).send().await {
            Ok(out) => {
                if let Some(data) = out.launch_template_versions().first().and_then(|v| {
                    if observed.launch_template_id.is_none() {
                        observed.launch_template_id = v.launch_template_id().map(str::to_owned);
                    }
                    v.launch_template_data()
                }) {
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
            Err(e) => {
                let e = AwsError::new("DescribeLaunchTemplateVersions", &e);
                // A deleted template reads as "no image": the plan then proposes a
                // replacement that restores the declared one.
                if !e.is_not_found() {
                    return Err(e);
                }
            }
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

/// Whether launch template `id` exists: from the process's listing of the fleets' templates
/// when it has it, else read directly (a template missing from the listing may be untagged,
/// as an imported group's is).
async fn template_exists(clients: &AwsClients, id: &str) -> Result<bool, AwsError> {
    if let Some(templates) = clients.templates.tagged().await
        && templates.iter().any(|t| t.launch_template_id() == Some(id))
    {
        return Ok(true);
    }
    match clients
        .ec2
        .describe_launch_templates()
        .launch_template_ids(id)
        .send()
        .await
    {
        Ok(out) => Ok(!out.launch_templates().is_empty()),
        Err(e) => {
            let e = AwsError::new("DescribeLaunchTemplates", &e);
            if e.is_not_found() { Ok(false) } else { Err(e) }
        }
    }
}

fn set_or_null(items: &[String], prior: &Value) -> Value {
    if items.is_empty() && prior.is_null() {
        Value::Null
    } else {
        string_set(items.iter().cloned())
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
    pub fn refresh(&self, prior: &Value) -> Value {
        let mut state = prior.clone();
        if !self.baked_unchanged {
            self.refresh_baked(prior, &mut state);
        }
        set_attr(
            &mut state,
            "subnet_ids",
            string_set(self.subnet_ids.iter().cloned()),
        );
        set_attr(
            &mut state,
            "target_group_arns",
            set_or_null(&self.target_group_arns, prior.attr("target_group_arns")),
        );

        set_attr(&mut state, "min_size", int(i64::from(self.min_size)));
        set_attr(&mut state, "max_size", int(i64::from(self.max_size)));
        set_attr(&mut state, "desired_capacity", int(i64::from(self.desired)));
        let tags = if self.tags.is_empty() && prior.attr("tags").is_null() {
            Value::Null
        } else {
            string_map(self.tags.clone())
        };
        set_attr(&mut state, "tags", tags);
        if let Some(id) = &self.launch_template_id {
            set_attr(&mut state, "launch_template_id", Value::string(id));
        }
        set_attr(
            &mut state,
            "autoscaling_group_name",
            Value::string(&self.asg_name),
        );
        if let Some(block @ Value::Object(_)) = attr_mut(&mut state, "health_check") {
            if let Some(kind) = &self.health_check_type {
                set_attr(block, "type", Value::string(kind));
            }
            if let Some(grace) = self.grace_period {
                // Keep the user's spelling ("90s" vs "1m30s") when it means the same.
                let same = block
                    .string("grace_period")
                    .and_then(|t| duration::parse(t).ok())
                    .is_some_and(|d| d.as_secs() == u64::try_from(grace).unwrap_or(u64::MAX));
                if !same {
                    let text = duration::format(Duration::from_secs(
                        u64::try_from(grace.max(0)).unwrap_or(0),
                    ));
                    set_attr(block, "grace_period", Value::String(text));
                }
            }
        }
        state
    }

    fn refresh_baked(&self, prior: &Value, state: &mut Value) {
        let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        set_attr(state, "image_id", text(&self.image_id));
        set_attr(state, "instance_type", text(&self.instance_type));
        set_attr(
            state,
            "security_group_ids",
            set_or_null(&self.security_group_ids, prior.attr("security_group_ids")),
        );
        set_attr(state, "user_data", text(&self.user_data));
        set_attr(
            state,
            "iam_instance_profile",
            text(&self.iam_instance_profile),
        );
    }

    /// A whole state rebuilt from AWS, for `terraform import`.
    pub fn imported(&self) -> Value {
        let text = |s: &Option<String>| s.clone().map_or(Value::Null, Value::String);
        // A group this provider did not create (generation 0, adopted or not yet) has no
        // record of gate settings. Its health check type and grace period go into the block
        // (the gate's defaults for the rest), so that configuration generated from the import
        // (`-generate-config-out`) keeps them: no block would mean EC2 and 30s from the first
        // rollout on.
        let foreign_health_check = match (self.generation_tag, &self.health_check_type) {
            (None | Some(0), Some(kind)) => {
                let defaults = HealthCheck::default();
                let grace = u64::try_from(self.grace_period.unwrap_or(0).max(0)).unwrap_or(0);
                Value::object([
                    ("type", Value::string(kind)),
                    (
                        "grace_period",
                        Value::String(duration::format(Duration::from_secs(grace))),
                    ),
                    ("timeout", Value::String(duration::format(defaults.timeout))),
                    (
                        "healthy_for",
                        Value::String(duration::format(defaults.healthy_for)),
                    ),
                    (
                        "min_healthy_percent",
                        int(i64::from(defaults.min_healthy_percent)),
                    ),
                ])
            }
            _ => Value::Null,
        };
        let optional_set = |items: &[String]| {
            if items.is_empty() {
                Value::Null
            } else {
                string_set(items.iter().cloned())
            }
        };
        Value::object([
            ("id", Value::string(&self.asg_name)),
            (
                "name",
                Value::String(
                    self.fleet_tag
                        .clone()
                        .unwrap_or_else(|| self.asg_name.clone()),
                ),
            ),
            ("image_id", text(&self.image_id)),
            ("instance_type", text(&self.instance_type)),
            ("subnet_ids", string_set(self.subnet_ids.iter().cloned())),
            ("security_group_ids", optional_set(&self.security_group_ids)),
            ("user_data", text(&self.user_data)),
            ("iam_instance_profile", text(&self.iam_instance_profile)),
            ("target_group_arns", optional_set(&self.target_group_arns)),
            ("min_size", int(i64::from(self.min_size))),
            ("max_size", int(i64::from(self.max_size))),
            ("desired_capacity", int(i64::from(self.desired))),
            (
                "tags",
                if self.tags.is_empty() {
                    Value::Null
                } else {
                    string_map(self.tags.clone())
                },
            ),
            ("generation", int(self.generation_tag.unwrap_or(0))),
            ("autoscaling_group_name", Value::string(&self.asg_name)),
            ("launch_template_id", text(&self.launch_template_id)),
            ("leftovers", Value::Null),
            (
                "health_check",
                self.health_check_tag
                    .as_deref()
                    .and_then(HealthCheck::block_from_tag)
                    .unwrap_or(foreign_health_check),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let state = observed.imported();
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
