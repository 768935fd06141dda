//! Judging a rollout's CloudWatch alarms (read through the shared tick reader: one
//! DescribeAlarms a tick for every gate's alarms), and the words a diagnostic uses for the
//! ones that fail it.

use std::fmt;

use crate::aws::alarms::{AlarmState, AlarmStatus};
use crate::aws::tick_reader::Watch;
use crate::aws::{AwsClients, AwsError};

/// What the watched alarms say now.
#[derive(Debug, PartialEq, Eq)]
pub enum AlarmVerdict {
    /// None in `ALARM` (`OK` or `INSUFFICIENT_DATA`: no data is no verdict).
    Quiet,
    /// These are in `ALARM`.
    Firing(Vec<AlarmStatus>),
    /// These do not exist: a watch that cannot fire is an error, never a pass.
    Missing(Vec<String>),
}

/// Reads `names` at the next tick and judges them.
pub async fn judge(clients: &AwsClients, names: &[String]) -> Result<AlarmVerdict, AwsError> {
    let watch = Watch {
        alarms: names.to_vec(),
        ..Watch::default()
    };
    let reading = clients.ticks.read(watch).await?;
    Ok(verdict(names, reading.alarms))
}

/// Missing alarms first (they make the watch meaningless), then those firing, in the order
/// the configuration lists them.
pub(super) fn verdict(names: &[String], statuses: Vec<AlarmStatus>) -> AlarmVerdict {
    let missing: Vec<String> = names
        .iter()
        .filter(|n| !statuses.iter().any(|s| &s.name == *n))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return AlarmVerdict::Missing(missing);
    }
    let mut firing: Vec<AlarmStatus> = statuses
        .into_iter()
        .filter(|s| s.state == AlarmState::Alarm)
        .collect();
    if firing.is_empty() {
        return AlarmVerdict::Quiet;
    }
    firing.sort_by_key(|s| names.iter().position(|n| *n == s.name));
    AlarmVerdict::Firing(firing)
}

pub fn describe_firing(f: &mut fmt::Formatter<'_>, firing: &[AlarmStatus]) -> fmt::Result {
    for (i, alarm) in firing.iter().enumerate() {
        if i > 0 {
            writeln!(f)?;
        }
        write!(f, "Alarm {:?} is in ALARM: {}", alarm.name, alarm.reason)?;
    }
    Ok(())
}

pub fn describe_missing(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    let (noun, verb) = if names.len() == 1 {
        ("alarm", "does")
    } else {
        ("alarms", "do")
    };
    write!(
        f,
        "CloudWatch {noun} {} {verb} not exist in this account and region. An alarm the \
         rollout cannot read can never stop it, so this is an error, not a pass: create it, \
         or remove it from rollout.alarms.",
        quoted.join(", ")
    )
}

/// The text of a verdict that fails, for diagnostics outside a gate.
pub struct Described<'a>(pub &'a AlarmVerdict);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AlarmVerdict::Quiet => write!(f, "No alarm is in ALARM."),
            AlarmVerdict::Firing(firing) => describe_firing(f, firing),
            AlarmVerdict::Missing(names) => describe_missing(f, names),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, state: AlarmState) -> AlarmStatus {
        AlarmStatus {
            name: name.to_owned(),
            state,
            reason: format!("{name} crossed its threshold"),
        }
    }

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_alarm_fails_and_in_configured_order() {
        let watched = names(&["p99", "5xx", "cpu"]);
        let quiet = vec![
            status("5xx", AlarmState::Ok),
            status("p99", AlarmState::InsufficientData),
            status("cpu", AlarmState::Ok),
        ];
        assert_eq!(verdict(&watched, quiet), AlarmVerdict::Quiet);
        let firing = vec![
            status("5xx", AlarmState::Alarm),
            status("p99", AlarmState::Alarm),
            status("cpu", AlarmState::Ok),
        ];
        let order: Vec<String> = match verdict(&watched, firing) {
            AlarmVerdict::Firing(firing) => firing.into_iter().map(|s| s.name).collect(),
            other => vec![format!("{other:?}")],
        };
        assert_eq!(order, ["p99", "5xx"]);
    }

    #[test]
    fn a_missing_alarm_is_named_before_any_that_fires() {
        let watched = names(&["5xx", "gone"]);
        let v = verdict(&watched, vec![status("5xx", AlarmState::Alarm)]);
        assert_eq!(v, AlarmVerdict::Missing(names(&["gone"])));
        assert!(
            Described(&v)
                .to_string()
                .starts_with("CloudWatch alarm \"gone\" does not exist"),
            "{}",
            Described(&v)
        );
        let firing = AlarmVerdict::Firing(vec![status("5xx", AlarmState::Alarm)]);
        assert_eq!(
            Described(&firing).to_string(),
            "Alarm \"5xx\" is in ALARM: 5xx crossed its threshold"
        );
    }
}
