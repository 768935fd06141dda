//! The fleet's configuration as typed Rust, read from a planned state.

use std::collections::BTreeMap;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tfplugin_cty::Value;

use super::at;
use crate::framework::Diagnostics;
use crate::framework::duration;
use crate::framework::value::ObjectExt;

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
    /// `immutable:health-check` (see `aws::group_tags`).
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
    pub target_group_arns: Vec<String>,
    pub min_size: i32,
    pub max_size: i32,
    /// `None` when the configuration leaves capacity to scaling policies.
    pub desired_capacity: Option<i32>,
    pub tags: BTreeMap<String, String>,
    pub health: HealthCheck,
    /// The configured `health_check` block as recorded in a tag; `None` for the defaults.
    pub health_tag: Option<String>,
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

fn size(value: &Value, name: &str, diagnostics: &mut Diagnostics) -> Option<i32> {
    let n = value.int(name)?;
    if let Ok(n) = i32::try_from(n) {
        Some(n)
    } else {
        diagnostics.attribute_error(at(name), "Value out of range", format!("{n} is too large."));
        None
    }
}

impl FleetSpec {
    /// Reads a wholly known planned state. Unknowns here are a planning bug, reported as such.
    pub fn from_value(v: &Value) -> Result<Self, Diagnostics> {
        let mut d = Diagnostics::new();
        let required_string = |name: &str, d: &mut Diagnostics| -> String {
            if let Some(s) = v.string(name) {
                s.to_owned()
            } else {
                d.attribute_error(
                    at(name),
                    "Missing value",
                    format!("`{name}` must be set and known at apply time."),
                );
                String::new()
            }
        };
        let name = required_string("name", &mut d);
        let image_id = required_string("image_id", &mut d);
        let instance_type = required_string("instance_type", &mut d);
        let min_size = size(v, "min_size", &mut d).unwrap_or(0);
        let max_size = size(v, "max_size", &mut d).unwrap_or(0);
        let desired_capacity = size(v, "desired_capacity", &mut d);
        let health = HealthCheck::from_value(v.attr("health_check"), &mut d);
        if d.has_error() {
            return Err(d);
        }
        Ok(Self {
            name,
            image_id,
            instance_type,
            subnet_ids: sorted(v.strings("subnet_ids").unwrap_or_default()),
            security_group_ids: sorted(v.strings("security_group_ids").unwrap_or_default()),
            user_data: v.string("user_data").map(str::to_owned),
            iam_instance_profile: v.string("iam_instance_profile").map(str::to_owned),
            target_group_arns: sorted(v.strings("target_group_arns").unwrap_or_default()),
            min_size,
            max_size,
            desired_capacity,
            tags: v.string_map("tags").unwrap_or_default(),
            health,
            health_tag: HealthCheck::tag_from_block(v.attr("health_check")),
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
        let digest = h.finalize();
        hex::encode(digest.get(..8).unwrap_or_default())
    }
}

impl HealthCheck {
    /// The tag value recording a configured `health_check` block exactly as written, e.g.
    /// `type=EC2 grace_period=30s timeout=10m healthy_for=0s min_healthy_percent=100`.
    pub fn tag_from_block(block: &Value) -> Option<String> {
        if block.is_null() {
            return None;
        }
        let text = |name: &str| block.string(name).unwrap_or_default().to_owned();
        Some(format!(
            "type={} grace_period={} timeout={} healthy_for={} min_healthy_percent={}",
            text("type"),
            text("grace_period"),
            text("timeout"),
            text("healthy_for"),
            block.int("min_healthy_percent").unwrap_or(100)
        ))
    }

    /// The `health_check` block recorded by [`Self::to_tag`]; `None` if the tag is malformed.
    pub fn block_from_tag(tag: &str) -> Option<Value> {
        let mut fields = std::collections::BTreeMap::new();
        for pair in tag.split_whitespace() {
            let (key, value) = pair.split_once('=')?;
            let value = match key {
                "type" | "grace_period" | "timeout" | "healthy_for" => Value::string(value),
                "min_healthy_percent" => Value::number(value.parse().ok()?),
                _ => return None,
            };
            fields.insert(key.to_owned(), value);
        }
        (fields.len() == 5).then_some(Value::Object(fields))
    }

    /// Reads the `health_check` block; a null block means the defaults.
    pub fn from_value(block: &Value, d: &mut Diagnostics) -> Self {
        let mut health = Self::default();
        if block.is_null() {
            return health;
        }
        let path = at("health_check");
        if let Some(kind) = block.string("type") {
            kind.clone_into(&mut health.kind);
        }
        let mut dur = |name: &str, slot: &mut Duration| {
            if let Some(text) = block.string(name) {
                match duration::parse(text) {
                    Ok(parsed) => *slot = parsed,
                    Err(e) => d.attribute_error(path.attr(name), "Invalid duration", e),
                }
            }
        };
        dur("grace_period", &mut health.grace_period);
        dur("timeout", &mut health.timeout);
        dur("healthy_for", &mut health.healthy_for);
        if let Some(p) = block.int("min_healthy_percent") {
            health.min_healthy_percent = u32::try_from(p.clamp(0, 100)).unwrap_or(100);
        }
        health
    }
}

#[cfg(test)]
mod tests {
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
        let tag = HealthCheck::tag_from_block(&block).unwrap_or_default();
        assert_eq!(HealthCheck::block_from_tag(&tag), Some(block));
        assert_eq!(HealthCheck::tag_from_block(&Value::Null), None);
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
