//! What an observed generation means for the state: a refresh of a prior state, or a
//! whole state for import.

use std::time::Duration;

use super::Observed;
use crate::framework::duration;
use crate::resources::fleet::group_settings;
use crate::resources::fleet::group_spec::DEFAULT_TERMINATION_POLICIES;
use crate::resources::fleet::launch_spec::MetadataOptions;
use crate::resources::fleet::spec::HealthCheck;
use crate::resources::fleet::state::{FleetState, HealthCheckBlock, MetadataOptionsBlock};

/// A duration AWS holds as whole seconds, `0`/absent meaning none: the prior text when it
/// means the same, else the seconds written out, `None` for none unless the prior said so.
fn seconds_text(seconds: Option<i32>, prior: Option<&str>) -> Option<String> {
    let seconds = u64::try_from(seconds.unwrap_or(0).max(0)).unwrap_or(0);
    let same = |text: &str| duration::parse(text).is_ok_and(|d| d.as_secs() == seconds);
    match prior {
        Some(text) if same(text) => Some(text.to_owned()),
        _ if seconds == 0 => None,
        _ => Some(duration::format(Duration::from_secs(seconds))),
    }
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
    /// The prior state with everything AWS knows replaced by what AWS says, so out-of-band
    /// changes show up as drift.
    pub fn refresh(&self, prior: &FleetState) -> FleetState {
        let mut state = prior.clone();
        if !self.baked_unchanged {
            state.image_id.clone_from(&self.image_id);
            state.instance_type.clone_from(&self.instance_type);
            state.security_group_ids = set_or_null(
                &self.options.security_group_ids,
                prior.security_group_ids.as_ref(),
            );
            state.user_data.clone_from(&self.user_data);
            state
                .iam_instance_profile
                .clone_from(&self.iam_instance_profile);
            state
                .block_device_mapping
                .clone_from(&self.options.block_device_mapping);
            state.metadata_options = self.metadata_block(prior.metadata_options.as_ref());
            state.associate_public_ip_address = self.options.associate_public_ip_address;
            state.monitoring = self.options.monitoring;
            state.ebs_optimized = self.options.ebs_optimized;
            state
                .credit_specification
                .clone_from(&self.options.credit_specification);
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
        state.mixed_instances.clone_from(&self.mixed);
        self.refresh_group_settings(prior, &mut state);
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

    /// The group settings as AWS has them, spelled as `prior` spelled them where they mean
    /// the same; one AWS holds at its default stays unset where `prior` left it unset.
    fn refresh_group_settings(&self, prior: &FleetState, state: &mut FleetState) {
        state.max_instance_lifetime = seconds_text(
            self.max_instance_lifetime,
            prior.max_instance_lifetime.as_deref(),
        );
        state.default_instance_warmup = seconds_text(
            self.default_instance_warmup.filter(|w| *w >= 0),
            prior.default_instance_warmup.as_deref(),
        );
        let default_policies = self.termination_policies.is_empty()
            || self.termination_policies == DEFAULT_TERMINATION_POLICIES;
        state.termination_policies = if prior.termination_policies.is_none() && default_policies {
            None
        } else {
            Some(self.termination_policies.clone())
        };
        let rebalance = self.capacity_rebalance.unwrap_or(false);
        state.capacity_rebalance =
            (prior.capacity_rebalance.is_some() || rebalance).then_some(rebalance);
        state.enabled_metrics = (prior.enabled_metrics.is_some()
            || !self.enabled_metrics.is_empty())
        .then(|| self.enabled_metrics.clone());
        if let Some(hooks) = &self.hooks {
            state.lifecycle_hook = group_settings::hook_blocks(hooks, &prior.lifecycle_hook);
        }
        if let Some(policies) = &self.policies {
            state.scaling_policy = group_settings::policy_blocks(policies, &prior.scaling_policy);
        }
    }

    /// The `metadata_options` block for what the template says: the prior block (or its
    /// absence) when it means the same, else the template's settings written out. An absent
    /// block means IMDSv2 with one hop, which a template that names no options is not.
    fn metadata_block(&self, prior: Option<&MetadataOptionsBlock>) -> Option<MetadataOptionsBlock> {
        if MetadataOptions::from_block(prior) == self.options.metadata {
            return prior.cloned();
        }
        Some(MetadataOptionsBlock {
            http_tokens: Some(self.options.metadata.http_tokens.clone()),
            http_put_response_hop_limit: Some(i64::from(self.options.metadata.hop_limit)),
            instance_metadata_tags: Some(self.options.metadata.instance_metadata_tags.clone()),
        })
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
        let mut state = FleetState {
            id: Some(self.asg_name.clone()),
            name: self
                .fleet_tag
                .clone()
                .unwrap_or_else(|| self.asg_name.clone()),
            image_id: self.image_id.clone(),
            instance_type: self.instance_type.clone(),
            subnet_ids: self.subnet_ids.clone(),
            security_group_ids: optional_set(&self.options.security_group_ids),
            block_device_mapping: self.options.block_device_mapping.clone(),
            metadata_options: self.metadata_block(None),
            associate_public_ip_address: self.options.associate_public_ip_address,
            monitoring: self.options.monitoring,
            ebs_optimized: self.options.ebs_optimized,
            credit_specification: self.options.credit_specification.clone(),
            mixed_instances: self.mixed.clone(),
            // How to roll out lives only in the configuration and state.
            rollout: None,
            lifecycle_hook: Vec::new(),
            scaling_policy: Vec::new(),
            max_instance_lifetime: None,
            termination_policies: None,
            default_instance_warmup: None,
            capacity_rebalance: None,
            enabled_metrics: None,
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
        };
        let nothing_declared = state.clone();
        self.refresh_group_settings(&nothing_declared, &mut state);
        state
    }
}
