use std::fmt::Write as _;

use crate::finding::{Finding, list_paths};
use crate::plan::{ChangeKind, ResourceChange};
use crate::rules::util::{change_paths_and_after, reports};
use crate::rules::{Context, Rule, RuleInfo, declare_rule};

declare_rule! {
    /// ### What it does
    /// Flags a plan that updates an instance-bearing resource in place (`actions: ["update"]`)
    /// when the changed attributes are not all benign. Instance-bearing resources are servers,
    /// VMs and groups of them: `aws_instance`, `aws_autoscaling_group`,
    /// `google_compute_instance`, `azurerm_linux_virtual_machine`, `immutable_fleet` and the
    /// rest of the built-in catalogue (`immutable-lint --list-types` prints it; the
    /// config file extends it). Benign attributes are tags, labels, descriptions, group
    /// capacity and settings only Terraform reads.
    ///
    /// The finding lists every changed attribute path, nested (`metadata_options.http_tokens`,
    /// `tags.env`), and marks the ones whose new value is known only after apply: an unknown
    /// value is reported as such, never assumed to be harmless. Sensitive attributes are named
    /// but their values are never printed.
    ///
    /// With `--strict` (or `strict = true` in `.immutable-lint.toml`) every update of an
    /// instance-bearing resource is a finding, benign attributes included.
    ///
    /// Group changes that the group itself rolls out by replacing instances are not in-place:
    /// an `aws_autoscaling_group` with an `instance_refresh` block may change its launch
    /// template, and a GCP managed instance group with a `PROACTIVE` update policy its
    /// version.
    ///
    /// ### Why is this bad?
    /// An in-place update turns a known server into a snowflake: its running state is now the
    /// sum of its image and every change applied since. The next instance launched from the
    /// same image will differ, a failed update leaves a half-changed server, and there is no
    /// instant rollback. On an Auto Scaling group, an in-place launch template change only
    /// affects instances launched later, so the fleet runs two versions at once.
    ///
    /// ### Example
    /// ```text
    /// # terraform plan
    ///   # aws_instance.web will be updated in-place
    ///   ~ resource "aws_instance" "web" {
    ///       ~ user_data_base64 = "IyEvYmluL3No..." -> "IyEvYmluL2Jh..."
    ///     }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "aws_instance" "web" {
    ///   ami                         = data.aws_ami.release.id  # bake changes into the image
    ///   user_data_replace_on_change = true                      # a change replaces, never mutates
    ///   lifecycle {
    ///     create_before_destroy = true
    ///   }
    /// }
    /// ```
    /// or an `immutable_fleet`, which replaces itself behind a health gate on every baked
    /// change. If an attribute is harmless for your fleet, declare it benign:
    /// ```toml
    /// [catalog]
    /// benign = { aws_instance = ["monitoring"] }
    /// ```
    pub struct InPlaceUpdate {
        code: "IMM001",
        name: "in-place-update",
        severity: Error,
        summary: "an instance-bearing resource would be updated in place",
    }
}

impl Rule for InPlaceUpdate {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_change(&self, ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if rc.change.kind() != ChangeKind::Update {
            return;
        }
        let Some(info) = ctx.type_info(rc) else {
            return;
        };
        if !info.kind.bears_instances() {
            return;
        }
        let (all, after) = change_paths_and_after(&rc.change);
        let flagged: Vec<_> = if ctx.strict {
            all.clone()
        } else {
            all.iter()
                .filter(|p| !ctx.catalog.is_benign(&rc.type_name, p, after.as_ref()))
                .cloned()
                .collect()
        };
        if flagged.is_empty() && !all.is_empty() {
            return;
        }
        let paths = reports(&flagged);
        let message = if paths.is_empty() {
            // Nothing visible changes (write-only or provider-private data): still an update.
            format!(
                "{} would be updated in place, but the plan shows no changed attribute \
                 (the change is in write-only or provider-private data)",
                rc.address
            )
        } else {
            format!(
                "{} would be updated in place: {}",
                rc.address,
                list_paths(&paths, 8)
            )
        };
        let unknown = paths.iter().filter(|p| p.known_after_apply).count();
        let mut help = String::from(
            "bake the change into a new image and replace the resource \
             (lifecycle { create_before_destroy = true }), or make these attributes force replacement",
        );
        if unknown > 0 {
            help.push_str(
                "; values known only after apply cannot be proven benign, so they are reported",
            );
        }
        if !ctx.strict {
            let _ = write!(
                help,
                "; if an attribute is harmless, declare it benign in the config file ([catalog] benign.{})",
                rc.type_name
            );
        }
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help(help),
        );
    }
}
