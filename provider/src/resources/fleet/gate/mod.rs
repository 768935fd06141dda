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
//! API economy: every gate of the process reads through the shared
//! [`TickReader`](crate::aws::TickReader): one DescribeAutoScalingGroups per tick for all
//! gating groups (50 names a call), one DescribeTargetHealth per target group per tick however
//! many fleets share it, one DescribeAlarms per tick for all watched alarms. A gate gets one
//! reading a tick (1 s; longer while AWS throttles), so a verdict waits at most one tick, and
//! fifty gates cost what one does. A throttled reading is no verdict: the gate waits for the
//! next one, until its timeout. Scaling activities are read only while the group is still
//! launching — fewer instances than desired, or some not yet InService (that is how a failed
//! launch shows) — newest first, stopping at the rollout's start, with backoff.
//!
//! With a `rollout` block the gate also watches CloudWatch alarms and, once passed, holds each
//! canary step for its assessment.
//!
//! Layout: `classify.rs` decides (pure: which instances count, bake clocks, the verdict),
//! `fetch.rs` reads scaling activities, `alarms.rs` judges the alarms, this file runs the wait
//! loop between them and `assess.rs` the hold after it.

pub mod alarms;
mod assess;
mod classify;
mod fetch;

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use self::alarms::AlarmVerdict;
use self::classify::{Observation, Verdict, classify, track, verdict};
use super::rollout_spec::Step;
use super::spec::{FleetSpec, HealthCheck};
use crate::aws::alarms::AlarmStatus;
use crate::aws::tick_reader::Watch;
use crate::aws::wait::Backoff;
use crate::aws::{AwsClients, AwsError, ErrorKind};
use crate::framework::duration;

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
    /// Watched alarms in `ALARM`, with their state reasons.
    AlarmFired(Vec<AlarmStatus>),
    /// Watched alarms that do not exist.
    AlarmMissing(Vec<String>),
    /// Fewer than the required instances stayed healthy during a step's assessment.
    Degraded {
        after: Duration,
        of: Duration,
    },
}

impl GateFailure {
    /// A call the rollout needed between polls (a resize) failed.
    pub fn call_failed(e: AwsError) -> Self {
        Self {
            reason: GateReason::Aws(e),
            holdouts: Vec::new(),
            healthy: 0,
            required: 0,
            healthy_for: Duration::ZERO,
            baking: Vec::new(),
        }
    }
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
            GateReason::Aws(e) => write!(f, "An AWS call of the rollout failed: {e}")?,
            GateReason::GroupVanished => {
                write!(f, "The Auto Scaling group disappeared during the gate.")?;
            }
            GateReason::AlarmFired(firing) => alarms::describe_firing(f, firing)?,
            GateReason::AlarmMissing(names) => alarms::describe_missing(f, names)?,
            GateReason::Degraded { after, of } => write!(
                f,
                "Only {healthy}/{required} required instances were healthy {} into the {} \
                 assessment.",
                duration::format(Duration::from_secs(after.as_secs())),
                duration::format(*of)
            )?,
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

/// A poll that ended the gate, with what it had seen of the group, if anything.
struct PollFailed(GateReason, Option<Observation>);

impl From<GateReason> for PollFailed {
    fn from(reason: GateReason) -> Self {
        Self(reason, None)
    }
}

/// How often a gate logs progress when nothing it counts has changed.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

pub struct Gate<'a> {
    clients: &'a AwsClients,
    fleet: &'a str,
    /// What progress lines start with: the fleet, and the canary step if there is one.
    label: String,
    /// CloudWatch alarms that fail the gate when any is in `ALARM`.
    alarms: &'a [String],
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
    /// The gate of `asg_name`, a generation of `spec` at `desired` instances: the spec's
    /// health-check settings and target groups.
    pub fn new(
        clients: &'a AwsClients,
        spec: &'a FleetSpec,
        asg_name: &'a str,
        desired: i32,
    ) -> Self {
        Self {
            clients,
            fleet: &spec.name,
            label: spec.name.clone(),
            alarms: &[],
            asg_name,
            desired,
            required: spec.health.required_healthy(desired),
            health: &spec.health,
            target_group_arns: &spec.target_group_arns,
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

    /// Labels progress with the canary step.
    #[must_use]
    pub fn at_step(mut self, step: Step) -> Self {
        self.label = format!("{}: {step}", self.fleet);
        self
    }

    /// Fails the gate as soon as any of `alarms` is in `ALARM` (or does not exist).
    #[must_use]
    pub fn watching(mut self, alarms: &'a [String]) -> Self {
        self.alarms = alarms;
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

    /// Polls until the gate passes, times out, fails fast, or Stop is requested. The shared
    /// tick reader paces the polls (one reading a tick), so the loop never sleeps itself.
    pub async fn wait(&self, stop: &CancellationToken) -> Result<(), GateFailure> {
        let deadline = self.started + self.health.timeout;
        // Scaling activities are one call per group: read them with backoff, not every tick.
        let mut activity_backoff = Backoff::new();
        let mut next_activity_check = Instant::now();
        // Per instance: since when it has been healthy without interruption. An instance
        // that drops out restarts its own clock, so a rotation of flapping instances never
        // adds up to a bake.
        let mut healthy_since: HashMap<String, Instant> = HashMap::new();
        let mut last: Option<Observation> = None;
        let mut throttled = false;
        // The last progress line logged, and when (without its bake clock).
        let mut logged: Option<(Instant, String)> = None;
        loop {
            // Stop abandons the read in flight, not only the wait for the next tick: a call to
            // an endpoint that does not answer must not hold Ctrl-C up until its timeout. The
            // caller rolls back with a token of its own.
            let polled = tokio::select! {
                biased;
                () = stop.cancelled() => {
                    return Err(self.failure_while_baking(
                        GateReason::Stopped,
                        last.as_ref(),
                        &healthy_since,
                    ));
                }
                polled = self.poll() => polled,
            };
            match polled {
                Ok(seen) => {
                    throttled = false;
                    let now = Instant::now();
                    for id in track(&mut healthy_since, &seen.healthy_ids, now) {
                        tracing::warn!(
                            fleet = self.fleet,
                            asg = self.asg_name,
                            "{}: {id} stopped being healthy; its bake clock restarts",
                            self.fleet
                        );
                    }
                    match self.verdict(&seen, &healthy_since, now) {
                        Verdict::Passed { baked } => {
                            self.log_progress(&seen, Some(baked), &mut logged, true);
                            tracing::info!(
                                fleet = self.fleet,
                                asg = self.asg_name,
                                "{}: gate passed",
                                self.fleet
                            );
                            return Ok(());
                        }
                        Verdict::Baking { baked, .. } => {
                            self.log_progress(&seen, Some(baked), &mut logged, false);
                        }
                        Verdict::Short => {
                            self.log_progress(&seen, None, &mut logged, false);
                            // Launch failures show as missing or never-InService instances;
                            // only then is the activity history worth a call.
                            if seen.launching(self.desired) && now >= next_activity_check {
                                next_activity_check = now + activity_backoff.next_delay();
                                let checked = tokio::select! {
                                    biased;
                                    () = stop.cancelled() => Err(GateReason::Stopped),
                                    checked = self.launch_failure() => checked,
                                };
                                match checked {
                                    Ok(()) => {}
                                    Err(GateReason::Stopped) => {
                                        return Err(self.failure_while_baking(
                                            GateReason::Stopped,
                                            Some(&seen),
                                            &healthy_since,
                                        ));
                                    }
                                    Err(reason) => return Err(self.failure(reason, Some(&seen))),
                                }
                            }
                        }
                    }
                    last = Some(seen);
                }
                Err(PollFailed(GateReason::Aws(e), _)) if e.kind() == ErrorKind::Throttled => {
                    // Throttling is AWS being busy, not the generation being unhealthy: this
                    // tick says nothing, the next one may (the reader has slowed down).
                    if !throttled {
                        tracing::warn!(
                            fleet = self.fleet,
                            asg = self.asg_name,
                            "{}: AWS throttled the gate's reads; it keeps waiting ({e})",
                            self.fleet
                        );
                    }
                    throttled = true;
                }
                Err(PollFailed(reason, seen)) => {
                    return Err(self.failure(reason, seen.as_ref().or(last.as_ref())));
                }
            }
            if Instant::now() >= deadline {
                return Err(self.failure_while_baking(
                    GateReason::TimedOut(self.health.timeout),
                    last.as_ref(),
                    &healthy_since,
                ));
            }
        }
    }

    /// What the gate reads each tick: its group, the target groups it is attached to and the
    /// watched alarms.
    fn watch(&self) -> Watch {
        Watch {
            group: Some(self.asg_name.to_owned()),
            target_groups: self.target_group_arns.to_vec(),
            alarms: self.alarms.to_vec(),
        }
    }

    /// One reading of the group, its target health and the alarms, at the next tick.
    async fn poll(&self) -> Result<Observation, PollFailed> {
        let reading = self
            .clients
            .ticks
            .read(self.watch())
            .await
            .map_err(GateReason::Aws)?;
        let group = reading.group.ok_or(GateReason::GroupVanished)?;
        let seen = classify(&group, &reading.target_health);
        if self.alarms.is_empty() {
            return Ok(seen);
        }
        match alarms::verdict(self.alarms, reading.alarms) {
            AlarmVerdict::Quiet => Ok(seen),
            AlarmVerdict::Firing(firing) => {
                Err(PollFailed(GateReason::AlarmFired(firing), Some(seen)))
            }
            AlarmVerdict::Missing(names) => {
                Err(PollFailed(GateReason::AlarmMissing(names), Some(seen)))
            }
        }
    }

    /// This poll's verdict against the gate's threshold and bake window.
    fn verdict(
        &self,
        seen: &Observation,
        healthy_since: &HashMap<String, Instant>,
        now: Instant,
    ) -> Verdict {
        verdict(
            seen.healthy,
            self.required,
            healthy_since,
            self.health.healthy_for,
            now,
        )
    }

    /// Why the launch failed, if a scaling activity of this rollout says it did (a throttled
    /// read says nothing: the next check may).
    async fn launch_failure(&self) -> Result<(), GateReason> {
        match self.failed_scaling_activity().await {
            Ok(Some(message)) => Err(GateReason::ScalingActivityFailed(message)),
            Ok(None) => Ok(()),
            Err(e) if e.kind() == ErrorKind::Throttled => Ok(()),
            Err(e) => Err(GateReason::Aws(e)),
        }
    }

    /// The message of a failed scaling activity that started after this rollout, if any.
    async fn failed_scaling_activity(&self) -> Result<Option<String>, AwsError> {
        fetch::failed_scaling_activity(self.clients, self.asg_name, self.started_at).await
    }

    /// Logs the gate's progress at INFO: at once when what it counts changes, otherwise every
    /// [`PROGRESS_EVERY`] (the gate reads every tick; a line a second per fleet is noise).
    fn log_progress(
        &self,
        seen: &Observation,
        baked: Option<Duration>,
        logged: &mut Option<(Instant, String)>,
        force: bool,
    ) {
        use std::fmt::Write as _;
        let mut line = format!("{}: {}/{} healthy", self.label, seen.healthy, self.required);
        for (name, healthy) in &seen.per_target_group {
            let _ = write!(line, ", {healthy}/{} in {name}", self.required);
        }
        if baked.is_none() && seen.instances < usize::try_from(self.desired).unwrap_or(0) {
            let _ = write!(line, ", {}/{} launched", seen.instances, self.desired);
        }
        let now = Instant::now();
        let due = force
            || logged.as_ref().is_none_or(|(at, counted)| {
                *counted != line || now.duration_since(*at) >= PROGRESS_EVERY
            });
        if !due {
            return;
        }
        *logged = Some((now, line.clone()));
        if let Some(baked) = baked.filter(|_| !self.health.healthy_for.is_zero()) {
            let _ = write!(
                line,
                ", bake {}s/{}s",
                baked.as_secs(),
                self.health.healthy_for.as_secs()
            );
        }
        if !self.alarms.is_empty() {
            line.push_str(", alarms OK");
        }
        tracing::info!(fleet = self.fleet, asg = self.asg_name, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
