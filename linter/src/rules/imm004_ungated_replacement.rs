use serde_json::Value;

use crate::config_resource::ConfigResource;
use crate::finding::{Finding, PathReport};
use crate::plan::ResourceChange;
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use crate::rules::util::{SensitiveNodes, blocks, int_at};

declare_rule! {
    /// ### What it does
    /// Flags a fleet that is replaced (either order of `create`/`delete`) while nothing waits
    /// for the new instances to be healthy before the old ones go:
    ///
    /// - `immutable_fleet` with the health gate disabled (`health_check { min_healthy_percent = 0 }`);
    /// - `aws_autoscaling_group` with `wait_for_capacity_timeout = "0"`, which makes Terraform
    ///   skip every capacity wait, the ELB ones (`wait_for_elb_capacity`, `min_elb_capacity`)
    ///   included;
    /// - a GCP managed instance group (`google_compute_instance_group_manager`,
    ///   `google_compute_region_instance_group_manager`) without `wait_for_instances = true`.
    ///
    /// Values known only after apply are not guessed at: the rule reads planned values only.
    ///
    /// ### Why is this bad?
    /// Create-before-destroy only helps if "create" means "the new fleet serves". Without a
    /// health gate, Terraform considers the new group created as soon as the API accepted it
    /// and destroys the old one while the new instances are still booting — or crash-looping
    /// on a bad image. The replacement is then an outage.
    ///
    /// ### Example
    /// ```hcl
    /// resource "aws_autoscaling_group" "web" {
    ///   name_prefix               = "web-"
    ///   min_size                  = 2
    ///   max_size                  = 4
    ///   wait_for_capacity_timeout = "0"
    ///   lifecycle {
    ///     create_before_destroy = true
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_autoscaling_group" "web" {
    ///   name_prefix               = "web-"
    ///   min_size                  = 2
    ///   max_size                  = 4
    ///   wait_for_capacity_timeout = "10m"
    ///   wait_for_elb_capacity     = 2   # healthy in the load balancer, not just running
    ///   lifecycle {
    ///     create_before_destroy = true
    ///   }
    /// }
    /// ```
    ///
    /// ### Configuration mode
    /// Yes. The same settings are read from the `resource` block, and a fleet without a gate
    /// is flagged whether or not a replacement is planned now: its next one will be ungated.
    /// A setting that is not a literal (or a literal variable default, local or tfvars value)
    /// is not guessed at: the block is not checked, and `--verbose` says so.
    pub struct UngatedReplacement {
        code: "IMM004",
        name: "ungated-replacement",
        severity: Warning,
        summary: "a fleet would be replaced without waiting for the new instances to be healthy",
    }
}

/// Whether a duration string such as `"0"`, `"0s"` or `"0m"` is zero.
fn is_zero_duration(text: &str) -> bool {
    let digits = text
        .trim()
        .trim_end_matches(|c: char| c.is_ascii_alphabetic());
    !digits.is_empty() && digits.chars().all(|c| c == '0' || c == '.')
}

/// The types [`ungated`] knows a health gate of.
const GATED_TYPES: &[&str] = &[
    "immutable_fleet",
    "aws_autoscaling_group",
    "google_compute_instance_group_manager",
    "google_compute_region_instance_group_manager",
];

/// Why the replacement is ungated, and the attribute that says so.
fn ungated(
    type_name: &str,
    after: &Value,
    sensitive: &SensitiveNodes,
) -> Option<(String, &'static str)> {
    match type_name {
        "immutable_fleet" => {
            let gate = blocks(after, "health_check");
            let percent = gate.first().and_then(|g| int_at(g, "min_healthy_percent"));
            (percent == Some(0)).then(|| {
                (
                    "its health gate is disabled (min_healthy_percent = 0)".to_owned(),
                    "health_check.min_healthy_percent",
                )
            })
        }
        "aws_autoscaling_group" => {
            let node = after.get("wait_for_capacity_timeout")?;
            let timeout = node.as_str()?;
            is_zero_duration(timeout).then(|| {
                (
                    format!(
                        "wait_for_capacity_timeout = {} skips every capacity and ELB health wait",
                        sensitive.quote(node, timeout)
                    ),
                    "wait_for_capacity_timeout",
                )
            })
        }
        "google_compute_instance_group_manager"
        | "google_compute_region_instance_group_manager" => {
            let waits = after.get("wait_for_instances").and_then(Value::as_bool) == Some(true);
            (!waits).then(|| {
                (
                    "Terraform does not wait for its instances (wait_for_instances is not true)"
                        .to_owned(),
                    "wait_for_instances",
                )
            })
        }
        _ => None,
    }
}

impl Rule for UngatedReplacement {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_change(&self, ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if !rc.change.kind().is_replace() || ctx.type_info(rc).is_none() {
            return;
        }
        // Only these types have a gate to read: spare the others a parse of `after`.
        if !GATED_TYPES.contains(&rc.type_name.as_ref()) {
            return;
        }
        let Some(after) = rc.change.after_value() else {
            return;
        };
        let sensitive = SensitiveNodes::of(&after, &rc.change);
        let Some((why, path)) = ungated(&rc.type_name, &after, &sensitive) else {
            return;
        };
        let message = format!(
            "{} would be replaced without a health gate: {why}",
            rc.address
        );
        let paths = vec![PathReport {
            path: path.to_owned(),
            known_after_apply: false,
            sensitive: false,
        }];
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help(HELP),
        );
    }

    fn check_config(&self, _ctx: &Context<'_>, resource: &ConfigResource, out: &mut Vec<Finding>) {
        Self::config(resource, out);
    }
}

impl UngatedReplacement {
    /// The configuration form, called by [`Rule::check_config`].
    fn config(resource: &ConfigResource, out: &mut Vec<Finding>) {
        let gate = match resource.type_name.as_str() {
            "immutable_fleet" => "health_check.min_healthy_percent",
            "aws_autoscaling_group" => "wait_for_capacity_timeout",
            t if GATED_TYPES.contains(&t) => "wait_for_instances",
            _ => return,
        };
        if resource.skips_on(&Self::INFO, gate) {
            return;
        }
        let Some((why, path)) = ungated(
            &resource.type_name,
            &resource.value,
            &SensitiveNodes::default(),
        ) else {
            return;
        };
        let message = format!(
            "{} has no health gate for its replacements: {why}",
            resource.address
        );
        out.push(
            Finding::for_config(&Self::INFO, resource, message)
                .with_config_paths([path])
                .with_help(HELP),
        );
    }
}

const HELP: &str = "make Terraform wait until the new instances pass health checks before the old ones are destroyed";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zero_durations() {
        assert!(is_zero_duration("0"));
        assert!(is_zero_duration("0s"));
        assert!(is_zero_duration("0m"));
        assert!(!is_zero_duration("10m"));
        assert!(!is_zero_duration(""));
    }

    #[test]
    fn gates() {
        let none = SensitiveNodes::default();
        let ungated = |t: &str, v: &Value| ungated(t, v, &none);
        assert!(
            ungated(
                "immutable_fleet",
                &json!({"health_check": {"min_healthy_percent": 0}})
            )
            .is_some()
        );
        assert!(
            ungated(
                "immutable_fleet",
                &json!({"health_check": [{"min_healthy_percent": 50}]})
            )
            .is_none()
        );
        assert!(ungated("immutable_fleet", &json!({"health_check": null})).is_none());
        assert!(
            ungated(
                "aws_autoscaling_group",
                &json!({"wait_for_capacity_timeout": "0"})
            )
            .is_some()
        );
        assert!(
            ungated(
                "aws_autoscaling_group",
                &json!({"wait_for_capacity_timeout": "10m"})
            )
            .is_none()
        );
        assert!(
            ungated(
                "google_compute_instance_group_manager",
                &json!({"wait_for_instances": true})
            )
            .is_none()
        );
        assert!(ungated("google_compute_instance_group_manager", &json!({})).is_some());
    }
}
