//! A canary step's assessment: after its gate passed, the step must stay healthy (at least
//! the gate's required instances) and alarm-free for `assess_for`. Read every tick of the
//! shared reader (1 s), so a firing alarm rolls back in about a second.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::classify::Observation;
use super::{Gate, GateFailure, GateReason, PollFailed};
use crate::aws::ErrorKind;
use crate::framework::duration;

impl Gate<'_> {
    /// Holds the step for `assess_for`: fails at the first reading with fewer than the
    /// required instances healthy or an alarm in `ALARM`, or on Stop. Passes only on a
    /// reading taken once `assess_for` is over: throttled ticks are skipped, never counted as
    /// quiet, and a step read by no tick for the gate's whole timeout fails.
    pub async fn assess(
        &self,
        stop: &CancellationToken,
        assess_for: Duration,
    ) -> Result<(), GateFailure> {
        if assess_for.is_zero() {
            return Ok(());
        }
        let started = Instant::now();
        let mut last: Option<Observation> = None;
        let mut last_read = started;
        // The second of the assessment last logged: one line per second at most.
        let mut logged: Option<u64> = None;
        loop {
            let polled = tokio::select! {
                biased;
                () = stop.cancelled() => {
                    return Err(self.failure(GateReason::Stopped, last.as_ref()));
                }
                polled = self.poll() => polled,
            };
            let seen = match polled {
                Ok(seen) => seen,
                Err(PollFailed(GateReason::Aws(e), _))
                    if e.kind() == ErrorKind::Throttled
                        && last_read.elapsed() < self.health.timeout =>
                {
                    continue;
                }
                Err(PollFailed(reason, seen)) => {
                    return Err(self.failure(reason, seen.as_ref().or(last.as_ref())));
                }
            };
            last_read = Instant::now();
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
