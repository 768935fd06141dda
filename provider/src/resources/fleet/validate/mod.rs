//! Configuration checks that run at `terraform validate`/`plan` time, each reported at the
//! attribute that is wrong. Values unknown until apply are skipped, never guessed.

mod group;
mod launch;
mod rollout;

use std::time::Duration;

use tfplugin_cty::Value;

use super::schema::at;
use super::spec::limits;
use crate::framework::Diagnostics;
use crate::framework::duration;
use crate::framework::value::ObjectExt;

/// Longest fleet name: leaves room for `-g<generation>` within the 128 characters a launch
/// template name may have, with margin for AWS's 255-character ASG names.
const MAX_NAME_LEN: usize = 100;

pub fn config(config: &Value, d: &mut Diagnostics) {
    name(config, d);
    image_id(config, d);
    instance_type(config, d);
    subnets(config, d);
    capacity(config, d);
    tags(config, d);
    user_data(config, d);
    health_check(config, d);
    launch::config(config, d);
    group::config(config, d);
    rollout::config(config, d);
}

/// Tags AWS can hold next to the provider's own: at most [`limits::USER_TAGS`], keys of 1–128
/// and values of at most 256 characters. Beyond, the first apply fails with
/// `TagLimitExceeded` or a validation error after the plan was accepted.
fn tag_limits(tags: &std::collections::BTreeMap<String, Value>, d: &mut Diagnostics) {
    if tags.len() > limits::USER_TAGS {
        d.attribute_error(
            at("tags"),
            "Too many tags",
            format!(
                "{} tags are set; at most {} fit. An Auto Scaling group holds {} tags and the \
                 provider adds {} of its own (`immutable:fleet`, `immutable:generation`, \
                 `immutable:fingerprint`, `immutable:state`, `immutable:health-check`).",
                tags.len(),
                limits::USER_TAGS,
                limits::GROUP_TAGS,
                limits::PROVIDER_TAGS
            ),
        );
    }
    for (key, value) in tags {
        let key_chars = key.chars().count();
        if key_chars == 0 || key_chars > limits::TAG_KEY_CHARS {
            d.attribute_error(
                at("tags").key(key),
                "Invalid tag key",
                format!(
                    "{key:?} has {key_chars} characters; a tag key has 1–{} (AWS limit).",
                    limits::TAG_KEY_CHARS
                ),
            );
        }
        if let Some(value) = value.as_str() {
            let value_chars = value.chars().count();
            if value_chars > limits::TAG_VALUE_CHARS {
                d.attribute_error(
                    at("tags").key(key),
                    "Tag value too long",
                    format!(
                        "The value of tag {key:?} has {value_chars} characters; a tag value has \
                         at most {} (AWS limit).",
                        limits::TAG_VALUE_CHARS
                    ),
                );
            }
        }
    }
}

/// User data is limited to 16 KB before base64 encoding. Sensitive: the value is never shown.
fn user_data(config: &Value, d: &mut Diagnostics) {
    let Some(text) = config.string("user_data") else {
        return;
    };
    if text.len() > limits::USER_DATA_BYTES {
        d.attribute_error(
            at("user_data"),
            "User data too large",
            format!(
                "user_data is {} bytes; AWS accepts at most {} bytes (16 KB) before base64 \
                 encoding. Move the bulk to the image or fetch it at boot (e.g. from S3).",
                text.len(),
                limits::USER_DATA_BYTES
            ),
        );
    }
}

/// Tag keys the provider owns (`immutable:`) or AWS reserves (`aws:`). A user tag under
/// `immutable:` would be dropped by every refresh (a perpetual diff) and could overwrite the
/// rollout state that tells a serving generation from a leftover one.
fn tags(config: &Value, d: &mut Diagnostics) {
    let Value::Map(tags) = config.attr("tags") else {
        return;
    };
    tag_limits(tags, d);
    for key in tags.keys() {
        // AWS rejects `aws:` in any case; refresh filters `immutable:` as written.
        let reserved = if key.starts_with("immutable:") {
            Some("immutable:")
        } else if key.to_ascii_lowercase().starts_with("aws:") {
            Some("aws:")
        } else {
            None
        };
        if let Some(prefix) = reserved {
            d.attribute_error(
                at("tags").key(key),
                "Reserved tag key",
                format!(
                    "{key:?}: tag keys starting with `{prefix}` are reserved (the provider and \
                     AWS own them). Choose another key."
                ),
            );
        }
    }
}

fn name(config: &Value, d: &mut Diagnostics) {
    let Some(name) = config.string("name") else {
        return;
    };
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if name.is_empty() || name.len() > MAX_NAME_LEN || !valid_chars {
        d.attribute_error(
            at("name"),
            "Invalid fleet name",
            format!(
                "{name:?} must be 1–{MAX_NAME_LEN} characters of letters, digits, `-` and `_`: \
                 it becomes part of the ASG and launch template names."
            ),
        );
    }
}

/// `ami-` followed by 8 or 17 lowercase hex digits, the two shapes AWS issues.
fn is_image_id(s: &str) -> bool {
    s.strip_prefix("ami-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn image_id(config: &Value, d: &mut Diagnostics) {
    let Some(image) = config.string("image_id") else {
        return;
    };
    if !is_image_id(image) {
        d.attribute_error(
            at("image_id"),
            "Invalid image ID",
            format!("{image:?} is not an AMI ID: expected `ami-` and 8 or 17 hex digits, e.g. ami-0abcdef1234567890."),
        );
    }
}

fn instance_type(config: &Value, d: &mut Diagnostics) {
    let Some(t) = config.string("instance_type") else {
        return;
    };
    let shape_ok = t.split_once('.').is_some_and(|(family, size)| {
        let ok = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        ok(family) && ok(size)
    });
    if !shape_ok {
        d.attribute_error(
            at("instance_type"),
            "Invalid instance type",
            format!("{t:?} is not an EC2 instance type such as `t3.micro`."),
        );
    }
}

fn subnets(config: &Value, d: &mut Diagnostics) {
    let subnets = config.attr("subnet_ids");
    if let Some(items) = subnets.elements() {
        if items.is_empty() {
            d.attribute_error(
                at("subnet_ids"),
                "No subnets",
                "A fleet needs at least one subnet to launch instances into.",
            );
        }
        // A set has no element index Terraform could point at: name the value instead.
        for item in items {
            if let Some(s) = item.as_str()
                && !s.starts_with("subnet-")
            {
                d.attribute_error(
                    at("subnet_ids"),
                    "Invalid subnet ID",
                    format!("{s:?} is not a subnet ID (`subnet-…`)."),
                );
            }
        }
    }
}

fn capacity(config: &Value, d: &mut Diagnostics) {
    let min = config.int("min_size");
    let max = config.int("max_size");
    let desired = config.int("desired_capacity");
    for (name, value) in [
        ("min_size", min),
        ("max_size", max),
        ("desired_capacity", desired),
    ] {
        if let Some(v) = value
            && (v < 0 || i32::try_from(v).is_err())
        {
            d.attribute_error(
                at(name),
                "Invalid capacity",
                format!("`{name}` must be between 0 and {}, got {v}.", i32::MAX),
            );
        }
    }
    for name in ["min_size", "max_size", "desired_capacity"] {
        if let Some(n) = config.attr(name).as_number()
            && n.as_i64().is_none()
        {
            d.attribute_error(
                at(name),
                "Invalid capacity",
                format!("`{name}` must be a whole number, got {n}."),
            );
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        d.attribute_error(
                at("min_size"),
                "min_size is greater than max_size",
                format!("min_size = {min} but max_size = {max}; a fleet needs min_size ≤ desired_capacity ≤ max_size."),
            );
    }
    if let Some(desired) = desired {
        if let Some(min) = min.filter(|m| desired < *m) {
            d.attribute_error(
                at("desired_capacity"),
                "desired_capacity is below min_size",
                format!("desired_capacity = {desired} but min_size = {min}."),
            );
        }
        if let Some(max) = max.filter(|m| desired > *m) {
            d.attribute_error(
                at("desired_capacity"),
                "desired_capacity is above max_size",
                format!("desired_capacity = {desired} but max_size = {max}."),
            );
        }
    }
}

/// What a `health_check` duration may be: whole seconds (the ASG holds the grace period as
/// an integer of seconds, and the gate counts in seconds), within `min..=max`.
pub(super) struct DurationBounds {
    /// The block the attribute is in.
    block: &'static str,
    name: &'static str,
    min: Duration,
    max: Duration,
    /// Why the value must be whole seconds.
    whole_seconds: &'static str,
    /// Why the maximum is what it is.
    max_reason: &'static str,
}

const DURATIONS: [DurationBounds; 3] = [
    DurationBounds {
        block: "health_check",
        name: "grace_period",
        min: Duration::ZERO,
        max: limits::GRACE_PERIOD,
        whole_seconds: "the ASG's HealthCheckGracePeriod is a whole number of seconds, so \
                        AWS would silently hold a truncated value",
        max_reason: "the ASG's HealthCheckGracePeriod is a 32-bit number of seconds",
    },
    DurationBounds {
        block: "health_check",
        name: "timeout",
        min: Duration::from_secs(1),
        max: limits::GATE_TIMEOUT,
        whole_seconds: "the gate counts in whole seconds",
        max_reason: "Terraform holds the state lock while a gate waits",
    },
    DurationBounds {
        block: "health_check",
        name: "healthy_for",
        min: Duration::ZERO,
        max: limits::GATE_TIMEOUT,
        whole_seconds: "the gate counts in whole seconds",
        max_reason: "it must be shorter than timeout, at most 24h",
    },
];

impl DurationBounds {
    pub(super) fn check(&self, text: &str, d: &mut Diagnostics) {
        let path = at(self.block).attr(self.name);
        let name = self.name;
        let value = match duration::parse(text) {
            Ok(value) => value,
            Err(e) => {
                d.attribute_error(path, "Invalid duration", e);
                return;
            }
        };
        if value > self.max {
            d.attribute_error(
                path,
                "Duration too long",
                format!(
                    "{name} = {text:?} is longer than {} ({} seconds): {}.",
                    duration::format(self.max),
                    self.max.as_secs(),
                    self.max_reason
                ),
            );
        } else if value.subsec_nanos() != 0 {
            let down = Duration::from_secs(value.as_secs());
            let up = down + Duration::from_secs(1);
            let choices = if down < self.min {
                format!("\"{}\"", duration::format(up))
            } else {
                format!(
                    "\"{}\" or \"{}\"",
                    duration::format(down),
                    duration::format(up)
                )
            };
            d.attribute_error(
                path,
                "Duration not in whole seconds",
                format!(
                    "{name} = {text:?} has a fraction of a second; {}. Use {choices}.",
                    self.whole_seconds
                ),
            );
        } else if value < self.min {
            d.attribute_error(
                path,
                "Duration too short",
                format!(
                    "{name} = {text:?}: it must be at least {}; a zero {name} would fail every \
                     gate. Use e.g. \"10m\".",
                    duration::format(self.min)
                ),
            );
        }
    }
}

fn health_check(config: &Value, d: &mut Diagnostics) {
    let block = config.attr("health_check");
    if block.is_null() || block.is_unknown() {
        return;
    }
    let path = at("health_check");
    if let Some(kind) = block.string("type") {
        if kind != "EC2" && kind != "ELB" {
            d.attribute_error(
                path.attr("type"),
                "Invalid health check type",
                format!("{kind:?}: use \"EC2\" or \"ELB\"."),
            );
        }
        let no_target_groups = config
            .attr("target_group_arns")
            .elements()
            .is_none_or(<[Value]>::is_empty)
            && !config.attr("target_group_arns").is_unknown();
        if kind == "ELB" && no_target_groups {
            d.attribute_error(
                path.attr("type"),
                "ELB health checks need target groups",
                "health_check.type = \"ELB\" takes instance health from load balancers, but target_group_arns is empty.",
            );
        }
    }
    for bounds in DURATIONS {
        if let Some(text) = block.string(bounds.name) {
            bounds.check(text, d);
        }
    }
    // The timeout counts from the launch, so a bake window as long as the timeout can never
    // complete. Unset attributes take their schema defaults (10m, 0s).
    if block.string("timeout").is_some() || block.string("healthy_for").is_some() {
        let timeout = duration::parse(block.string("timeout").unwrap_or("10m"));
        let healthy_for = duration::parse(block.string("healthy_for").unwrap_or("0s"));
        if let (Ok(timeout), Ok(healthy_for)) = (timeout, healthy_for)
            && !timeout.is_zero()
            && healthy_for >= timeout
        {
            d.attribute_error(
                path.attr("healthy_for"),
                "Bake window not shorter than the timeout",
                format!(
                    "healthy_for ({}) must be shorter than timeout ({}), which counts from the \
                     launch of the new generation: the gate could never pass.",
                    duration::format(healthy_for),
                    duration::format(timeout)
                ),
            );
        }
    }
    if let Some(n) = block.attr("min_healthy_percent").as_number()
        && n.as_i64().is_none()
    {
        d.attribute_error(
            path.attr("min_healthy_percent"),
            "Invalid min_healthy_percent",
            format!("{n} is not a whole number of percent."),
        );
    }
    if let Some(p) = block.int("min_healthy_percent")
        && !(1..=100).contains(&p)
    {
        d.attribute_error(
            path.attr("min_healthy_percent"),
            "Invalid min_healthy_percent",
            format!("{p} is outside 1–100."),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (summary, detail) of every diagnostic `health_check.<name> = text` gets.
    fn duration_errors(name: &str, text: &str) -> Vec<(String, String)> {
        let mut d = Diagnostics::new();
        for bounds in DURATIONS.iter().filter(|b| b.name == name) {
            bounds.check(text, &mut d);
        }
        d.iter()
            .map(|e| (e.summary.clone(), e.detail.clone()))
            .collect()
    }

    #[test]
    fn a_grace_period_aws_cannot_hold_is_an_error() {
        let too_long = duration_errors("grace_period", "1000000h");
        assert_eq!(too_long.len(), 1, "{too_long:?}");
        assert_eq!(too_long[0].0, "Duration too long");
        assert!(
            too_long[0].1.contains("596523h14m7s (2147483647 seconds)"),
            "{too_long:?}"
        );
        assert!(duration_errors("grace_period", "596523h14m7s").is_empty());
        assert_eq!(
            duration_errors("grace_period", "596523h14m8s")[0].0,
            "Duration too long"
        );
        let fraction = duration_errors("grace_period", "1.5s");
        assert_eq!(fraction[0].0, "Duration not in whole seconds");
        assert!(
            fraction[0].1.contains("Use \"1s\" or \"2s\""),
            "{fraction:?}"
        );
        assert!(duration_errors("grace_period", "0s").is_empty());
        assert!(duration_errors("grace_period", "0.5m").is_empty());
        assert_eq!(
            limits::GRACE_PERIOD.as_secs(),
            u64::try_from(i32::MAX).unwrap_or_default()
        );
    }

    #[test]
    fn a_timeout_below_one_second_or_over_a_day_is_an_error() {
        for tiny in ["0.0001ms", "1ns", "500ms"] {
            let errors = duration_errors("timeout", tiny);
            assert_eq!(errors.len(), 1, "{tiny}: {errors:?}");
            assert!(
                errors[0].1.contains("Use \"1s\"."),
                "{tiny}: suggests the next whole second: {errors:?}"
            );
        }
        assert_eq!(duration_errors("timeout", "0s")[0].0, "Duration too short");
        assert_eq!(
            duration_errors("timeout", "24h1s")[0].0,
            "Duration too long"
        );
        for fine in ["1s", "10m", "24h", "0.1h"] {
            assert!(duration_errors("timeout", fine).is_empty(), "{fine}");
        }
        assert_eq!(
            duration_errors("healthy_for", "90ms")[0].0,
            "Duration not in whole seconds"
        );
        assert!(duration_errors("healthy_for", "0s").is_empty());
        assert_eq!(duration_errors("timeout", "ten")[0].0, "Invalid duration");
    }

    #[test]
    fn image_id_shapes() {
        assert!(is_image_id("ami-12c6146b"));
        assert!(is_image_id("ami-0123456789abcdef0"));
        assert!(!is_image_id("ami-12C6146B"));
        assert!(!is_image_id("ami-123"));
        assert!(!is_image_id("12c6146b"));
    }
}
