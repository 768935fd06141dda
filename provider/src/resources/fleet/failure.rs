//! Why a create or update of a fleet did not complete, and how that reads in Terraform's
//! diagnostics: what failed, and what was rolled back or undone.

use std::fmt::Write as _;

use super::gate::GateFailure;
use super::gate::alarms::{AlarmVerdict, Described};
use super::rollout_spec::Step;
use super::spec::TAG_FLEET;
use crate::aws::AwsError;
use crate::aws::wait::WaitError;

/// Why a create or update did not complete.
#[derive(Debug)]
pub enum Failure {
    Aws(AwsError),
    /// A wait on AWS (removing leftovers before the launch) timed out or was stopped.
    Wait(WaitError),
    Conflict(String),
    /// The new generation failed its gate and was removed again (or removal failed too).
    Gate {
        /// The generation's ASG name, e.g. `web-g4`.
        generation: String,
        /// The canary step that failed, when the rollout has more than one.
        step: Option<Step>,
        failure: GateFailure,
        /// The previous generation, scaled back to full size before the new one was removed
        /// (`shrink_previous`): its name and capacity, or why that failed.
        restored: Option<Result<(String, i32), String>>,
        rollback: Result<(), WaitError>,
    },
    /// The rollout's alarms refused it before anything was launched: one is in `ALARM` (don't
    /// deploy into an incident) or does not exist.
    Refused(AlarmVerdict),
    /// Terraform asked to stop before the new generation was launched: nothing was made.
    Stopped,
    /// A scale-out did not pass the gate and was undone (or undoing it failed too).
    ScaleOutGate {
        failure: GateFailure,
        undo: Result<ScaleOutUndone, AwsError>,
    },
}

/// What undoing a failed scale-out did.
#[derive(Debug)]
pub struct ScaleOutUndone {
    pub desired: i32,
    pub terminated: Vec<String>,
}

impl From<AwsError> for Failure {
    fn from(e: AwsError) -> Self {
        Self::Aws(e)
    }
}

impl From<WaitError> for Failure {
    fn from(e: WaitError) -> Self {
        match e {
            WaitError::Aws(e) => Self::Aws(e),
            other => Self::Wait(other),
        }
    }
}

impl Failure {
    /// Whether AWS holds nothing of the failed operation (so its name is free again).
    pub fn left_nothing(&self) -> bool {
        match self {
            Self::Conflict(_) | Self::Stopped | Self::Refused(_) => true,
            Self::Gate { rollback, .. } => rollback.is_ok(),
            Self::Aws(_) | Self::Wait(_) | Self::ScaleOutGate { .. } => false,
        }
    }

    pub fn summary(&self, fleet: &str) -> String {
        match self {
            Self::Aws(_) | Self::Wait(_) => format!("Fleet {fleet}: AWS request failed"),
            Self::Conflict(_) => format!("Fleet {fleet}: name conflict"),
            Self::Stopped => format!("Fleet {fleet}: interrupted before the new generation"),
            Self::Refused(AlarmVerdict::Missing(_)) => {
                format!("Fleet {fleet}: rollout alarm not found")
            }
            Self::Refused(_) => {
                format!("Fleet {fleet}: not deploying into an incident (alarm in ALARM)")
            }
            Self::Gate {
                generation,
                step,
                rollback,
                ..
            } => {
                let failed = step.map_or_else(
                    || "failed its health gate".to_owned(),
                    |step| format!("failed at {step}"),
                );
                let outcome = if rollback.is_ok() {
                    "and was rolled back"
                } else {
                    "; rollback incomplete"
                };
                format!("Fleet {fleet}: new generation {generation} {failed} {outcome}")
                    .replace(" ;", ";")
            }
            Self::ScaleOutGate { undo: Ok(_), .. } => {
                format!("Fleet {fleet}: scale-out failed its health gate and was undone")
            }
            Self::ScaleOutGate { undo: Err(_), .. } => {
                format!("Fleet {fleet}: scale-out failed its health gate; undoing it failed")
            }
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Self::Aws(e) => e.to_string(),
            Self::Wait(e) => e.to_string(),
            Self::Conflict(text) => text.clone(),
            Self::Stopped => "Terraform was asked to stop before the new generation was \
                              launched; nothing of it was created. The previous generation, if \
                              any, keeps serving."
                .to_owned(),
            Self::Refused(verdict) => format!(
                "{}\n\nNothing was launched; the previous generation, if any, keeps serving. \
                 Apply again once the alarm is fixed.",
                Described(verdict)
            ),
            Self::Gate {
                step,
                failure,
                restored,
                rollback,
                ..
            } => {
                let mut text = match step {
                    Some(step) => format!(
                        "At {step}, with {} instance(s) in the new generation: {failure}",
                        step.desired
                    ),
                    None => failure.to_string(),
                };
                match restored {
                    Some(Ok((previous, desired))) => {
                        let _ = write!(
                            text,
                            "\n\nThe previous generation {previous} was scaled back to its full \
                             size ({desired}) before the new one was removed."
                        );
                    }
                    Some(Err(e)) => {
                        let _ = write!(
                            text,
                            "\n\nScaling the previous generation back to its full size failed \
                             ({e}); the next apply of this fleet restores it."
                        );
                    }
                    None => {}
                }
                match rollback {
                    Ok(()) => text.push_str(
                        "\n\nThe new generation's ASG and launch template were deleted; the \
                         previous generation keeps serving and stays in state. Fix the cause \
                         and apply again.",
                    ),
                    Err(e) => {
                        let _ = write!(
                            text,
                            "\n\nDeleting the new generation failed too ({e}). Its resources \
                             are tagged {TAG_FLEET}; the next apply retries the cleanup."
                        );
                    }
                }
                text
            }
            Self::ScaleOutGate { failure, undo } => {
                let mut text = failure.to_string();
                match undo {
                    Ok(undone) => {
                        let _ = write!(
                            text,
                            "\n\nThe scale-out was undone: desired capacity is back at {}",
                            undone.desired
                        );
                        if undone.terminated.is_empty() {
                            text.push('.');
                        } else {
                            let _ = write!(
                                text,
                                " and the instances it launched were terminated ({}).",
                                undone.terminated.join(", ")
                            );
                        }
                        text.push_str(
                            " State keeps the previous capacity, so the next plan proposes \
                             the scale-out again. Fix the cause and apply again.",
                        );
                    }
                    Err(e) => {
                        let _ = write!(
                            text,
                            "\n\nUndoing the scale-out failed ({e}): the group may still run \
                             the new instances. The next refresh reads its real capacity."
                        );
                    }
                }
                text
            }
        }
    }
}

/// Why two resources must not share a fleet name, and the fix.
pub fn duplicate_name_detail(fleet: &str) -> String {
    format!(
        "Another immutable_fleet in this configuration creates a fleet named {fleet:?} in the \
         same apply. Fleet names must be unique in an account and region: the provider finds a \
         fleet's generations by its name. With count or for_each, include count.index or \
         each.key in the name, e.g. name = \"{fleet}-${{count.index}}\" or \
         name = \"{fleet}-${{each.key}}\"."
    )
}
