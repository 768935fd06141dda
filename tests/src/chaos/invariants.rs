//! The invariants a run checks: capacity while every apply runs, convergence after the final
//! clean apply, no panic and no failure without a diagnostic. Each check returns the
//! violations it found; RELIABILITY.md states them in words.

use std::fmt;
use std::time::SystemTime;

use crate::TfOutput;
use crate::sampler::{FleetSnapshot, GroupView, Sample};
use crate::timestamp::parse_rfc3339;

/// The invariants, as counted in the campaign table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Invariant {
    Capacity,
    Convergence,
    NoPanic,
    Diagnostic,
}

impl Invariant {
    pub const ALL: [Invariant; 4] = [
        Invariant::Capacity,
        Invariant::Convergence,
        Invariant::NoPanic,
        Invariant::Diagnostic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Invariant::Capacity => "capacity",
            Invariant::Convergence => "convergence",
            Invariant::NoPanic => "no-panic",
            Invariant::Diagnostic => "diagnostic",
        }
    }
}

/// One broken invariant, with where and the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub invariant: Invariant,
    /// Which apply (`apply 2 (re-apply after crash)`, `final`).
    pub apply: String,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} violated in {}: {}",
            self.invariant.name(),
            self.apply,
            self.detail
        )
    }
}

/// Whether a group's `immutable:state` says it is parked (detached, not serving).
fn parked(group: &GroupView) -> bool {
    group
        .state
        .as_deref()
        .is_some_and(|state| state.starts_with("parked"))
}

/// Instances that serve in a sample: in a group of the fleet that is not parked, InService and
/// Healthy there and, when the fleet has target groups, `healthy` in each of them (as the
/// sampler's view reports it).
pub fn serving(snapshot: &FleetSnapshot) -> Vec<String> {
    snapshot.serving_instances_in(|g| !parked(g))
}

/// The full desired capacity of the fleet's serving generation in a sample: its desired, or
/// the one its `shrunk … desired=N` state records. `None` when no generation serves.
pub fn serving_target(snapshot: &FleetSnapshot) -> Option<u32> {
    snapshot
        .groups
        .iter()
        .filter_map(|g| {
            let state = g.state.as_deref()?;
            if state == "serving" {
                u32::try_from(g.desired).ok()
            } else if state.starts_with("shrunk") {
                state
                    .split_whitespace()
                    .find_map(|part| part.strip_prefix("desired="))
                    .and_then(|n| n.parse().ok())
            } else {
                None
            }
        })
        .max()
}

/// The floor: ceil(`min_healthy_percent` × `target` / 100).
pub fn floor(min_healthy_percent: u32, target: u32) -> usize {
    usize::try_from((min_healthy_percent * target).div_ceil(100)).unwrap_or(usize::MAX)
}

/// The capacity invariant over one apply's samples. `target` is the smaller of the serving
/// generation's full capacity before the apply and the configured `desired_capacity`; the
/// apply may never take the serving instances below min(floor, what served at its start).
/// Skipped (`None`) when no generation served at the start: the fleet is being created.
pub fn capacity(
    apply: &str,
    samples: &[Sample<FleetSnapshot>],
    min_healthy_percent: u32,
    configured: u32,
) -> Option<Violation> {
    let first = samples.first()?;
    let before = serving_target(&first.value)?;
    let target = before.min(configured);
    let needed = floor(min_healthy_percent, target);
    let at_start = serving(&first.value).len();
    let bound = needed.min(at_start);
    let t0 = first.at;
    let low = samples
        .iter()
        .find(|sample| serving(&sample.value).len() < bound)?;
    let count = serving(&low.value).len();
    Some(Violation {
        invariant: Invariant::Capacity,
        apply: apply.to_owned(),
        detail: format!(
            "{count} serving instance(s) at +{:.1}s, below min({needed} = {min_healthy_percent}% \
             of target {target}, {at_start} serving at the start); sample: {}",
            low.at.saturating_duration_since(t0).as_secs_f64(),
            describe(&low.value)
        ),
    })
}

/// A sample in one line: each group's name, state, desired and instances.
pub fn describe(snapshot: &FleetSnapshot) -> String {
    let groups: Vec<String> = snapshot
        .groups
        .iter()
        .map(|g| {
            let instances: Vec<String> = g
                .instances
                .iter()
                .map(|i| format!("{} {}/{}", i.id, i.lifecycle, i.health))
                .collect();
            format!(
                "{} [{}] desired {} min {} max {} tgs {} ({})",
                g.name,
                g.state.as_deref().unwrap_or("untagged"),
                g.desired,
                g.min,
                g.max,
                g.target_groups.len(),
                instances.join(", ")
            )
        })
        .collect();
    let targets: Vec<String> = snapshot
        .targets
        .iter()
        .flat_map(|(_, targets)| targets.iter().map(|(id, state)| format!("{id}={state}")))
        .collect();
    format!(
        "groups: {}; targets: {}",
        groups.join(" | "),
        targets.join(" ")
    )
}

/// No panic: neither the provider's log nor Terraform's output mentions one.
pub fn no_panic(apply: &str, log: &str, output: &TfOutput) -> Option<Violation> {
    let text = format!("{log}\n{}\n{}", output.stdout, output.stderr);
    let line = text
        .lines()
        .find(|line| line.contains("panicked") || line.contains("panic: "))?;
    Some(Violation {
        invariant: Invariant::NoPanic,
        apply: apply.to_owned(),
        detail: line.trim().to_owned(),
    })
}

/// A failed command carries at least one `Error: <summary>` diagnostic — unless the campaign
/// interrupted (`crashed`: Ctrl-C or SIGKILL) a Terraform that had not yet printed anything and
/// before any provider logged a line (`log`, the apply's `TF_LOG_PATH` file with
/// `TF_LOG_PROVIDER`): a Ctrl-C in Terraform's first ~100 ms ends it (or `.venv`'s Python
/// wrapper around it) before its handler is installed — by the signal, or with exit 255 —
/// nothing has run, and there is no error to report (seed 82). A Terraform that is running has
/// printed its first lines, so every other failure still needs its diagnostic.
pub fn diagnostic(apply: &str, output: &TfOutput, log: &str, crashed: bool) -> Option<Violation> {
    let never_started = crashed
        && log.trim().is_empty()
        && output.stdout.trim().is_empty()
        && output.stderr.trim().is_empty();
    if output.success() || never_started {
        return None;
    }
    let has_summary = output.stderr.lines().any(|line| {
        line.trim_start_matches(['│', ' '])
            .strip_prefix("Error: ")
            .is_some_and(|summary| !summary.trim().is_empty())
    });
    (!has_summary).then(|| Violation {
        invariant: Invariant::Diagnostic,
        apply: apply.to_owned(),
        detail: format!(
            "terraform exited {:?} without an `Error: <summary>` diagnostic; stderr: {}",
            output.code,
            tail(&output.stderr, 600)
        ),
    })
}

/// The last `chars` characters of `text`, on one line.
pub fn tail(text: &str, chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let skip = flat.chars().count().saturating_sub(chars);
    flat.chars().skip(skip).collect()
}

/// Whether a `parked until=<RFC 3339 UTC>` state is still inside its window.
pub fn inside_window(state: &str) -> bool {
    let Some(until) = state
        .split_whitespace()
        .find_map(|part| part.strip_prefix("until="))
    else {
        return false;
    };
    parse_rfc3339(until).is_some_and(|end| end > SystemTime::now())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::sampler::GroupInstance;

    fn group(name: &str, state: &str, desired: i32, healthy: &[&str]) -> GroupView {
        GroupView {
            name: name.to_owned(),
            desired,
            min: 0,
            max: 8,
            state: Some(state.to_owned()),
            instances: healthy
                .iter()
                .map(|id| GroupInstance {
                    id: (*id).to_owned(),
                    lifecycle: "InService".to_owned(),
                    health: "Healthy".to_owned(),
                })
                .collect(),
            target_groups: Vec::new(),
        }
    }

    fn sample(groups: Vec<GroupView>) -> Sample<FleetSnapshot> {
        let now = Instant::now();
        Sample {
            at: now,
            done: now,
            value: FleetSnapshot {
                groups,
                templates: Vec::new(),
                live_instances: None,
                targets: Vec::new(),
            },
        }
    }

    #[test]
    fn capacity_counts_unparked_groups_against_the_smaller_target() {
        let start = sample(vec![group("f-g1", "serving", 4, &["a", "b", "c", "d"])]);
        let shrunk = sample(vec![
            group("f-g1", "shrunk min=1 max=4 desired=4", 2, &["a", "b"]),
            group("f-g2", "gating", 2, &["e", "f"]),
        ]);
        let low = sample(vec![
            group("f-g1", "shrunk min=1 max=4 desired=4", 2, &["a", "b"]),
            group("f-g2", "parked until=2099-01-01T00:00:00Z", 2, &["e", "f"]),
        ]);
        assert_eq!(serving_target(&shrunk.value), Some(4));
        assert!(capacity("a", &[start.clone(), shrunk.clone()], 100, 4).is_none());
        let violation =
            capacity("a", &[start.clone(), low.clone()], 75, 4).expect("2 of 4 is below 75%");
        assert_eq!(violation.invariant, Invariant::Capacity);
        // A scale-in to 2 makes 2 enough.
        assert!(capacity("a", &[start, low.clone()], 100, 2).is_none());
        // No serving generation: the fleet is being created, nothing is checked.
        assert!(capacity("a", &[sample(Vec::new()), sample(Vec::new())], 100, 2).is_none());
        assert_eq!(floor(75, 3), 3);
        assert_eq!(floor(50, 3), 2);
    }

    #[test]
    fn a_failure_needs_a_diagnostic_unless_interrupted_before_terraform_started() {
        let output = |code: Option<i32>, stderr: &str| TfOutput {
            args: Vec::new(),
            dir: std::path::PathBuf::new(),
            code,
            stdout: String::new(),
            stderr: stderr.to_owned(),
            elapsed: Duration::ZERO,
        };
        let started =
            "2026-12-06T05:15:00.000Z [INFO]  provider: configuring client automatic mTLS\n";
        let failed = output(Some(1), "│ Error: Fleet web: rolled back");
        assert!(diagnostic("a", &failed, started, false).is_none());
        assert!(diagnostic("a", &output(Some(1), "boom"), started, false).is_some());
        assert!(diagnostic("a", &output(Some(1), "│ Error: "), started, false).is_some());
        // Interrupted after it started: still needs one.
        assert!(diagnostic("a", &output(None, ""), started, true).is_some());
        assert!(diagnostic("a", &output(Some(1), "Interrupt received"), "", true).is_some());
        // Interrupted before its first word (by the signal, or the wrapper's exit 255).
        assert!(diagnostic("a", &output(None, ""), "", true).is_none());
        assert!(diagnostic("a", &output(Some(255), ""), "", true).is_none());
        // Silent without an interrupt: a violation.
        assert!(diagnostic("a", &output(Some(255), ""), "", false).is_some());
    }

    #[test]
    fn parked_windows_are_read_as_utc() {
        assert!(inside_window("parked until=2999-01-01T00:00:00Z"));
        assert!(!inside_window("parked until=2001-01-01T00:00:00Z"));
        assert!(!inside_window("parked"));
    }
}
