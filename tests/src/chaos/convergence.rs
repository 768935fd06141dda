//! The convergence invariant, checked after a scenario's final clean apply: one serving
//! generation, nothing else of the fleet but parked generations inside their window, every
//! launch template with its group, no orphaned instance, the state matching AWS, and an empty
//! next plan.

use std::collections::BTreeSet;

use super::invariants::{Invariant, Violation, inside_window, tail};
use crate::sampler::{FleetProbe, FleetSnapshot, GroupView};
use crate::{Aws, TerraformWorkdir};

/// What the final configuration says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected<'a> {
    pub fleet: &'a str,
    pub address: &'a str,
    pub image_id: &'a str,
    pub desired: u32,
    pub min_size: u32,
    pub max_size: u32,
    /// `keep_previous_for` is set: parked generations may remain inside their window.
    pub keep_previous: bool,
}

/// Every convergence violation found (none when the fleet converged).
pub fn check(aws: &Aws, workdir: &TerraformWorkdir, expected: &Expected<'_>) -> Vec<Violation> {
    let mut found = Vec::new();
    let snapshot = FleetProbe::new(expected.fleet).take(aws);
    groups(aws, &snapshot, expected, &mut found);
    if let [group] = snapshot
        .groups
        .iter()
        .filter(|g| g.state.as_deref() == Some("serving"))
        .collect::<Vec<_>>()
        .as_slice()
    {
        serving_group(aws, workdir, group, expected, &mut found);
    }
    let plan = workdir.try_run(&["plan", "-input=false", "-detailed-exitcode"]);
    if plan.code != Some(0) {
        found.push(violation(format!(
            "the next plan is not empty (exit {:?}): {}",
            plan.code,
            tail(&plan.stdout, 1200)
        )));
    }
    found
}

fn violation(detail: String) -> Violation {
    Violation {
        invariant: Invariant::Convergence,
        apply: "final".to_owned(),
        detail,
    }
}

/// One serving generation, nothing else but parked ones inside their window, templates and
/// groups one to one, no orphaned instance.
fn groups(
    aws: &Aws,
    snapshot: &FleetSnapshot,
    expected: &Expected<'_>,
    found: &mut Vec<Violation>,
) {
    let serving = snapshot
        .groups
        .iter()
        .filter(|g| g.state.as_deref() == Some("serving"))
        .count();
    let names: Vec<String> = snapshot
        .groups
        .iter()
        .map(|g| format!("{} [{}]", g.name, g.state.as_deref().unwrap_or("untagged")))
        .collect();
    if serving != 1 {
        found.push(violation(format!(
            "{serving} serving generations, expected exactly one: {names:?}"
        )));
    }
    for group in &snapshot.groups {
        let state = group.state.as_deref().unwrap_or("untagged");
        let allowed = state == "serving"
            || (expected.keep_previous && state.starts_with("parked") && inside_window(state));
        if !allowed {
            found.push(violation(format!(
                "group {} is left in state {state:?} (only one serving generation{} may remain): {names:?}",
                group.name,
                if expected.keep_previous {
                    " and parked ones inside their window"
                } else {
                    ""
                }
            )));
        }
    }
    let groups: BTreeSet<&str> = snapshot.groups.iter().map(|g| g.name.as_str()).collect();
    let templates: BTreeSet<&str> = snapshot.templates.iter().map(String::as_str).collect();
    if groups != templates {
        found.push(violation(format!(
            "launch templates {templates:?} do not match the groups {groups:?}"
        )));
    }
    let in_groups: BTreeSet<String> = snapshot
        .groups
        .iter()
        .flat_map(GroupView::instance_ids)
        .collect();
    let live: BTreeSet<String> = aws
        .live_instances_of_fleet(expected.fleet)
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    let orphans: Vec<&String> = live.difference(&in_groups).collect();
    if !orphans.is_empty() {
        found.push(violation(format!(
            "instances outside every group of the fleet: {orphans:?}"
        )));
    }
}

/// The serving group has the configured sizes and image, and the state points at it.
fn serving_group(
    aws: &Aws,
    workdir: &TerraformWorkdir,
    group: &GroupView,
    expected: &Expected<'_>,
    found: &mut Vec<Violation>,
) {
    let want = i32::try_from(expected.desired).unwrap_or(i32::MAX);
    if group.desired != want
        || group.min != i32::try_from(expected.min_size).unwrap_or(i32::MAX)
        || group.max != i32::try_from(expected.max_size).unwrap_or(i32::MAX)
        || group.in_service() != usize::try_from(want).unwrap_or(0)
    {
        found.push(violation(format!(
            "serving group {}: desired {} min {} max {} with {} in service, configured desired {} min {} max {}",
            group.name,
            group.desired,
            group.min,
            group.max,
            group.in_service(),
            expected.desired,
            expected.min_size,
            expected.max_size
        )));
    }
    let template_id = aws.asg(&group.name).and_then(|asg| {
        asg.launch_template()
            .and_then(|lt| lt.launch_template_id())
            .map(str::to_owned)
    });
    let image = template_id
        .as_deref()
        .and_then(|id| aws.launch_template_image(id));
    if image.as_deref() != Some(expected.image_id) {
        found.push(violation(format!(
            "serving group {} runs {image:?} (template {template_id:?}), configured {}",
            group.name, expected.image_id
        )));
    }
    match workdir.state_values(expected.address) {
        None => found.push(violation(format!(
            "{} is not in the state",
            expected.address
        ))),
        Some(values) => {
            let mismatch = values["id"] != group.name.as_str()
                || values["launch_template_id"].as_str() != template_id.as_deref()
                || values["image_id"] != expected.image_id
                || values["desired_capacity"] != expected.desired;
            let leftovers = values["leftovers"]
                .as_array()
                .is_some_and(|list| !list.is_empty());
            if mismatch || leftovers {
                found.push(violation(format!(
                    "the state does not match AWS (group {}, template {template_id:?}): id {} \
                     launch_template_id {} image_id {} desired_capacity {} leftovers {}",
                    group.name,
                    values["id"],
                    values["launch_template_id"],
                    values["image_id"],
                    values["desired_capacity"],
                    values["leftovers"]
                )));
            }
        }
    }
}
