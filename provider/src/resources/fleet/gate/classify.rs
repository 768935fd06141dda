//! The gate's decisions, without I/O: which instances count in one poll, the per-instance
//! bake clocks, whether the gate passes, and whether a scaling activity failed. Everything
//! here works on values the fetchers (`fetch.rs`) already read, so unit tests drive it
//! without AWS or moto.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{
    Activity, AutoScalingGroup, LifecycleState, ScalingActivityStatusCode,
};
use aws_sdk_elasticloadbalancingv2::types::{
    TargetHealthDescription, TargetHealthReasonEnum, TargetHealthStateEnum,
};
use aws_smithy_types::DateTime;

pub(super) use crate::aws::tick_reader::TargetGroup;

/// One poll's verdict.
pub(super) struct Observation {
    pub(super) healthy: usize,
    pub(super) instances: usize,
    /// Instances not (yet) InService: launching, or stuck.
    pub(super) not_in_service: usize,
    /// Per target group: how many of the group's instances are healthy there.
    pub(super) per_target_group: Vec<(String, usize)>,
    pub(super) holdouts: Vec<String>,
    /// The instances that counted as healthy in this poll.
    pub(super) healthy_ids: Vec<String>,
}

impl Observation {
    /// Whether the group is still launching: fewer instances than desired, or some not yet
    /// InService. Launch failures show this way; only then is the activity history worth a
    /// call.
    pub(super) fn launching(&self, desired: i32) -> bool {
        usize::try_from(desired).unwrap_or(0) > self.instances || self.not_in_service > 0
    }
}

/// Classifies one poll: an instance counts when it is InService and Healthy in the group and,
/// for every attached target group, registered on the group's port and `healthy` there.
/// `target_health` holds, per attached target group, its DescribeTargetHealth descriptions.
pub(super) fn classify(
    group: &AutoScalingGroup,
    target_health: &[(TargetGroup, Vec<TargetHealthDescription>)],
) -> Observation {
    // Per target group (same order): instance id → (state, reason) on the group's port.
    let by_instance: Vec<HashMap<&str, (String, String)>> = target_health
        .iter()
        .map(|(tg, descriptions)| on_port(tg, descriptions))
        .collect();
    let mut seen = Observation {
        healthy: 0,
        instances: group.instances().len(),
        not_in_service: group
            .instances()
            .iter()
            .filter(|i| i.lifecycle_state() != Some(&LifecycleState::InService))
            .count(),
        per_target_group: target_health
            .iter()
            .map(|(tg, _)| (tg.name.clone(), 0))
            .collect(),
        holdouts: Vec::new(),
        healthy_ids: Vec::new(),
    };
    for instance in group.instances() {
        let id = instance.instance_id().unwrap_or("?");
        let mut problems = Vec::new();
        let state = instance.lifecycle_state();
        let status = instance.health_status().unwrap_or("unknown");
        if state != Some(&LifecycleState::InService) || !status.eq_ignore_ascii_case("healthy") {
            let state = state.map_or("unknown", LifecycleState::as_str);
            problems.push(format!("{state}/{status} in the Auto Scaling group"));
        }
        for (index, ((tg, _), health)) in target_health.iter().zip(&by_instance).enumerate() {
            match health.get(id) {
                Some((state, _)) if state == "healthy" => {
                    if let Some(count) = seen.per_target_group.get_mut(index) {
                        count.1 += 1;
                    }
                }
                Some((state, reason)) if reason.is_empty() => {
                    problems.push(format!("{state} in target group {}", tg.name));
                }
                Some((state, reason)) => {
                    problems.push(format!("{state} in target group {} ({reason})", tg.name));
                }
                None => problems.push(format!("not registered in target group {}", tg.name)),
            }
        }
        if problems.is_empty() {
            seen.healthy += 1;
            seen.healthy_ids.push(id.to_owned());
        } else {
            seen.holdouts.push(format!("{id}: {}", problems.join("; ")));
        }
    }
    seen
}

/// One target group's targets on the group's port: instance id → (state, reason). Targets
/// on other ports are left out, so a shared target group cannot hold the gate.
fn on_port<'d>(
    tg: &TargetGroup,
    descriptions: &'d [TargetHealthDescription],
) -> HashMap<&'d str, (String, String)> {
    let mut targets = HashMap::new();
    for description in descriptions {
        let Some(target) = description.target() else {
            continue;
        };
        let Some(id) = target.id() else { continue };
        if tg.port.is_some() && target.port().is_some() && target.port() != tg.port {
            continue;
        }
        let health = description.target_health();
        let state = health
            .and_then(|h| h.state())
            .map_or("unknown", TargetHealthStateEnum::as_str)
            .to_owned();
        // "Target.FailedHealthChecks: Health checks failed": the code to search
        // for, the description to read.
        let code = health
            .and_then(|h| h.reason())
            .map(TargetHealthReasonEnum::as_str);
        let description = health.and_then(|h| h.description());
        let reason = match (code, description) {
            (Some(c), Some(d)) => format!("{c}: {d}"),
            (Some(t), None) | (None, Some(t)) => t.to_owned(),
            (None, None) => String::new(),
        };
        targets.insert(id, (state, reason));
    }
    targets
}

/// Updates the per-instance clocks with one poll's healthy instances: new ones start now,
/// the ones no longer healthy are dropped (and returned), so they start over if they recover.
pub(super) fn track(
    healthy_since: &mut HashMap<String, Instant>,
    healthy_ids: &[String],
    now: Instant,
) -> Vec<String> {
    let dropped: Vec<String> = healthy_since
        .keys()
        .filter(|id| !healthy_ids.contains(*id))
        .cloned()
        .collect();
    for id in &dropped {
        healthy_since.remove(id);
    }
    for id in healthy_ids {
        healthy_since.entry(id.clone()).or_insert(now);
    }
    dropped
}

/// How long the `required` longest-healthy instances have all been healthy without
/// interruption: the `required`-th longest run. `None` when nothing is required (the bake is
/// complete by definition).
pub(super) fn baked(
    healthy_since: &HashMap<String, Instant>,
    required: usize,
    now: Instant,
) -> Option<Duration> {
    let nth = required.checked_sub(1)?;
    let mut runs: Vec<Duration> = healthy_since
        .values()
        .map(|since| now.saturating_duration_since(*since))
        .collect();
    runs.sort_unstable_by(|a, b| b.cmp(a));
    Some(runs.get(nth).copied().unwrap_or(Duration::ZERO))
}

/// Where the gate stands after one poll.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// At least `required` instances are healthy and the bake window is over.
    Passed { baked: Duration },
    /// At least `required` instances are healthy, but not yet for the whole bake window.
    Baking {
        baked: Duration,
        remaining: Duration,
    },
    /// Fewer than `required` instances are healthy.
    Short,
}

/// The gate's decision: thresholds are "at least" (`healthy >= required`), and the bake is
/// the `required`-th longest uninterrupted run (complete at once when nothing is required).
pub(super) fn verdict(
    healthy: usize,
    required: usize,
    healthy_since: &HashMap<String, Instant>,
    healthy_for: Duration,
    now: Instant,
) -> Verdict {
    if healthy < required {
        return Verdict::Short;
    }
    let baked = baked(healthy_since, required, now).unwrap_or(healthy_for);
    if baked >= healthy_for {
        Verdict::Passed { baked }
    } else {
        Verdict::Baking {
            baked,
            remaining: healthy_for.saturating_sub(baked),
        }
    }
}

/// The message of a failed scaling activity that started after `started_at`, if any.
/// `activities` are newest first; reading stops at the first activity older than the
/// rollout (30 s of slack for clock skew between this machine and AWS).
pub(super) fn failed_activity(activities: &[Activity], started_at: SystemTime) -> Option<String> {
    let started = DateTime::from(started_at);
    for activity in activities {
        let Some(start) = activity.start_time() else {
            continue;
        };
        // 30 s of slack for clock skew between this machine and AWS.
        if start.secs() < started.secs() - 30 {
            break;
        }
        let message = activity
            .status_message()
            .or(activity.description())
            .unwrap_or("no message");
        if activity.status_code() == Some(&ScalingActivityStatusCode::Failed) {
            return Some(message.to_owned());
        }
        // A launching lifecycle hook that abandoned its instance (its heartbeat ran out with
        // ABANDON, or something completed the action with ABANDON) cancels the launch.
        if activity.status_code() == Some(&ScalingActivityStatusCode::Cancelled)
            && message.contains("Lifecycle Action")
        {
            return Some(format!(
                "a launching lifecycle hook abandoned the launch: {message}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests;
