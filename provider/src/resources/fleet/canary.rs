//! Growing a new generation through its canary steps: at each step its capacity is set
//! (pinned, so scaling policies cannot move it), the gate must pass with the alarms quiet,
//! the previous generation gives up capacity (`shrink_previous`), and the step is assessed.
//! Also: giving a shrunk previous generation its capacity back, after a failure or a crash.

use std::time::{Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::gate::{Gate, GateFailure};
use super::group::{Sizes, set_rollout, update_group};
use super::inventory::{FullSizes, Generation, Rollout};
use super::rollout_spec::Step;
use super::spec::FleetSpec;
use crate::aws::{AwsClients, AwsError};

/// A step that did not pass, and why.
pub struct StepFailure {
    pub step: Step,
    pub failure: GateFailure,
}

/// The generation a rollout shrinks as the new one grows, and its sizes before.
pub struct Shrinking<'a> {
    pub name: &'a str,
    pub full: FullSizes,
}

/// The sizes of the new generation at `step`: pinned below the last, the configured bounds at
/// the last.
pub fn step_sizes(min_size: i32, max_size: i32, step: Step) -> Sizes {
    if step.is_last() {
        Sizes {
            min: Some(min_size.min(step.desired)),
            max: Some(max_size.max(step.desired)),
            desired: Some(step.desired),
        }
    } else {
        Sizes {
            min: Some(step.desired),
            max: Some(step.desired),
            desired: Some(step.desired),
        }
    }
}

/// The sizes a new generation is launched with: its first step's.
pub fn first_sizes(spec: &FleetSpec, steps: &[Step]) -> Sizes {
    match steps.first() {
        Some(&first) => step_sizes(spec.min_size, spec.max_size, first),
        None => Sizes::default(),
    }
}

/// Runs `steps` on the new generation `asg`, which was launched at the first step's sizes
/// `started` ago. Alarms are watched from the first poll to the end of the last assessment.
#[allow(
    clippy::too_many_arguments,
    reason = "one rollout's context, passed once"
)]
pub async fn run_steps(
    clients: &AwsClients,
    spec: &FleetSpec,
    asg: &str,
    steps: &[Step],
    mut shrinking: Option<&mut Shrinking<'_>>,
    started: Instant,
    started_at: SystemTime,
    stop: &CancellationToken,
) -> Result<(), StepFailure> {
    let target = steps.last().map_or(0, |s| s.desired);
    for &step in steps {
        let fail = |failure: GateFailure| StepFailure { step, failure };
        let aws_failure = |e: AwsError| StepFailure {
            step,
            failure: GateFailure::call_failed(e),
        };
        let gate_started = if step.number == 1 {
            started
        } else {
            update_group(
                clients,
                asg,
                step_sizes(spec.min_size, spec.max_size, step),
                None,
            )
            .await
            .map_err(aws_failure)?;
            Instant::now()
        };
        let mut gate = Gate::new(clients, spec, asg, step.desired)
            .started(gate_started, started_at)
            .watching(&spec.rollout.alarms);
        if spec.rollout.is_canary() {
            gate = gate.at_step(step);
            tracing::info!(
                fleet = %spec.name,
                asg,
                "{}: {step}: new generation at {} of {target} instance(s)",
                spec.name,
                step.desired
            );
        }
        gate.wait(stop).await.map_err(fail)?;
        if let Some(previous) = shrinking.as_deref_mut() {
            shrink(clients, spec, previous, target - step.desired)
                .await
                .map_err(aws_failure)?;
        }
        gate.assess(stop, spec.rollout.assess_for)
            .await
            .map_err(fail)?;
    }
    Ok(())
}

/// Scales the previous generation to `desired` (pinned), recording its full sizes first so a
/// failure — or the next apply after a crash — can give them back.
async fn shrink(
    clients: &AwsClients,
    spec: &FleetSpec,
    previous: &Shrinking<'_>,
    desired: i32,
) -> Result<(), AwsError> {
    let desired = desired.clamp(0, previous.full.desired);
    set_rollout(clients, previous.name, Rollout::Shrunk(previous.full)).await?;
    tracing::info!(
        fleet = %spec.name,
        asg = previous.name,
        "{}: previous generation {} down to {desired} of {} instance(s)",
        spec.name,
        previous.name,
        previous.full.desired
    );
    let pinned = Sizes {
        min: Some(desired),
        max: Some(desired.max(1)),
        desired: Some(desired),
    };
    update_group(clients, previous.name, pinned, None).await
}

/// The full sizes of the generation a rollout will shrink: as listed, or as recorded by a
/// rollout that shrank it before.
pub fn full_sizes(previous: &Generation) -> FullSizes {
    match previous.rollout {
        Rollout::Shrunk(full) => full,
        _ => previous.sizes,
    }
}

/// Gives a shrunk generation its full sizes back and waits until it passes the gate at that
/// size, then records it as serving. Runs to the end even after Stop (it is the rollback),
/// bounded by the gate's timeout.
pub async fn restore(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    full: FullSizes,
) -> Result<(), String> {
    tracing::info!(
        fleet = %spec.name,
        asg = name,
        "{}: scaling previous generation {name} back to {} instance(s)",
        spec.name,
        full.desired
    );
    let sizes = Sizes {
        min: Some(full.min),
        max: Some(full.max),
        desired: Some(full.desired),
    };
    update_group(clients, name, sizes, None)
        .await
        .map_err(|e| e.to_string())?;
    let stop = CancellationToken::new();
    Gate::new(clients, spec, name, full.desired)
        .wait(&stop)
        .await
        .map_err(|e| e.to_string())?;
    set_rollout(clients, name, Rollout::Serving)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::fleet::rollout_spec::RolloutSpec;

    #[test]
    fn steps_below_the_last_are_pinned_and_the_last_gets_the_configured_bounds() {
        let steps = RolloutSpec {
            steps: vec![25, 50],
            ..RolloutSpec::default()
        }
        .steps(4);
        let sizes = |s: Sizes| (s.min, s.max, s.desired);
        assert_eq!(
            sizes(step_sizes(2, 8, steps[0])),
            (Some(1), Some(1), Some(1))
        );
        assert_eq!(
            sizes(step_sizes(2, 8, steps[1])),
            (Some(2), Some(2), Some(2))
        );
        assert_eq!(
            sizes(step_sizes(2, 8, steps[2])),
            (Some(2), Some(8), Some(4))
        );
    }
}
