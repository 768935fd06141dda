use crate::catalog::Kind;
use crate::config_resource::{ConfigResource, Unknown};
use crate::finding::{Finding, PathReport};
use crate::plan::{ChangeKind, ResourceChange};
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use std::fmt::Write as _;

declare_rule! {
    /// ### What it does
    /// Flags the replacement of an instance-bearing resource ordered destroy-first: the plan's
    /// action list is `["delete", "create"]` (Terraform prints "-/+ destroy and then create
    /// replacement"). The finding says why Terraform replaces the resource (`action_reason`:
    /// an attribute that cannot be updated, a taint, `-replace`, `replace_triggered_by`) and
    /// which attributes force it (`replace_paths`).
    ///
    /// The plan JSON does not contain `lifecycle` settings; the order of the actions is the
    /// only evidence, and it is exact: `["create", "delete"]` is create-before-destroy.
    ///
    /// ### Why is this bad?
    /// Between the destroy and the end of the create, the server or fleet does not exist:
    /// that is downtime on every replacement, and if the create fails (bad image, quota, a
    /// failed health gate) nothing is left serving. Immutable infrastructure replaces
    /// instead of mutating, so replacements must be safe: the new object first, then the old
    /// one removed.
    ///
    /// ### Example
    /// ```hcl
    /// resource "immutable_fleet" "web" {
    ///   name          = "web"
    ///   image_id      = var.image_id
    ///   instance_type = "t3.small"
    ///   subnet_ids    = var.subnet_ids
    ///   min_size      = 2
    ///   max_size      = 4
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```hcl
    /// resource "immutable_fleet" "web" {
    ///   name          = "web"
    ///   image_id      = var.image_id
    ///   instance_type = "t3.small"
    ///   subnet_ids    = var.subnet_ids
    ///   min_size      = 2
    ///   max_size      = 4
    ///
    ///   lifecycle {
    ///     create_before_destroy = true
    ///   }
    /// }
    /// ```
    /// For resources with a unique name (an Auto Scaling group, a VM name), use a name prefix
    /// or a generated suffix so old and new can exist at the same time.
    ///
    /// ### Configuration mode
    /// Yes. Every `resource` block of an instance-bearing type without
    /// `lifecycle { create_before_destroy = true }` is flagged: whatever forces its next
    /// replacement, that replacement will destroy first. (The configuration cannot say whether
    /// a replacement is planned now; a plan can.) Terraform also turns create-before-destroy on
    /// for a resource when a resource that depends on it has it; configuration mode does not
    /// follow references, so such a resource is still reported: set it explicitly.
    pub struct DestroyBeforeCreate {
        code: "IMM002",
        name: "destroy-before-create",
        severity: Error,
        summary: "an instance-bearing resource would be destroyed before its replacement exists",
    }
}

/// Terraform's `action_reason` for a replacement, in words.
pub(crate) fn reason_text(reason: Option<&str>) -> Option<&'static str> {
    Some(match reason? {
        "replace_because_cannot_update" => "an attribute that cannot be updated in place changes",
        "replace_because_tainted" => "the object is tainted",
        "replace_by_request" => "it was requested with -replace",
        "replace_by_triggers" => "replace_triggered_by fired",
        _ => return None,
    })
}

impl Rule for DestroyBeforeCreate {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_change(&self, ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if rc.change.kind() != ChangeKind::ReplaceDestroyFirst {
            return;
        }
        let Some(info) = ctx.type_info(rc) else {
            return;
        };
        if !info.kind.bears_instances() {
            return;
        }
        let paths: Vec<PathReport> = rc
            .change
            .replace_paths()
            .into_iter()
            .map(|path| PathReport {
                path,
                known_after_apply: false,
                sensitive: false,
            })
            .collect();
        let mut message = format!(
            "{} would be destroyed before its replacement is created",
            rc.address
        );
        if let Some(reason) = reason_text(rc.action_reason.as_deref()) {
            let _ = write!(message, " (replaced because {reason}");
            if !paths.is_empty() {
                let names: Vec<&str> = paths.iter().map(|p| p.path.as_str()).collect();
                let _ = write!(message, ": {}", names.join(", "));
            }
            message.push(')');
        } else if !paths.is_empty() {
            let names: Vec<&str> = paths.iter().map(|p| p.path.as_str()).collect();
            let _ = write!(message, " (replacement forced by {})", names.join(", "));
        }
        let help = help(info.kind, &rc.type_name);
        out.push(
            Finding::for_change(&Self::INFO, rc, message)
                .with_paths(paths)
                .with_help(help),
        );
    }

    fn check_config(&self, ctx: &Context<'_>, resource: &ConfigResource, out: &mut Vec<Finding>) {
        let Some(info) = ctx.catalog.get(&resource.type_name) else {
            return;
        };
        if !info.kind.bears_instances() {
            return;
        }
        match &resource.create_before_destroy {
            Ok(true) => return,
            Ok(false) => {}
            Err(Unknown(why)) => {
                resource.log_skip(&Self::INFO, "lifecycle.create_before_destroy", why);
                return;
            }
        }
        let message = format!(
            "{} has no `lifecycle {{ create_before_destroy = true }}`: its next replacement would destroy it before the new one exists",
            resource.address
        );
        out.push(
            Finding::for_config(&Self::INFO, resource, message)
                .with_config_paths(["lifecycle.create_before_destroy"])
                .with_help(help(info.kind, &resource.type_name)),
        );
    }
}

fn help(kind: Kind, type_name: &str) -> String {
    let mut help =
        String::from("add `lifecycle { create_before_destroy = true }` to the resource block");
    if kind == Kind::Group && type_name != "immutable_fleet" {
        help.push_str("; give the group a name prefix so old and new generations can coexist");
    }
    help
}
