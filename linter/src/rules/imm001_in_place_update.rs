use std::fmt::Write as _;

use crate::finding::{Finding, PathReport, list_paths};
use crate::plan::{ChangeKind, Plan, ResourceChange};
use crate::registry::{RuleInfo, declare_rule};
use crate::rules::check::{Context, Rule};
use crate::rules::launch_templates::{self, ConfigLinks, TemplateChange};
use crate::rules::util::{change_paths_and_after, raw_may_contain, reports};

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
    /// **Launch template changes behind `$Latest`/`$Default`.** An `aws_autoscaling_group`
    /// whose `launch_template` (or `mixed_instances_policy` launch template specification)
    /// launches version `$Latest` shows no change in the plan when its template gets a new
    /// version, yet every instance it launches from then on runs that version. Such a group
    /// is reported as updated in place, at the group, naming the template change. The same
    /// holds for `$Default` (and for no version at all, which AWS reads as `$Default`) when
    /// the template moves its default version: `update_default_version = true` with a
    /// change that makes a new version, or a changed `default_version`. A template update
    /// makes a new version when the plan marks its `latest_version` known only after apply
    /// (what the AWS provider does) or changes anything but tags, description and the
    /// version settings; a replaced template with the same name counts too.
    ///
    /// The group and the template are linked by known values first: the group's template
    /// `id` or `name` equals the template's. When either side is unknown, by the plan's
    /// `configuration`: the group's `id`/`name` (or `launch_template_id`/`launch_template_name`)
    /// expression refers to the `aws_launch_template`, in the same module instance (and with
    /// the same count/for_each key when the template has one). Not detected: a group whose
    /// own update of the same block is already reported (that finding stands for both); a
    /// template that is not in the plan (managed elsewhere, or read through a data source);
    /// references that pass through module variables or outputs while the values are
    /// unknown; `aws_instance`, `aws_ec2_fleet` and `aws_spot_fleet_request` (an instance
    /// launched from a template keeps its version, and fleets are not followed);
    /// other providers' templates. An `instance_refresh` block does not exempt the group:
    /// the AWS provider starts a refresh only when the group's own launch template settings
    /// change, never for a new version behind `$Latest` (its documentation says so).
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
    ///
    /// ### Configuration mode
    /// Yes, where the configuration alone decides that a later change will be made in place
    /// to a server that reads the value only at first boot:
    ///
    /// - `aws_instance` with `user_data` or `user_data_base64` and without
    ///   `user_data_replace_on_change = true`;
    /// - `google_compute_instance` whose `metadata` sets `startup-script` or `user-data`
    ///   (`metadata_startup_script` forces a replacement instead).
    ///
    /// Which other attributes change in place is decided per change by the provider, so the
    /// rest of this rule needs a plan.
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
        out.extend(in_place_update(ctx, rc));
    }

    fn check_config(
        &self,
        _ctx: &Context<'_>,
        resource: &crate::config_resource::ConfigResource,
        out: &mut Vec<Finding>,
    ) {
        Self::config_form(resource, out);
    }

    fn check_plan(&self, ctx: &Context<'_>, plan: &Plan<'_>, out: &mut Vec<Finding>) {
        // Groups first: most launch a pinned version, and then no template needs a look.
        let groups: Vec<_> = plan
            .resource_changes
            .iter()
            .filter_map(|rc| moving_group(ctx, rc))
            .collect();
        if groups.is_empty() {
            return;
        }
        let templates: Vec<TemplateChange<'_, '_>> = plan
            .resource_changes
            .iter()
            .filter_map(|rc| launch_templates::template_change(ctx.catalog, rc))
            .collect();
        if templates.is_empty() {
            return;
        }
        let config = ConfigLinks::of(plan.configuration.as_ref());
        for (group, specs) in groups {
            out.extend(template_reaches_group(
                ctx, group, specs, &templates, &config,
            ));
        }
    }
}

/// An `aws_autoscaling_group` left in place whose launch template specifications launch
/// `$Latest` or `$Default`, with them.
fn moving_group<'p, 'a>(
    ctx: &Context<'_>,
    group: &'p ResourceChange<'a>,
) -> Option<(&'p ResourceChange<'a>, Vec<launch_templates::Spec>)> {
    if group.type_name != "aws_autoscaling_group" || ctx.type_info(group).is_none() {
        return None;
    }
    if !matches!(group.change.kind(), ChangeKind::NoOp | ChangeKind::Update) {
        return None;
    }
    let raw = group.change.after?;
    // A pinned version (`"version":"7"`) is the common case: only a `$Latest`, a `$Default`
    // or a version left out (null or missing) needs a closer look.
    let text = raw.get();
    if !raw_may_contain(
        raw,
        &[
            "$latest",
            "$default",
            "\"version\":null",
            "\"version\": null",
        ],
    ) && text.contains("\"version\"")
    {
        return None;
    }
    let specs = launch_templates::moving_specs_of(raw);
    (!specs.is_empty()).then_some((group, specs))
}

/// The finding about a group that launches `$Latest`/`$Default` of a template this plan
/// changes, unless the group's own change already tells.
fn template_reaches_group(
    ctx: &Context<'_>,
    group: &ResourceChange<'_>,
    specs: Vec<launch_templates::Spec>,
    templates: &[TemplateChange<'_, '_>],
    config: &ConfigLinks,
) -> Option<Finding> {
    let kind = group.change.kind();
    let mut causes = Vec::new();
    let mut paths = Vec::new();
    for spec in specs {
        for template in templates {
            let moves = match spec.version {
                "$Latest" => template.new_version,
                _ => template.moves_default,
            };
            if !moves || !launch_templates::links(group, &spec, template, config) {
                continue;
            }
            let what = match (template.replaced(), spec.version) {
                (true, _) => "is replaced by a new template of the same name".to_owned(),
                (false, "$Latest") => "gets a new version".to_owned(),
                (false, _) => "gets a new default version".to_owned(),
            };
            let changed = if template.paths.is_empty() {
                String::new()
            } else {
                format!(" ({})", list_paths(&template.paths, 6))
            };
            causes.push(format!(
                "{} {what}{changed} and the group launches {}",
                template.rc.address, spec.version
            ));
            if !paths.iter().any(|p: &PathReport| p.path == spec.path) {
                paths.push(PathReport {
                    path: spec.path.to_owned(),
                    known_after_apply: false,
                    sensitive: false,
                });
            }
        }
    }
    if causes.is_empty() {
        return None;
    }
    if kind == ChangeKind::Update {
        let (paths, _) = change_paths_and_after(&group.change);
        let own_template_change = paths
            .iter()
            .any(|p| p.starts_with("launch_template") || p.starts_with("mixed_instances_policy"));
        // Reported (or rolled out) as the group's own update.
        if own_template_change || in_place_update(ctx, group).is_some() {
            return None;
        }
    }
    let message = format!(
        "{} would be updated in place: {}; instances launched from now on differ from the running ones",
        group.address,
        causes.join("; ")
    );
    Some(
        Finding::for_change(&InPlaceUpdate::INFO, group, message)
            .with_paths(paths)
            .with_help(
                "launch a pinned version (version = aws_launch_template.NAME.latest_version), so a \
                 template change is an update of the group that the plan shows and an \
                 instance_refresh block rolls out (a refresh never starts for $Latest or \
                 $Default), or use an immutable_fleet, which replaces itself on every baked change",
            ),
    )
}

/// IMM001 on one resource change.
fn in_place_update(ctx: &Context<'_>, rc: &ResourceChange<'_>) -> Option<Finding> {
    if rc.change.kind() != ChangeKind::Update {
        return None;
    }
    let info = ctx.type_info(rc)?;
    if !info.kind.bears_instances() {
        return None;
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
        return None;
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
    Some(
        Finding::for_change(&InPlaceUpdate::INFO, rc, message)
            .with_paths(paths)
            .with_help(help),
    )
}
