//! The health gate: a generation is accepted only when enough of its instances are healthy
//! everywhere that matters, continuously for the bake window.
//!
//! An instance counts when it is InService and Healthy in its Auto Scaling group **and**, for
//! every attached target group, registered on the group's port and `healthy` there. An
//! instance missing from a target group does not count (terraform-provider-aws treats absence
//! as passing, which lets a fleet nobody can reach pass its gate). Targets on other ports are
//! ignored, so a target group shared with, say, an ECS service cannot hold the gate
//! (terraform-provider-aws#17405). Thresholds are "at least", never "exactly"
//! (terraform-provider-aws#5241, terraform-aws-eks#3102).
//!
//! API economy: one DescribeAutoScalingGroups and one DescribeTargetHealth per target group
//! per poll, with exponential backoff and jitter. Scaling activities are read only while the
//! group is still launching — fewer instances than desired, or some not yet InService (that is
//! how a failed launch shows) — newest first, stopping at the rollout's start.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{AutoScalingGroup, LifecycleState, ScalingActivityStatusCode};
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use aws_smithy_types::DateTime;
use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::aws::describe_group;
use super::model::HealthCheck;
use crate::aws::error::aws_err;
use crate::aws::{AwsClients, AwsError};
use crate::framework::duration;

/// Exponential backoff with jitter for polls: 0.5 s doubling up to 10 s, ±20 %.
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(10);

    pub fn new() -> Self {
        Self { next: Self::FIRST }
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        let jitter = rand::rng().random_range(0.8..1.2);
        base.mul_f64(jitter)
    }
}

/// Why a gate did not pass, with the instances that held it back.
#[derive(Debug)]
pub struct GateFailure {
    pub reason: GateReason,
    /// One line per instance that did not count, saying why.
    pub holdouts: Vec<String>,
    pub healthy: usize,
    pub required: usize,
    /// The bake window, and how long each healthy instance had been healthy without
    /// interruption when the gate gave up (longest first).
    pub healthy_for: Duration,
    pub baking: Vec<(String, Duration)>,
}

#[derive(Debug)]
pub enum GateReason {
    TimedOut(Duration),
    Stopped,
    ScalingActivityFailed(String),
    Aws(AwsError),
    GroupVanished,
}

impl fmt::Display for GateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (healthy, required) = (self.healthy, self.required);
        match &self.reason {
            GateReason::TimedOut(t) if healthy >= required => write!(
                f,
                "{healthy}/{required} required instances were healthy, but not yet for the \
                 whole bake window (healthy_for = {}) when the gate timed out after {}.",
                duration::format(self.healthy_for),
                duration::format(*t)
            )?,
            GateReason::TimedOut(t) => write!(
                f,
                "Only {healthy}/{required} required instances were healthy when the gate timed \
                 out after {}.",
                duration::format(*t)
            )?,
            GateReason::Stopped => write!(
                f,
                "Interrupted (Terraform was asked to stop) with {healthy}/{required} required \
                 instances healthy."
            )?,
            GateReason::ScalingActivityFailed(message) => {
                write!(f, "A scaling activity of the new group failed: {message}")?;
            }
            GateReason::Aws(e) => write!(f, "Polling the fleet's health failed: {e}")?,
            GateReason::GroupVanished => {
                write!(f, "The Auto Scaling group disappeared during the gate.")?;
            }
        }
        if !self.holdouts.is_empty() {
            write!(f, "\nInstances that held the gate back:")?;
            for h in &self.holdouts {
                write!(f, "\n  - {h}")?;
            }
        }
        if !self.healthy_for.is_zero() && !self.baking.is_empty() {
            write!(f, "\nInstances healthy, baking:")?;
            for (id, baked) in &self.baking {
                write!(
                    f,
                    "\n  - {id}: healthy for {} of {}",
                    duration::format(Duration::from_secs(baked.as_secs())),
                    duration::format(self.healthy_for)
                )?;
            }
        }
        Ok(())
    }
}

/// Updates the per-instance clocks with one poll's healthy instances: new ones start now,
/// the ones no longer healthy are dropped (and returned), so they start over if they recover.
fn track(
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
fn baked(
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

/// A target group attached to the fleet, with the port the ASG registers instances on.
struct TargetGroup {
    arn: String,
    name: String,
    port: Option<i32>,
}

/// One poll's verdict.
struct Observation {
    healthy: usize,
    instances: usize,
    /// Instances not (yet) InService: launching, or stuck.
    not_in_service: usize,
    /// Per target group: how many of the group's instances are healthy there.
    per_target_group: Vec<(String, usize)>,
    holdouts: Vec<String>,
    /// The instances that counted as healthy in this poll.
    healthy_ids: Vec<String>,
}

pub struct Gate<'a> {
    clients: &'a AwsClients,
    fleet: &'a str,
    asg_name: &'a str,
    desired: i32,
    required: usize,
    health: &'a HealthCheck,
    /// The target groups the generation was attached to.
    target_group_arns: &'a [String],
    /// Monotonic start, for the timeout.
    started: Instant,
    /// Wall-clock start, to ignore scaling activities older than this rollout.
    started_at: SystemTime,
}

impl<'a> Gate<'a> {
    pub fn new(
        clients: &'a AwsClients,
        fleet: &'a str,
        asg_name: &'a str,
        desired: i32,
        health: &'a HealthCheck,
        target_group_arns: &'a [String],
    ) -> Self {
        Self {
            clients,
            fleet,
            asg_name,
            desired,
            required: health.required_healthy(desired),
            health,
            target_group_arns,
            started: Instant::now(),
            started_at: SystemTime::now(),
        }
    }

    /// Counts the timeout from an earlier moment (the start of the whole create).
    #[must_use]
    pub fn started(mut self, started: Instant, started_at: SystemTime) -> Self {
        self.started = started;
        self.started_at = started_at;
        self
    }

    fn failure(&self, reason: GateReason, seen: Option<&Observation>) -> GateFailure {
        GateFailure {
            reason,
            holdouts: seen.map(|s| s.holdouts.clone()).unwrap_or_default(),
            healthy: seen.map_or(0, |s| s.healthy),
            required: self.required,
            healthy_for: self.health.healthy_for,
            baking: Vec::new(),
        }
    }

    /// A failure that also says how far each healthy instance got through the bake window.
    fn failure_while_baking(
        &self,
        reason: GateReason,
        seen: Option<&Observation>,
        healthy_since: &HashMap<String, Instant>,
    ) -> GateFailure {
        let now = Instant::now();
        let mut baking: Vec<(String, Duration)> = healthy_since
            .iter()
            .map(|(id, since)| (id.clone(), now.saturating_duration_since(*since)))
            .collect();
        baking.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        GateFailure {
            baking,
            ..self.failure(reason, seen)
        }
    }

    /// Polls until the gate passes, times out, fails fast, or Stop is requested.
    pub async fn wait(&self, stop: &CancellationToken) -> Result<(), GateFailure> {
        let deadline = self.started + self.health.timeout;
        let mut backoff = Backoff::new();
        // Per instance: since when it has been healthy without interruption. An instance
        // that drops out restarts its own clock, so a rotation of flapping instances never
        // adds up to a bake.
        let mut healthy_since: HashMap<String, Instant> = HashMap::new();
        let mut last: Option<Observation> = None;
        // Stop abandons a call in flight, not only the sleep between polls: a call to an
        // endpoint that does not answer must not hold Ctrl-C up until its timeout. The caller
        // rolls back with a token of its own.
        macro_rules! unless_stopped {
            ($call:expr) => {
                tokio::select! {
                    biased;
                    () = stop.cancelled() => {
                        return Err(self.failure_while_baking(
                            GateReason::Stopped,
                            last.as_ref(),
                            &healthy_since,
                        ));
                    }
                    result = $call => result,
                }
            };
        }
        let target_groups = match unless_stopped!(self.target_groups()) {
            Ok(tgs) => tgs,
            Err(e) => return Err(self.failure(GateReason::Aws(e), None)),
        };
        loop {
            let group = match unless_stopped!(describe_group(self.clients, self.asg_name)) {
                Ok(Some(g)) => g,
                Ok(None) => return Err(self.failure(GateReason::GroupVanished, last.as_ref())),
                Err(e) => return Err(self.failure(GateReason::Aws(e), last.as_ref())),
            };
            let seen = match unless_stopped!(self.observe(&group, &target_groups)) {
                Ok(seen) => seen,
                Err(e) => return Err(self.failure(GateReason::Aws(e), last.as_ref())),
            };
            let now = Instant::now();
            for id in track(&mut healthy_since, &seen.healthy_ids, now) {
                tracing::warn!(
                    fleet = self.fleet,
                    asg = self.asg_name,
                    "{}: {id} stopped being healthy; its bake clock restarts",
                    self.fleet
                );
            }
            let mut remaining_bake = None;
            if seen.healthy >= self.required {
                let baked =
                    baked(&healthy_since, self.required, now).unwrap_or(self.health.healthy_for);
                self.log_progress(&seen, Some(baked));
                if baked >= self.health.healthy_for {
                    tracing::info!(
                        fleet = self.fleet,
                        asg = self.asg_name,
                        "{}: gate passed",
                        self.fleet
                    );
                    return Ok(());
                }
                remaining_bake = Some(self.health.healthy_for.saturating_sub(baked));
            } else {
                self.log_progress(&seen, None);
                // Launch failures show as missing or never-InService instances; only then is
                // the activity history worth a call.
                let launching = usize::try_from(self.desired).unwrap_or(0) > seen.instances
                    || seen.not_in_service > 0;
                if launching {
                    match unless_stopped!(self.failed_scaling_activity()) {
                        Ok(Some(message)) => {
                            return Err(self
                                .failure(GateReason::ScalingActivityFailed(message), Some(&seen)));
                        }
                        Ok(None) => {}
                        Err(e) => return Err(self.failure(GateReason::Aws(e), Some(&seen))),
                    }
                }
            }
            last = Some(seen);
            let now = Instant::now();
            if now >= deadline {
                return Err(self.failure_while_baking(
                    GateReason::TimedOut(self.health.timeout),
                    last.as_ref(),
                    &healthy_since,
                ));
            }
            let mut delay = backoff.next_delay().min(deadline - now);
            if let Some(remaining) = remaining_bake {
                // Wake up when the bake window ends rather than up to 10 s later.
                delay = delay.min(remaining.max(Duration::from_millis(50)));
            }
            tokio::select! {
                () = stop.cancelled() => {
                    return Err(self.failure_while_baking(GateReason::Stopped, last.as_ref(), &healthy_since));
                }
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    fn log_progress(&self, seen: &Observation, baked: Option<Duration>) {
        use std::fmt::Write as _;
        let mut line = format!("{}: {}/{} healthy", self.fleet, seen.healthy, self.required);
        for (name, healthy) in &seen.per_target_group {
            let _ = write!(line, ", {healthy}/{} in {name}", self.required);
        }
        if let Some(baked) = baked {
            let _ = write!(
                line,
                ", bake {}s/{}s",
                baked.as_secs(),
                self.health.healthy_for.as_secs()
            );
        } else if seen.instances < usize::try_from(self.desired).unwrap_or(0) {
            let _ = write!(line, ", {}/{} launched", seen.instances, self.desired);
        }
        tracing::info!(fleet = self.fleet, asg = self.asg_name, "{line}");
    }

    /// Names and ports of the target groups the generation is attached to (one call).
    async fn target_groups(&self) -> Result<Vec<TargetGroup>, AwsError> {
        let arns = self.target_group_arns.to_vec();
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .clients
            .elbv2
            .describe_target_groups()
            .set_target_group_arns(Some(arns.clone()))
            .send()
            .await
            .map_err(aws_err("DescribeTargetGroups"))?;
        Ok(arns
            .into_iter()
            .map(|arn| {
                let tg = out
                    .target_groups()
                    .iter()
                    .find(|t| t.target_group_arn() == Some(arn.as_str()));
                TargetGroup {
                    name: tg
                        .and_then(|t| t.target_group_name())
                        .unwrap_or(&arn)
                        .to_owned(),
                    port: tg.and_then(aws_sdk_elasticloadbalancingv2::types::TargetGroup::port),
                    arn,
                }
            })
            .collect())
    }

    async fn observe(
        &self,
        group: &AutoScalingGroup,
        target_groups: &[TargetGroup],
    ) -> Result<Observation, AwsError> {
        // (target group index, instance id) → (state, reason) on the group's port.
        let mut target_health: HashMap<(usize, String), (String, String)> = HashMap::new();
        for (index, tg) in target_groups.iter().enumerate() {
            let out = self
                .clients
                .elbv2
                .describe_target_health()
                .target_group_arn(&tg.arn)
                .send()
                .await
                .map_err(aws_err("DescribeTargetHealth"))?;
            for description in out.target_health_descriptions() {
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
                    .map(aws_sdk_elasticloadbalancingv2::types::TargetHealthReasonEnum::as_str);
                let description = health.and_then(|h| h.description());
                let reason = match (code, description) {
                    (Some(c), Some(d)) => format!("{c}: {d}"),
                    (Some(t), None) | (None, Some(t)) => t.to_owned(),
                    (None, None) => String::new(),
                };
                target_health.insert((index, id.to_owned()), (state, reason));
            }
        }
        let mut seen = Observation {
            healthy: 0,
            instances: group.instances().len(),
            not_in_service: group
                .instances()
                .iter()
                .filter(|i| i.lifecycle_state() != Some(&LifecycleState::InService))
                .count(),
            per_target_group: target_groups
                .iter()
                .map(|tg| (tg.name.clone(), 0))
                .collect(),
            holdouts: Vec::new(),
            healthy_ids: Vec::new(),
        };
        for instance in group.instances() {
            let id = instance.instance_id().unwrap_or("?");
            let mut problems = Vec::new();
            let state = instance.lifecycle_state();
            let status = instance.health_status().unwrap_or("unknown");
            if state != Some(&LifecycleState::InService) || !status.eq_ignore_ascii_case("healthy")
            {
                let state = state.map_or("unknown", LifecycleState::as_str);
                problems.push(format!("{state}/{status} in the Auto Scaling group"));
            }
            for (index, tg) in target_groups.iter().enumerate() {
                match target_health.get(&(index, id.to_owned())) {
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
        Ok(seen)
    }

    /// The message of a failed scaling activity that started after this rollout, if any.
    /// Reads newest first and stops at the first activity older than the rollout, so a
    /// long history is never paged (terraform-provider-aws#29753).
    async fn failed_scaling_activity(&self) -> Result<Option<String>, AwsError> {
        let started = DateTime::from(self.started_at);
        let out = self
            .clients
            .autoscaling
            .describe_scaling_activities()
            .auto_scaling_group_name(self.asg_name)
            .max_records(20)
            .send()
            .await
            .map_err(aws_err("DescribeScalingActivities"))?;
        for activity in out.activities() {
            let Some(start) = activity.start_time() else {
                continue;
            };
            // 30 s of slack for clock skew between this machine and AWS.
            if start.secs() < started.secs() - 30 {
                break;
            }
            if activity.status_code() == Some(&ScalingActivityStatusCode::Failed) {
                let message = activity
                    .status_message()
                    .or(activity.description())
                    .unwrap_or("no message")
                    .to_owned();
                return Ok(Some(message));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clocks of instances healthy for `age` seconds at the returned `now`.
    fn clocks(ages_secs: &[(&str, u64)]) -> (HashMap<String, Instant>, Instant) {
        let base = Instant::now();
        let now = base + Duration::from_secs(100);
        let since = ages_secs
            .iter()
            .map(|(id, age)| ((*id).to_owned(), base + Duration::from_secs(100 - age)))
            .collect();
        (since, now)
    }

    #[test]
    fn the_bake_counts_the_required_longest_uninterrupted_runs() {
        let (since, now) = clocks(&[("i-a", 40), ("i-b", 5), ("i-c", 25)]);
        assert_eq!(baked(&since, 1, now), Some(Duration::from_secs(40)));
        assert_eq!(baked(&since, 2, now), Some(Duration::from_secs(25)));
        assert_eq!(baked(&since, 3, now), Some(Duration::from_secs(5)));
        assert_eq!(
            baked(&since, 4, now),
            Some(Duration::ZERO),
            "not enough instances"
        );
        assert_eq!(baked(&since, 0, now), None, "nothing required");
    }

    /// A timeout with every required instance healthy but not yet baked says so, and how far
    /// each instance got, instead of "only N/N healthy".
    #[test]
    fn a_timeout_during_the_bake_names_the_instances_and_their_progress() {
        let failure = GateFailure {
            reason: GateReason::TimedOut(Duration::from_secs(15)),
            holdouts: Vec::new(),
            healthy: 2,
            required: 2,
            healthy_for: Duration::from_secs(30),
            baking: vec![
                ("i-a".to_owned(), Duration::from_millis(12_400)),
                ("i-b".to_owned(), Duration::from_secs(3)),
            ],
        };
        let text = failure.to_string();
        assert!(
            text.starts_with(
                "2/2 required instances were healthy, but not yet for the whole bake window \
                 (healthy_for = 30s) when the gate timed out after 15s."
            ),
            "{text}"
        );
        assert!(text.contains("\n  - i-a: healthy for 12s of 30s"), "{text}");
        assert!(text.contains("\n  - i-b: healthy for 3s of 30s"), "{text}");

        let short = GateFailure {
            healthy: 1,
            ..failure
        };
        assert!(
            short
                .to_string()
                .starts_with("Only 1/2 required instances were healthy"),
            "{short}"
        );
    }

    /// Two instances taking turns at being healthy keep the healthy count at one in every
    /// poll, yet neither was healthy for long: the bake must not add their turns up.
    #[test]
    fn instances_taking_turns_do_not_bake() {
        let start = Instant::now();
        let mut since: HashMap<String, Instant> = HashMap::new();
        let mut passed_at = None;
        for second in 0..12u64 {
            let now = start + Duration::from_secs(second);
            let healthy = if (second / 3) % 2 == 0 { "i-a" } else { "i-b" };
            track(&mut since, &[healthy.to_owned()], now);
            if passed_at.is_none() && baked(&since, 1, now) >= Some(Duration::from_secs(5)) {
                passed_at = Some(second);
            }
        }
        assert_eq!(passed_at, None, "each run lasted 3 s of a 5 s bake window");
        // Once one of them stays, its own run completes the bake.
        let later = start + Duration::from_secs(20);
        assert_eq!(
            track(&mut since, &["i-a".to_owned()], later),
            vec!["i-b".to_owned()]
        );
        let dropped = track(
            &mut since,
            &["i-b".to_owned()],
            later + Duration::from_secs(1),
        );
        assert_eq!(dropped, vec!["i-a".to_owned()]);
        let end = later + Duration::from_secs(7);
        track(&mut since, &["i-b".to_owned()], end);
        assert_eq!(baked(&since, 1, end), Some(Duration::from_secs(6)));
    }
}
