use crate::catalog::Catalog;
use crate::finding::{Finding, list_paths};
use crate::plan::{ChangeKind, ResourceChange};
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use crate::rules::util::{change_paths, reports};

declare_rule! {
    /// ### What it does
    /// Flags an entry of the plan's `resource_drift` on an instance-bearing resource (or a
    /// launch template): Terraform found that the object changed, or disappeared, outside of
    /// Terraform since the last apply. The finding lists the drifted attribute paths (values
    /// of sensitive attributes are never printed). Drift on other resource types is not
    /// reported.
    ///
    /// A group's capacity is not drift: an autoscaler, a scheduled action or an operator
    /// moves `desired_capacity` (and `min_size`/`max_size`, `target_size`, `instances`, … —
    /// the capacity attributes of each group type in the catalogue) without touching a
    /// running instance, and an `immutable_fleet` without `desired_capacity` leaves it to
    /// scaling policies on purpose. Drift of only those attributes is not reported; drift of
    /// anything else on the same group (its launch template, image, user data, tags) still
    /// is, and the finding then lists only the other attributes.
    ///
    /// ### Why is this bad?
    /// Someone changed a server by hand, with a script or from the console. That is exactly
    /// how snowflakes begin: the running instance no longer matches its image and code, and
    /// the next apply either silently reverts the hotfix or keeps a state nobody reviewed.
    /// The fix is to replace the drifted object from its declared image, and to find out who
    /// changed it and why.
    ///
    /// ### Example
    /// ```text
    /// Note: Objects have changed outside of Terraform
    ///   # aws_instance.web has changed
    ///   ~ resource "aws_instance" "web" {
    ///       ~ instance_type = "t3.small" -> "t3.large"
    ///     }
    /// ```
    ///
    /// Use instead:
    /// ```sh
    /// # restore the declared state by replacing, not by patching in place
    /// terraform apply -replace=aws_instance.web
    /// ```
    /// and remove write access that lets people change instances outside the pipeline.
    ///
    /// ### Configuration mode
    /// No: drift is a difference between the state and the real objects, which only
    /// `terraform plan` (with credentials) sees.
    pub struct OutOfBandDrift {
        code: "IMM007",
        name: "out-of-band-drift",
        severity: Warning,
        summary: "an instance-bearing resource was changed outside of Terraform",
    }
}

impl Rule for OutOfBandDrift {
    fn info(&self) -> &'static RuleInfo {
        &Self::INFO
    }

    fn check_drift(&self, ctx: &Context<'_>, rc: &ResourceChange<'_>, out: &mut Vec<Finding>) {
        if ctx.type_info(rc).is_none() {
            return;
        }
        let message = match rc.change.kind() {
            ChangeKind::Delete => format!("{} was deleted outside of Terraform", rc.address),
            ChangeKind::NoOp | ChangeKind::Read => return,
            _ => {
                let mut changed = change_paths(&rc.change);
                changed.retain(|p| !Catalog::is_capacity(&rc.type_name, p));
                let paths = reports(&changed);
                if paths.is_empty() {
                    return;
                }
                let message = format!(
                    "{} was changed outside of Terraform: {}",
                    rc.address,
                    list_paths(&paths, 8)
                );
                out.push(
                    Finding::for_change(&Self::INFO, rc, message)
                        .with_paths(paths)
                        .with_help(format!(
                            "replace it from its declared image (terraform apply -replace={}) and find out who changed it",
                            rc.address
                        )),
                );
                return;
            }
        };
        out.push(
            Finding::for_change(&Self::INFO, rc, message).with_help(
                "find out who deleted it; the plan recreates it from its declared image",
            ),
        );
    }
}
