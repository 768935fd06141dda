//! Checks of the `rollout` block: steps, durations, alarm names, and the one combination
//! that contradicts itself.

use std::collections::BTreeSet;
use std::time::Duration;

use tfplugin_cty::Value;

use super::super::schema::rollout::{
    ALARMS, ASSESS_FOR, KEEP_PREVIOUS_FOR, SHRINK_PREVIOUS, STEPS,
};
use super::super::schema::{ROLLOUT, at};
use super::DurationBounds;
use crate::framework::value::ObjectExt;
use crate::framework::{Diagnostics, duration};

/// Alarms one DescribeAlarms call can name (its `AlarmNames` takes at most 100).
const MAX_ALARMS: usize = 100;
/// CloudWatch alarm names have 1–255 characters.
const ALARM_NAME_CHARS: usize = 255;

const DURATIONS: [DurationBounds; 2] = [
    DurationBounds {
        block: ROLLOUT,
        name: ASSESS_FOR,
        min: Duration::ZERO,
        max: Duration::from_hours(24),
        whole_seconds: "the assessment counts in whole seconds",
        max_reason: "Terraform holds the state lock for every step's assessment",
    },
    DurationBounds {
        block: ROLLOUT,
        name: KEEP_PREVIOUS_FOR,
        min: Duration::ZERO,
        max: Duration::from_hours(720),
        whole_seconds: "the window ends with a scheduled action, timed in whole seconds",
        max_reason: "a parked generation runs its instances for the whole window; keep a \
                     month's rollback at most",
    },
];

pub fn config(config: &Value, d: &mut Diagnostics) {
    let block = config.attr(ROLLOUT);
    if block.is_null() || block.is_unknown() {
        return;
    }
    steps(block, d);
    for bounds in DURATIONS {
        if let Some(text) = block.string(bounds.name) {
            bounds.check(text, d);
        }
    }
    alarms(block, d);
    let keeps = block
        .string(KEEP_PREVIOUS_FOR)
        .and_then(|t| duration::parse(t).ok())
        .is_some_and(|k| !k.is_zero());
    if block.attr(SHRINK_PREVIOUS).as_bool() == Some(true) && keeps {
        d.attribute_error(
            at(ROLLOUT).attr(SHRINK_PREVIOUS),
            "shrink_previous and keep_previous_for contradict each other",
            "shrink_previous gives the old generation's instances up as the new one grows; \
             keep_previous_for keeps them running after the rollout, so that a rollback \
             launches nothing. A shrunk generation would have to launch instances again to \
             take the fleet back. Choose one.",
        );
    }
}

fn steps(block: &Value, d: &mut Diagnostics) {
    let Some(steps) = block.attr(STEPS).elements() else {
        return;
    };
    let mut previous: Option<i64> = None;
    for (i, step) in steps.iter().enumerate() {
        let path = at(ROLLOUT)
            .attr(STEPS)
            .index(i64::try_from(i).unwrap_or(i64::MAX));
        let Some(number) = step.as_number() else {
            continue;
        };
        let Some(percent) = number.as_i64() else {
            d.attribute_error(
                path,
                "Invalid canary step",
                format!("{number} is not a whole number of percent."),
            );
            continue;
        };
        if !(1..=99).contains(&percent) {
            d.attribute_error(
                path,
                "Invalid canary step",
                format!(
                    "{percent} is outside 1–99. Steps are the shares the new generation runs \
                     before the last one, which is always 100 and is implied."
                ),
            );
        } else if let Some(before) = previous
            && percent <= before
        {
            d.attribute_error(
                path,
                "Canary steps not increasing",
                format!(
                    "{percent} follows {before}: each step must be larger than the one \
                     before, e.g. [10, 25, 50]."
                ),
            );
        }
        previous = Some(percent);
    }
}

fn alarms(block: &Value, d: &mut Diagnostics) {
    let Some(alarms) = block.attr(ALARMS).elements() else {
        return;
    };
    let path = at(ROLLOUT).attr(ALARMS);
    if alarms.len() > MAX_ALARMS {
        d.attribute_error(
            path.clone(),
            "Too many alarms",
            format!(
                "{} alarms are listed; at most {MAX_ALARMS} (one DescribeAlarms call names at \
                 most {MAX_ALARMS}). Combine them into a composite alarm.",
                alarms.len()
            ),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, alarm) in alarms.iter().enumerate() {
        let Some(name) = alarm.as_str() else {
            continue;
        };
        let at_alarm = path.index(i64::try_from(i).unwrap_or(i64::MAX));
        let chars = name.chars().count();
        if chars == 0 || chars > ALARM_NAME_CHARS {
            d.attribute_error(
                at_alarm,
                "Invalid alarm name",
                format!(
                    "{name:?} has {chars} characters; a CloudWatch alarm name has \
                     1–{ALARM_NAME_CHARS}."
                ),
            );
        } else if !seen.insert(name) {
            d.attribute_error(
                at_alarm,
                "Duplicate alarm",
                format!("{name:?} is listed twice."),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(rollout: Vec<(&str, Value)>) -> Vec<String> {
        let mut d = Diagnostics::new();
        let config = Value::object([(ROLLOUT, Value::object(rollout))]);
        super::config(&config, &mut d);
        d.iter()
            .map(|e| format!("{}: {}", e.summary, e.detail))
            .collect()
    }

    fn numbers(items: &[f64]) -> Value {
        Value::list(
            items
                .iter()
                .filter_map(|n| tfplugin_cty::Number::from_f64(*n).map(Value::Number))
                .collect(),
        )
    }

    #[test]
    fn steps_must_be_whole_increasing_percentages_below_100() {
        assert!(errors(vec![(STEPS, numbers(&[10.0, 50.0]))]).is_empty());
        let found = errors(vec![(STEPS, numbers(&[0.0, 50.0, 50.0, 12.5, 100.0]))]);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found[0].starts_with("Invalid canary step: 0 is outside 1–99"),
            "{found:?}"
        );
        assert!(found[1].starts_with("Canary steps not increasing: 50 follows 50"));
        assert!(found[2].contains("12.5 is not a whole number"), "{found:?}");
        assert!(found[3].starts_with("Invalid canary step: 100 is outside"));
    }

    #[test]
    fn durations_are_bounded_whole_seconds() {
        let found = errors(vec![
            (ASSESS_FOR, Value::string("25h")),
            (KEEP_PREVIOUS_FOR, Value::string("1.5s")),
        ]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("assess_for = \"25h\" is longer than 24h"),
            "{found:?}"
        );
        assert!(found[1].contains("keep_previous_for"), "{found:?}");
        assert!(
            errors(vec![(KEEP_PREVIOUS_FOR, Value::string("soon"))])[0]
                .starts_with("Invalid duration")
        );
    }

    #[test]
    fn alarm_names_are_checked_and_unique() {
        let names = |n: &[&str]| Value::list(n.iter().map(|s| Value::string(*s)).collect());
        assert!(errors(vec![(ALARMS, names(&["web-5xx", "web-p99"]))]).is_empty());
        let found = errors(vec![(ALARMS, names(&["web-5xx", "", "web-5xx"]))]);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("Invalid alarm name"));
        assert!(found[1].starts_with("Duplicate alarm: \"web-5xx\""));
        let many: Vec<String> = (0..101).map(|i| format!("a{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(errors(vec![(ALARMS, names(&many))])[0].starts_with("Too many alarms"));
    }

    #[test]
    fn shrinking_and_keeping_the_previous_generation_is_refused() {
        let found = errors(vec![
            (SHRINK_PREVIOUS, Value::Bool(true)),
            (KEEP_PREVIOUS_FOR, Value::string("1h")),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("shrink_previous and keep_previous_for contradict"));
        assert!(
            errors(vec![
                (SHRINK_PREVIOUS, Value::Bool(true)),
                (KEEP_PREVIOUS_FOR, Value::string("0s")),
            ])
            .is_empty()
        );
    }
}
