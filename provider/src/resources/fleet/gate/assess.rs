//! A canary step's assessment: after its gate passed, the step must stay healthy (at least
//! the gate's required instances) and alarm-free for `assess_for`. Polled more often than the
//! gate's backoff allows (every few seconds at most), so a firing alarm rolls back in seconds.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::classify::Observation;
use super::fetch;
use super::{Gate, GateFailure, GateReason, PollFailed};
use crate::aws::wait::Backoff;
use crate::framework::duration;

/// Longest pause between two polls of an assessment.
const MAX_POLL: Duration = Duration::from_secs(5);

impl Gate<'_> {
    /// Holds the step for `assess_for`: fails at the first poll with fewer than the required
    /// instances healthy or an alarm in `ALARM`, or on Stop.
    pub async fn assess(
        &self,
        stop: &CancellationToken,
        assess_for: Duration,
    ) -> Result<(), GateFailure> {
        if assess_for.is_zero() {
            return Ok(());
        }
        let started = Instant::now();
        let mut backoff = Backoff::new();
        let mut last: Option<Observation> = None;
        // The second of the assessment last logged: one line per second at most.
        let mut logged: Option<u64> = None;
        let target_groups = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(self.failure(GateReason::Stopped, None)),
            tgs = fetch::target_groups(self.clients, self.target_group_arns) => tgs,
        }
        .map_err(|e| self.failure(GateReason::Aws(e), None))?;
        loop {
            let polled = tokio::select! {
                biased;
                () = stop.cancelled() => {
                    return Err(self.failure(GateReason::Stopped, last.as_ref()));
                }
                polled = self.poll(&target_groups) => polled,
            };
            let seen = match polled {
                Ok(seen) => seen,
                Err(PollFailed(reason, seen)) => {
                    return Err(self.failure(reason, seen.as_ref().or(last.as_ref())));
                }
            };
            let elapsed = started.elapsed();
            if seen.healthy < self.required {
                let degraded = GateReason::Degraded {
                    after: elapsed,
                    of: assess_for,
                };
                return Err(self.failure(degraded, Some(&seen)));
            }
            if logged != Some(elapsed.as_secs()) || elapsed >= assess_for {
                self.log_assessment(&seen, elapsed, assess_for);
                logged = Some(elapsed.as_secs());
            }
            if elapsed >= assess_for {
                return Ok(());
            }
            last = Some(seen);
            let delay = backoff
                .next_delay()
                .min(MAX_POLL)
                .min(assess_for.saturating_sub(elapsed));
            tokio::select! {
                () = stop.cancelled() => {
                    return Err(self.failure(GateReason::Stopped, last.as_ref()));
                }
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    fn log_assessment(&self, seen: &Observation, elapsed: Duration, assess_for: Duration) {
        let alarms = if self.alarms.is_empty() {
            ""
        } else {
            ", alarms OK"
        };
        let elapsed = Duration::from_secs(elapsed.as_secs()).min(assess_for);
        tracing::info!(
            fleet = self.fleet,
            asg = self.asg_name,
            "{}: {}/{} healthy{alarms}, assess {}/{}",
            self.label,
            seen.healthy,
            self.required,
            duration::format(elapsed),
            duration::format(assess_for)
        );
    }
}
