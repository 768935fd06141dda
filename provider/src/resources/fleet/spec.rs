//! What a generation is built from, as typed Rust read from a planned state: the launch and
//! group settings, the gate's settings, the provider's tag keys and the limits AWS holds.

use std::collections::BTreeMap;
use std::time::Duration;

use super::group_spec::GroupSettings;
use super::launch_spec::LaunchOptions;
use super::rollout_spec::RolloutSpec;
use super::schema::{self, at, health_check};
use super::state::{FleetState, HealthCheckBlock};
use crate::framework::Diagnostics;
use crate::framework::duration;
use sha2::{Digest, Sha256};

/// Tag keys the provider owns on every generation's ASG and launch template.
pub const TAG_FLEET: &str = "immutable:fleet";
pub const TAG_GENERATION: &str = "immutable:generation";
pub const TAG_FINGERPRINT: &str = "immutable:fingerprint";
/// The configured gate settings, so `terraform import` can rebuild the `health_check` block.
pub const TAG_HEALTH_CHECK: &str = "immutable:health-check";

/// What AWS (or the gate) can hold, checked at plan time so that a value that would fail or
/// be silently changed at apply is an error at the attribute instead. Each names its source.
pub mod limits {
    use std::time::Duration;

    /// Tags per Auto Scaling group (Amazon EC2 Auto Scaling User Guide, "Tag Auto Scaling
    /// groups and instances": 50 tags per group; `TagLimitExceeded` beyond).
    pub const GROUP_TAGS: usize = 50;
    /// Tags the provider puts on every generation's group: `immutable:fleet`,
    /// `immutable:generation`, `immutable:fingerprint`, `immutable:state` and
    /// `immutable:health-check` (see `group::generation_tags`).
    pub const PROVIDER_TAGS: usize = 5;
    /// User tags that fit next to the provider's own.
    pub const USER_TAGS: usize = GROUP_TAGS - PROVIDER_TAGS;
    /// Tag key length in characters (Auto Scaling API `Tag.Key`: 1–128).
    pub const TAG_KEY_CHARS: usize = 128;
    /// Tag value length in characters (Auto Scaling API `Tag.Value`: 0–256).
    pub const TAG_VALUE_CHARS: usize = 256;
    /// User data in bytes before base64 encoding (Amazon EC2 User Guide, "Work with instance
    /// user data": 16 KB in raw form; the launch template's base64 text is then at most
    /// ceil(16384 / 3) × 4 = 21848 characters).
    pub const USER_DATA_BYTES: usize = 16 * 1024;
    /// The ASG's `HealthCheckGracePeriod` is a 32-bit integer of seconds, with no smaller
    /// documented maximum: 2147483647 s (596523h14m7s).
    pub const GRACE_PERIOD: Duration = Duration::from_secs(2_147_483_647);
    /// Longest gate: a day. Terraform holds the state lock while a gate waits, and a gate that
    /// needs longer is a rollout procedure, not a health check.
    pub const GATE_TIMEOUT: Duration = Duration::from_hours(24);
}

/// Everything a generation is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetSpec {
    pub name: String,
    pub image_id: String,
    pub instance_type: String,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub user_data: Option<String>,
    pub iam_instance_profile: Option<String>,
    /// Disks, metadata service, addressing, monitoring, CPU credits.
    pub launch: LaunchOptions,
    pub target_group_arns: Vec<String>,
    pub min_size: i32,
    pub max_size: i32,
    /// `None` when the configuration leaves capacity to scaling policies.
    pub desired_capacity: Option<i32>,
    pub tags: BTreeMap<String, String>,
    /// Hooks, scaling policies and the other settings of the group.
    pub group: GroupSettings,
    pub health: HealthCheck,
    /// The configured `health_check` block as recorded in a tag; `None` for the defaults.
    pub health_tag: Option<String>,
    /// Canary steps, alarms, and what happens to the previous generation.
    pub rollout: RolloutSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub kind: String,
    pub grace_period: Duration,
    pub timeout: Duration,
    pub healthy_for: Duration,
    pub min_healthy_percent: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            kind: "EC2".into(),
            grace_period: Duration::from_secs(30),
            timeout: Duration::from_mins(10),
            healthy_for: Duration::ZERO,
            min_healthy_percent: 100,
        }
    }
}

impl HealthCheck {
    /// How many of `desired` instances must be healthy: `min_healthy_percent`, rounded up.
    pub fn required_healthy(&self, desired: i32) -> usize {
        let desired = u64::try_from(desired.max(0)).unwrap_or(0);
        let required = (desired * u64::from(self.min_healthy_percent)).div_ceil(100);
        usize::try_from(required).unwrap_or(usize::MAX)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

fn size(n: Option<i64>, name: &str, diagnostics: &mut Diagnostics) -> Option<i32> {
    let n = n?;
    if let Ok(n) = i32::try_from(n) {
        Some(n)
    } else {
        diagnostics.attribute_error(at(name), "Value out of range", format!("{n} is too large."));
        None
    }
}

impl FleetSpec {
    /// Reads a wholly known planned state (or configuration) given as a cty value.
    pub fn from_value(value: &tfplugin_cty::Value) -> Result<Self, Diagnostics> {
        Self::from_state(&FleetState::from_value(value)?)
    }

    /// Reads a planned state at apply. A value apply needs that is still unknown is a
    /// planning bug, reported as such.
    pub fn from_state(state: &FleetState) -> Result<Self, Diagnostics> {
        let mut d = Diagnostics::new();
        let mut required = |value: Option<&String>, name: &str| -> String {
            if let Some(s) = value {
                s.clone()
            } else {
                d.attribute_error(
                    at(name),
                    "Missing value",
                    format!("`{name}` must be set and known at apply time."),
                );
                String::new()
            }
        };
        let image_id = required(state.image_id.as_ref(), schema::IMAGE_ID);
        let instance_type = required(state.instance_type.as_ref(), schema::INSTANCE_TYPE);
        let min_size = size(Some(state.min_size), schema::MIN_SIZE, &mut d).unwrap_or(0);
        let max_size = size(Some(state.max_size), schema::MAX_SIZE, &mut d).unwrap_or(0);
        let desired_capacity = size(state.desired_capacity, schema::DESIRED_CAPACITY, &mut d);
        let health = HealthCheck::from_block(state.health_check.as_ref(), &mut d);
        let group = GroupSettings::from_state(state, &mut d);
        let rollout = RolloutSpec::from_block(state.rollout.as_ref(), &mut d);
        if d.has_error() {
            return Err(d);
        }
        let sorted_or_empty = |v: &Option<Vec<String>>| sorted(v.clone().unwrap_or_default());
        Ok(Self {
            name: state.name.clone(),
            image_id,
            instance_type,
            subnet_ids: sorted(state.subnet_ids.clone()),
            security_group_ids: sorted_or_empty(&state.security_group_ids),
            user_data: state.user_data.clone(),
            iam_instance_profile: state.iam_instance_profile.clone(),
            launch: LaunchOptions::from_state(state),
            target_group_arns: sorted_or_empty(&state.target_group_arns),
            min_size,
            max_size,
            desired_capacity,
            tags: state.tags.clone().unwrap_or_default(),
            group,
            health,
            health_tag: state.health_check.as_ref().map(HealthCheck::tag_from_block),
            rollout,
        })
    }

    /// A stable digest of everything baked into an instance. Tagged on each generation so
    /// leftovers can be matched and out-of-band changes recognised.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |label: &str, value: &str| {
            h.update(label.as_bytes());
            h.update([0]);
            h.update(value.as_bytes());
            h.update([0]);
        };
        field("image_id", &self.image_id);
        field("instance_type", &self.instance_type);
        field("subnet_ids", &self.subnet_ids.join(","));
        field("security_group_ids", &self.security_group_ids.join(","));
        field("user_data", self.user_data.as_deref().unwrap_or(""));
        field(
            "iam_instance_profile",
            self.iam_instance_profile.as_deref().unwrap_or(""),
        );
        field("target_group_arns", &self.target_group_arns.join(","));
        for (label, value) in self.launch.fingerprint_fields() {
            field(label, &value);
        }
        let digest = h.finalize();
        hex::encode(digest.get(..8).unwrap_or_default())
    }
}

impl HealthCheck {
    /// The tag value recording a configured `health_check` block exactly as written, e.g.
    /// `type=EC2 grace_period=30s timeout=10m healthy_for=0s min_healthy_percent=100`.
    pub fn tag_from_block(block: &HealthCheckBlock) -> String {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        format!(
            "{}={} {}={} {}={} {}={} {}={}",
            health_check::TYPE,
            text(&block.kind),
            health_check::GRACE_PERIOD,
            text(&block.grace_period),
            health_check::TIMEOUT,
            text(&block.timeout),
            health_check::HEALTHY_FOR,
            text(&block.healthy_for),
            health_check::MIN_HEALTHY_PERCENT,
            block.min_healthy_percent.unwrap_or(100)
        )
    }

    /// The `health_check` block recorded by [`Self::tag_from_block`]; `None` if the tag is
    /// malformed.
    pub fn block_from_tag(tag: &str) -> Option<HealthCheckBlock> {
        let mut block = HealthCheckBlock {
            kind: None,
            grace_period: None,
            timeout: None,
            healthy_for: None,
            min_healthy_percent: None,
        };
        for pair in tag.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            let slot = match key {
                health_check::TYPE => &mut block.kind,
                health_check::GRACE_PERIOD => &mut block.grace_period,
                health_check::TIMEOUT => &mut block.timeout,
                health_check::HEALTHY_FOR => &mut block.healthy_for,
                health_check::MIN_HEALTHY_PERCENT => {
                    block.min_healthy_percent = Some(value.parse().ok()?);
                    continue;
                }
                _ => return None,
            };
            *slot = Some(value.to_owned());
        }
        let complete = block.kind.is_some()
            && block.grace_period.is_some()
            && block.timeout.is_some()
            && block.healthy_for.is_some()
            && block.min_healthy_percent.is_some();
        complete.then_some(block)
    }

    /// The gate settings of a `health_check` block; no block means the defaults.
    pub fn from_block(block: Option<&HealthCheckBlock>, d: &mut Diagnostics) -> Self {
        let mut health = Self::default();
        let Some(block) = block else {
            return health;
        };
        let path = at(schema::HEALTH_CHECK);
        if let Some(kind) = &block.kind {
            kind.clone_into(&mut health.kind);
        }
        let mut dur = |name: &str, text: &Option<String>, slot: &mut Duration| {
            if let Some(text) = text {
                match duration::parse(text) {
                    Ok(parsed) => *slot = parsed,
                    Err(e) => d.attribute_error(path.attr(name), "Invalid duration", e),
                }
            }
        };
        dur(
            health_check::GRACE_PERIOD,
            &block.grace_period,
            &mut health.grace_period,
        );
        dur(health_check::TIMEOUT, &block.timeout, &mut health.timeout);
        dur(
            health_check::HEALTHY_FOR,
            &block.healthy_for,
            &mut health.healthy_for,
        );
        if let Some(p) = block.min_healthy_percent {
            health.min_healthy_percent = u32::try_from(p.clamp(0, 100)).unwrap_or(100);
        }
        health
    }
}

#[cfg(test)]
mod tests {
    use tfplugin_cty::Value;

    use super::*;

    #[test]
    fn health_check_tag_round_trips() {
        let block = Value::object([
            ("type", Value::string("ELB")),
            ("grace_period", Value::string("90s")),
            ("timeout", Value::string("1h")),
            ("healthy_for", Value::string("250ms")),
            ("min_healthy_percent", Value::number(50)),
        ]);
        let tag = HealthCheckBlock::from_value(&block)
            .map(|b| HealthCheck::tag_from_block(&b))
            .unwrap_or_default();
        assert_eq!(
            HealthCheck::block_from_tag(&tag).map(|b| b.to_value()),
            Some(block)
        );
        assert_eq!(HealthCheckBlock::from_value(&Value::Null), None);
        assert_eq!(HealthCheck::block_from_tag("type=EC2 bogus"), None);
    }

    #[test]
    fn required_healthy_rounds_up() {
        let mut h = HealthCheck::default();
        assert_eq!(h.required_healthy(4), 4);
        h.min_healthy_percent = 50;
        assert_eq!(h.required_healthy(3), 2);
        h.min_healthy_percent = 1;
        assert_eq!(h.required_healthy(1), 1);
        assert_eq!(h.required_healthy(0), 0);
    }
}
