//! Fault injection while an apply runs: proxy rules (tests/support/fault_proxy.py) for the
//! provider's calls, `SetAlarmState` for alarms, signals for crashes.
//!
//! Two fault scopes per run: the provider's (Terraform's access key) and the sampler's view.
//! Faults that make *new* instances look unhealthy are installed in both, so the capacity check
//! sees them exactly as the provider does and cannot count them as serving. Faults on the
//! serving generation, and every fault on API calls, go to the provider's scope only: the view
//! keeps moto's truth for them, so an outage the campaign causes on purpose is never taken for
//! capacity the provider removed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use super::scenario::{Fault, FaultKind, Trigger};
use crate::moto::signal_pid;
use crate::sampler::STATE_TAG;
use crate::{Aws, Faults, Rule, RunningTerraform, Service, asg_tag};

/// What the injector needs to know about the run.
pub struct Target<'a> {
    pub fleet: &'a str,
    pub faults: &'a Faults,
    /// Terraform's (and so the provider's) access key.
    pub provider_scope: &'a str,
    /// The sampler's access key.
    pub view_scope: &'a str,
    pub aws: &'a Aws,
    pub alarm: Option<&'a str>,
    pub target_group: Option<&'a str>,
    /// The apply's provider log (`TF_LOG_PATH`).
    pub log: &'a Path,
}

/// What happened to each fault of an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Injected {
    /// Fault kinds injected, by name.
    pub fired: BTreeMap<&'static str, u32>,
    /// Faults whose moment never came (the apply ended first) or that found nothing to act on.
    pub skipped: u32,
    /// A kill or an interrupt was delivered.
    pub crashed: bool,
    /// One line per fault, for the run's log.
    pub notes: Vec<String>,
}

/// Plays `faults` against `running` until Terraform exits; returns what was injected. Rules
/// end by themselves (`for_duration`); the alarm is set back to OK when its fault ends and,
/// at the latest, when the apply ends.
pub fn play(target: &Target<'_>, faults: &[Fault], running: &mut RunningTerraform) -> Injected {
    let started = Instant::now();
    let mut pending: Vec<Fault> = faults.to_vec();
    let mut injected = Injected::default();
    let mut alarm_until: Option<Instant> = None;
    while running.is_running() {
        let progress = progress_lines(target.log, target.fleet);
        let elapsed = started.elapsed();
        let (due, later): (Vec<Fault>, Vec<Fault>) =
            pending.into_iter().partition(|fault| match fault.at {
                Trigger::AfterMillis(millis) => elapsed >= Duration::from_millis(millis),
                Trigger::AfterProgress(lines) => progress >= lines,
            });
        pending = later;
        for fault in due {
            let note = inject(target, &fault, running, &mut alarm_until);
            if let Some(note) = note {
                *injected.fired.entry(fault.kind.name()).or_default() += 1;
                injected.crashed |= fault.kind.is_crash();
                injected.notes.push(format!(
                    "+{:.1}s {fault}: {note}",
                    started.elapsed().as_secs_f64()
                ));
            } else {
                injected.skipped += 1;
                injected
                    .notes
                    .push(format!("{fault}: skipped (nothing to act on)"));
            }
        }
        if alarm_until.is_some_and(|until| Instant::now() >= until) {
            alarm_ok(target);
            alarm_until = None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for fault in pending {
        injected.skipped += 1;
        injected
            .notes
            .push(format!("{fault}: skipped (the apply ended first)"));
    }
    if alarm_until.is_some() {
        alarm_ok(target);
    }
    injected
}

/// Removes every rule of the run's two scopes.
pub fn clear(target: &Target<'_>) {
    target.faults.clear(target.provider_scope);
    target.faults.clear(target.view_scope);
}

fn alarm_ok(target: &Target<'_>) {
    if let Some(alarm) = target.alarm {
        target
            .aws
            .set_alarm_state(alarm, "OK", "chaos: the fault ended");
    }
}

/// How many progress lines of `fleet` the provider logged so far.
pub fn progress_lines(log: &Path, fleet: &str) -> u32 {
    let needle = format!("{fleet}: ");
    fs::read_to_string(log).map_or(0, |text| {
        let count = text
            .lines()
            .filter(|line| {
                line.contains("provider.terraform-provider-immutable") && line.contains(&needle)
            })
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    })
}

/// Injects one fault now; `None` if there was nothing to act on.
fn inject(
    target: &Target<'_>,
    fault: &Fault,
    running: &RunningTerraform,
    alarm_until: &mut Option<Instant>,
) -> Option<String> {
    match fault.kind {
        FaultKind::AlarmFires => {
            let alarm = target.alarm?;
            target.aws.set_alarm_state(
                alarm,
                "ALARM",
                "Threshold Crossed: chaos campaign fault (5xx of the canary)",
            );
            *alarm_until = Some(Instant::now() + Duration::from_millis(fault.for_millis));
            Some(format!("{alarm} in ALARM"))
        }
        FaultKind::KillProvider => {
            let pids = running.provider_pids();
            if pids.is_empty() {
                return None;
            }
            for pid in &pids {
                signal_pid("-KILL", *pid);
            }
            Some(format!("kill -KILL {pids:?}"))
        }
        FaultKind::Interrupt => {
            running.interrupt();
            Some(format!(
                "SIGINT to terraform pid {} and below",
                running.pid()
            ))
        }
        _ => {
            let seen = Seen::now(target.aws, target.fleet);
            let (rules, note) = rules(target, fault.kind, &seen)?;
            let lasting = Duration::from_millis(fault.for_millis);
            for (rule, mirrored) in rules {
                if mirrored {
                    target
                        .faults
                        .add(target.view_scope, rule.clone().for_duration(lasting));
                }
                target
                    .faults
                    .add(target.provider_scope, rule.for_duration(lasting));
            }
            Some(note)
        }
    }
}

/// The fleet's instances in the newest sample.
struct Seen {
    /// Every instance of the fleet's groups.
    present: Vec<String>,
    /// The instances of the serving generation (`serving` or `shrunk`).
    serving: Vec<String>,
}

impl Seen {
    /// Read now, from moto itself (no fault applies to `aws`'s key), right before the rules go
    /// in: an instance the provider launched and gated a moment ago must not count as new.
    fn now(aws: &Aws, fleet: &str) -> Self {
        let groups = aws.fleet_asgs(fleet);
        let ids = |group: &aws_sdk_autoscaling::types::AutoScalingGroup| -> Vec<String> {
            group
                .instances()
                .iter()
                .filter_map(|i| i.instance_id().map(str::to_owned))
                .collect()
        };
        Self {
            present: groups.iter().flat_map(ids).collect(),
            serving: groups
                .iter()
                .filter(|g| {
                    asg_tag(g, STATE_TAG)
                        .is_some_and(|state| state == "serving" || state.starts_with("shrunk"))
                })
                .flat_map(ids)
                .collect(),
        }
    }
}

/// The proxy rules of a rule-made fault, each with whether the sampler's view gets it too, and
/// a note for the log; `None` if there is nothing to act on.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per fault kind, each a few rules"
)]
fn rules(target: &Target<'_>, kind: FaultKind, seen: &Seen) -> Option<(Vec<(Rule, bool)>, String)> {
    let present = &seen.present;
    let percent = |p: u32| f64::from(p) / 100.0;
    Some(match kind {
        FaultKind::Throttle {
            service,
            percent: p,
        } => (
            vec![(Rule::throttle(service).probability(percent(p)), false)],
            "rule installed".to_owned(),
        ),
        FaultKind::ServerError {
            service,
            percent: p,
        } => {
            let (code, status) = match (service, p % 2) {
                (Service::Ec2, 0) => ("InternalError", 500),
                (_, 0) => ("InternalFailure", 500),
                _ => ("ServiceUnavailable", 503),
            };
            (
                vec![(
                    Rule::error(service, code, status).probability(percent(p)),
                    false,
                )],
                format!("{code}/{status}"),
            )
        }
        FaultKind::Latency { millis } => (
            vec![(Rule::delay_ms(millis), false)],
            "rule installed".to_owned(),
        ),
        FaultKind::NewUnhealthyInTargetGroup => {
            target.target_group?;
            (
                vec![(
                    Rule::target_health(present, "unhealthy", "Target.FailedHealthChecks"),
                    true,
                )],
                format!("every instance but {present:?}"),
            )
        }
        FaultKind::NewUnhealthyInGroup => (
            vec![(
                instance_field_rule(present, false, "HealthStatus", "Healthy", "Unhealthy"),
                true,
            )],
            format!("every instance but {present:?}"),
        ),
        FaultKind::NewHeldPending => (
            vec![(
                instance_field_rule(
                    present,
                    false,
                    "LifecycleState",
                    "InService",
                    "Pending:Wait",
                ),
                true,
            )],
            format!("every instance but {present:?}"),
        ),
        FaultKind::ServingUnhealthy { count } => {
            let chosen: Vec<String> = seen
                .serving
                .iter()
                .take(usize::try_from(count).unwrap_or(1))
                .cloned()
                .collect();
            if chosen.is_empty() {
                return None;
            }
            (
                vec![(
                    instance_field_rule(&chosen, true, "HealthStatus", "Healthy", "Unhealthy"),
                    false,
                )],
                format!("{chosen:?}"),
            )
        }
        FaultKind::SlowDrain => {
            let arn = target.target_group?;
            if seen.serving.is_empty() {
                return None;
            }
            let members = seen.serving.iter().fold(String::new(), |mut xml, id| {
                let _ = write!(
                    xml,
                    "<member><Target><Id>{id}</Id><Port>80</Port></Target>\
                     <HealthCheckPort>traffic-port</HealthCheckPort><TargetHealth>\
                     <State>draining</State><Reason>Target.DeregistrationInProgress</Reason>\
                     <Description>Target deregistration is in progress</Description>\
                     </TargetHealth></member>"
                );
                xml
            });
            let listed = |from: &str, to: String| {
                Rule::rewrite("DescribeTargetHealth", from, &to).param("TargetGroupArn", arn)
            };
            (
                vec![
                    (
                        listed(
                            "<TargetHealthDescriptions>",
                            format!("<TargetHealthDescriptions>{members}"),
                        ),
                        false,
                    ),
                    (
                        listed(
                            "<TargetHealthDescriptions/>",
                            format!(
                                "<TargetHealthDescriptions>{members}</TargetHealthDescriptions>"
                            ),
                        ),
                        false,
                    ),
                ],
                format!("{:?} listed as draining", seen.serving),
            )
        }
        FaultKind::AlarmFires | FaultKind::KillProvider | FaultKind::Interrupt => return None,
    })
}

/// A rewrite of DescribeAutoScalingGroups: in the instances `ids` (or, with `only` false, every
/// instance but them), the element `field` reads `to` instead of `from`.
fn instance_field_rule(ids: &[String], only: bool, field: &str, from: &str, to: &str) -> Rule {
    let alternatives = ids.join("|");
    let id = if only {
        format!("(?:{alternatives})</InstanceId>")
    } else {
        format!("(?!(?:{alternatives})<)[^<]*</InstanceId>")
    };
    let pattern =
        format!(r"(?s)(<InstanceId>{id}(?:(?!</member>).)*?<{field}>){from}(?=</{field}>)");
    Rule::rewrite_regex(
        "DescribeAutoScalingGroups",
        &pattern,
        &format!(r"\g<1>{to}"),
    )
}
