//! How a new generation takes over, as typed Rust read from the `rollout` block: the canary
//! steps and the capacities they mean, the alarms, and what happens to the old generation.

use std::time::Duration;

use super::schema::{self, at, rollout};
use super::state::RolloutBlock;
use crate::framework::Diagnostics;
use crate::framework::duration;

/// The settings of the `rollout` block; [`RolloutSpec::default`] is the behaviour without one:
/// one step of 100%, no assessment, no alarms, the old generation deleted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RolloutSpec {
    /// Percentages below 100, strictly increasing (validated at plan).
    pub steps: Vec<u32>,
    pub assess_for: Duration,
    pub alarms: Vec<String>,
    pub shrink_previous: bool,
    pub keep_previous_for: Duration,
}

/// One step of a rollout: the share of the target capacity the new generation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// 1-based.
    pub number: usize,
    pub of: usize,
    pub percent: u32,
    /// The new generation's desired capacity at this step: ceil(percent × target).
    pub desired: i32,
}

impl Step {
    pub fn is_last(&self) -> bool {
        self.number == self.of
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}/{} ({}%)", self.number, self.of, self.percent)
    }
}

impl RolloutSpec {
    /// The settings of a `rollout` block; no block means the defaults.
    pub fn from_block(block: Option<&RolloutBlock>, d: &mut Diagnostics) -> Self {
        let mut spec = Self::default();
        let Some(block) = block else {
            return spec;
        };
        let path = at(schema::ROLLOUT);
        spec.steps = block
            .steps
            .iter()
            .flatten()
            .filter_map(|s| u32::try_from(*s).ok())
            .collect();
        spec.alarms = block.alarms.clone().unwrap_or_default();
        spec.shrink_previous = block.shrink_previous.unwrap_or(false);
        let mut dur = |name: &str, text: &Option<String>, slot: &mut Duration| {
            if let Some(text) = text {
                match duration::parse(text) {
                    Ok(parsed) => *slot = parsed,
                    Err(e) => d.attribute_error(path.attr(name), "Invalid duration", e),
                }
            }
        };
        dur(rollout::ASSESS_FOR, &block.assess_for, &mut spec.assess_for);
        dur(
            rollout::KEEP_PREVIOUS_FOR,
            &block.keep_previous_for,
            &mut spec.keep_previous_for,
        );
        spec
    }

    /// The steps of a rollout to `target` instances, the implied 100% last. A step whose
    /// capacity equals the one before adds nothing and is skipped (at 10% and 20% of 4
    /// instances, both are 1). Every step runs at least one instance.
    pub fn steps(&self, target: i32) -> Vec<Step> {
        let target_u = u64::try_from(target.max(0)).unwrap_or(0);
        let mut capacities: Vec<(u32, i32)> = Vec::new();
        for percent in self.steps.iter().copied().chain([100]) {
            let desired = (target_u * u64::from(percent)).div_ceil(100).max(1);
            let desired = i32::try_from(desired).unwrap_or(target).min(target.max(1));
            match capacities.last_mut() {
                Some(last) if last.1 == desired => last.0 = percent,
                _ => capacities.push((percent, desired)),
            }
        }
        if target == 0 {
            capacities = vec![(100, 0)];
        }
        let of = capacities.len();
        capacities
            .into_iter()
            .enumerate()
            .map(|(i, (percent, desired))| Step {
                number: i + 1,
                of,
                percent,
                desired,
            })
            .collect()
    }

    /// The rollout of a fleet's first generation: no previous one to share traffic with, so
    /// no steps below 100%.
    #[must_use]
    pub fn first_generation(&self) -> Self {
        Self {
            steps: Vec::new(),
            ..self.clone()
        }
    }

    /// Whether this rollout differs from launching at full size judged by health alone.
    pub fn is_canary(&self) -> bool {
        !self.steps.is_empty() || !self.alarms.is_empty() || !self.assess_for.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(steps: &[u32]) -> RolloutSpec {
        RolloutSpec {
            steps: steps.to_vec(),
            ..RolloutSpec::default()
        }
    }

    fn capacities(steps: &[Step]) -> Vec<(u32, i32)> {
        steps.iter().map(|s| (s.percent, s.desired)).collect()
    }

    #[test]
    fn steps_round_up_and_end_at_the_target() {
        let steps = spec(&[25, 50]).steps(4);
        assert_eq!(capacities(&steps), [(25, 1), (50, 2), (100, 4)]);
        assert_eq!(steps[1].to_string(), "step 2/3 (50%)");
        assert!(steps[2].is_last());
        assert_eq!(capacities(&spec(&[10]).steps(15)), [(10, 2), (100, 15)]);
    }

    #[test]
    fn steps_that_add_no_instance_merge_into_the_next() {
        assert_eq!(
            capacities(&spec(&[10, 20, 50]).steps(4)),
            [(20, 1), (50, 2), (100, 4)]
        );
        assert_eq!(capacities(&spec(&[50, 99]).steps(2)), [(50, 1), (100, 2)]);
        assert_eq!(capacities(&spec(&[1]).steps(1)), [(100, 1)]);
    }

    #[test]
    fn no_steps_is_one_step_at_full_size() {
        let steps = RolloutSpec::default().steps(3);
        assert_eq!(capacities(&steps), [(100, 3)]);
        assert_eq!(steps[0].to_string(), "step 1/1 (100%)");
        assert_eq!(capacities(&spec(&[50]).steps(0)), [(100, 0)]);
    }

    #[test]
    fn a_block_reads_with_its_durations() {
        let block = RolloutBlock {
            steps: Some(vec![10, 50]),
            assess_for: Some("2m".into()),
            alarms: Some(vec!["web-5xx".into()]),
            shrink_previous: Some(true),
            keep_previous_for: Some("1h".into()),
        };
        let mut d = Diagnostics::new();
        let spec = RolloutSpec::from_block(Some(&block), &mut d);
        assert!(!d.has_error());
        assert_eq!(spec.steps, [10, 50]);
        assert_eq!(spec.assess_for, Duration::from_mins(2));
        assert_eq!(spec.keep_previous_for, Duration::from_hours(1));
        assert!(spec.shrink_previous && spec.is_canary());
        assert!(!RolloutSpec::from_block(None, &mut d).is_canary());
    }
}
