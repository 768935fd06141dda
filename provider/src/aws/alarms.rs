//! CloudWatch alarm states, read in as few DescribeAlarms calls as the API allows.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{AlarmType, StateValue};

use super::AwsError;
use super::error::aws_err;

/// Alarm names per DescribeAlarms call (the API's limit for `AlarmNames` and `MaxRecords`).
const NAMES_PER_CALL: usize = 100;

/// An alarm's state as CloudWatch reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    /// The API's spelling: `OK`, `ALARM`, `INSUFFICIENT_DATA`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&StateValue> for AlarmState {
    fn from(value: &StateValue) -> Self {
        match value {
            StateValue::Ok => Self::Ok,
            StateValue::Alarm => Self::Alarm,
            // A state this SDK does not know says nothing about health either way.
            _ => Self::InsufficientData,
        }
    }
}

/// One alarm, metric or composite: its name, state and CloudWatch's reason for the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
}

/// The states of the alarms named `names`, metric and composite alike, in the order of
/// `names` (duplicates once). Names no alarm has are absent from the result.
pub async fn describe_alarms(
    client: &aws_sdk_cloudwatch::Client,
    names: &[String],
) -> Result<Vec<AlarmStatus>, AwsError> {
    let wanted = distinct(names);
    let mut found = HashMap::new();
    for chunk in wanted.chunks(NAMES_PER_CALL) {
        let mut pages = client
            .describe_alarms()
            .set_alarm_names(Some(chunk.iter().map(|n| (*n).to_owned()).collect()))
            // Without AlarmTypes, CloudWatch returns metric alarms only.
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .into_paginator()
            .page_size(i32::try_from(NAMES_PER_CALL).unwrap_or(i32::MAX))
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(aws_err("DescribeAlarms"))?;
            for status in statuses(&page) {
                found.insert(status.name.clone(), status);
            }
        }
    }
    Ok(wanted
        .into_iter()
        .filter_map(|name| found.remove(name))
        .collect())
}

/// `names` without repeats, first occurrence first.
fn distinct(names: &[String]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(String::as_str)
        .filter(|n| seen.insert(*n))
        .collect()
}

/// The named alarms of one DescribeAlarms answer, metric ones first.
fn statuses(page: &DescribeAlarmsOutput) -> impl Iterator<Item = AlarmStatus> + '_ {
    let metric = page
        .metric_alarms()
        .iter()
        .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
    let composite = page
        .composite_alarms()
        .iter()
        .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
    metric.chain(composite).filter_map(|(name, state, reason)| {
        Some(AlarmStatus {
            name: name?.to_owned(),
            state: state.map_or(AlarmState::InsufficientData, AlarmState::from),
            reason: reason.unwrap_or_default().to_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatch::types::{CompositeAlarm, MetricAlarm};

    use super::*;

    #[test]
    fn metric_and_composite_alarms_both_count_and_unnamed_ones_are_skipped() {
        let page = DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name("5xx")
                    .state_value(StateValue::Alarm)
                    .state_reason("Threshold Crossed: 1 datapoint [3.0] >= 1.0")
                    .build(),
            )
            .metric_alarms(MetricAlarm::builder().state_value(StateValue::Ok).build())
            .composite_alarms(
                CompositeAlarm::builder()
                    .alarm_name("latency-and-errors")
                    .build(),
            )
            .build();
        let got: Vec<AlarmStatus> = statuses(&page).collect();
        assert_eq!(
            got,
            vec![
                AlarmStatus {
                    name: "5xx".to_owned(),
                    state: AlarmState::Alarm,
                    reason: "Threshold Crossed: 1 datapoint [3.0] >= 1.0".to_owned(),
                },
                AlarmStatus {
                    name: "latency-and-errors".to_owned(),
                    state: AlarmState::InsufficientData,
                    reason: String::new(),
                },
            ]
        );
    }

    #[test]
    fn states_read_as_the_api_spells_them() {
        assert_eq!(AlarmState::from(&StateValue::Ok), AlarmState::Ok);
        assert_eq!(
            AlarmState::from(&StateValue::from("SOMETHING_NEW")),
            AlarmState::InsufficientData
        );
        assert_eq!(AlarmState::Alarm.to_string(), "ALARM");
        assert_eq!(
            AlarmState::InsufficientData.to_string(),
            "INSUFFICIENT_DATA"
        );
    }

    #[test]
    fn names_are_asked_for_once_in_their_first_order() {
        let names: Vec<String> = ["b", "a", "b", "c", "a"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(distinct(&names), ["b", "a", "c"]);
        // 250 names: three calls of at most 100.
        let many: Vec<String> = (0..250).map(|i| format!("alarm-{i}")).collect();
        let sizes: Vec<usize> = distinct(&many)
            .chunks(NAMES_PER_CALL)
            .map(<[&str]>::len)
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
    }
}
