//! Shared polling for the health gates of one provider process.
//!
//! Terraform applies up to `-parallelism` resources at once (10 by default, often 50 in large
//! workspaces), each gating its new generation in the same provider process. Polled one by one,
//! 50 gates make 50 DescribeAutoScalingGroups, 50 DescribeTargetHealth per shared target group
//! and 50 DescribeAlarms per round, and the account's request rate is shared: throttling grows
//! with the number of fleets. Here every read asked for during one tick is answered by one batch
//! of calls:
//!
//! - one DescribeAutoScalingGroups per 50 distinct groups (the API's limit for names);
//! - one DescribeTargetHealth per distinct target group, however many fleets share it;
//! - one DescribeAlarms per 100 distinct alarm names (the API's limit);
//! - a target group's name and port once per process (both are fixed for its lifetime), one
//!   DescribeTargetGroups per 20 unknown ARNs.
//!
//! A tick starts when a read is waiting and the previous tick began at least [`TICK`] ago (after
//! idling, 20 ms after the first read), so a read waits at most one tick plus the calls
//! themselves, and an idle process makes no call.
//! A gate that asks again as soon as it has its answer therefore polls once per tick, whatever
//! the number of fleets. When a tick's calls are throttled even after the SDK's retries, the
//! tick doubles (up to [`MAX_TICK`]) and halves back once AWS answers again.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthDescription;
use futures::future::join_all;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::AwsError;
use super::alarms::{AlarmStatus, describe_alarms};
use super::error::{ErrorKind, aws_err};
use super::groups::is_live;

/// The shortest time between the starts of two ticks.
pub const TICK: Duration = Duration::from_secs(1);
/// The longest, reached only while AWS keeps throttling the reads.
pub const MAX_TICK: Duration = Duration::from_secs(8);
/// How long a read that finds the reader idle waits for company: reads that arrive together
/// (Terraform starting many applies at once) share one tick.
const WINDOW: Duration = Duration::from_millis(20);
/// Names per DescribeAutoScalingGroups call (the API's limit for `AutoScalingGroupNames`).
const GROUPS_PER_CALL: usize = 50;
/// ARNs per DescribeTargetGroups call.
const TARGET_GROUPS_PER_CALL: usize = 20;
/// Names per DescribeAlarms call (the API's limit for `AlarmNames`).
const ALARMS_PER_CALL: usize = 100;

/// What one reader wants to see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Watch {
    /// An Auto Scaling group by name.
    pub group: Option<String>,
    /// Target groups by ARN: their name, port and target health.
    pub target_groups: Vec<String>,
    /// CloudWatch alarms by name.
    pub alarms: Vec<String>,
}

/// A target group attached to a fleet, with the port instances are registered on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub arn: String,
    pub name: String,
    pub port: Option<i32>,
}

/// What AWS said in one tick about one [`Watch`].
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// The group, unless it does not exist or is being deleted (`None` too when not asked).
    pub group: Option<AutoScalingGroup>,
    /// Per watched target group, in the watch's order: the group and its targets' health.
    pub target_health: Vec<(TargetGroup, Vec<TargetHealthDescription>)>,
    /// The watched alarms that exist, in the watch's order.
    pub alarms: Vec<AlarmStatus>,
}

type Reply = oneshot::Sender<Result<Reading, AwsError>>;

/// The handle every gate shares; cheap to clone.
#[derive(Debug, Clone)]
pub struct TickReader {
    requests: mpsc::UnboundedSender<(Watch, Reply)>,
}

/// The clients a tick reads with.
#[derive(Debug, Clone)]
pub struct TickClients {
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl TickReader {
    /// Starts the reader's task on the current tokio runtime.
    pub fn spawn(clients: TickClients) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(clients, receiver));
        Self { requests }
    }

    /// What AWS says about `watch` at the next tick. A caller that stops waiting (Stop,
    /// a timeout) is simply left out of the tick.
    pub async fn read(&self, watch: Watch) -> Result<Reading, AwsError> {
        let (reply, answer) = oneshot::channel();
        let gone = || AwsError::other("Poll", "ReaderStopped", "the shared poller has stopped");
        self.requests.send((watch, reply)).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run(clients: TickClients, mut requests: mpsc::UnboundedReceiver<(Watch, Reply)>) {
    let mut known = KnownTargetGroups::default();
    let mut tick = TICK;
    let mut next = Instant::now();
    while let Some(first) = requests.recv().await {
        tokio::time::sleep_until(next.max(Instant::now() + WINDOW)).await;
        let mut batch = vec![first];
        while let Ok(more) = requests.try_recv() {
            batch.push(more);
        }
        batch.retain(|(_, reply)| !reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let started = Instant::now();
        let watches: Vec<&Watch> = batch.iter().map(|(w, _)| w).collect();
        let answers = read_tick(&clients, &mut known, &watches).await;
        let throttled = answers.throttled;
        for (watch, reply) in batch {
            let _ = reply.send(answers.reading(&watch));
        }
        let previous = tick;
        tick = if throttled {
            (tick * 2).min(MAX_TICK)
        } else {
            (tick / 2).max(TICK)
        };
        if tick > previous {
            tracing::warn!(
                "AWS is throttling the health gates' reads; polling every {}s until it stops",
                tick.as_secs()
            );
        }
        next = started + tick;
    }
}

/// Names and ports of target groups, learnt once per process.
#[derive(Debug, Default)]
struct KnownTargetGroups(HashMap<String, TargetGroup>);

/// Everything one tick read, by name or ARN.
#[derive(Debug, Default)]
struct Answers {
    groups: HashMap<String, Result<Option<AutoScalingGroup>, AwsError>>,
    target_groups: HashMap<String, Result<TargetGroup, AwsError>>,
    target_health: HashMap<String, Result<Vec<TargetHealthDescription>, AwsError>>,
    alarms: HashMap<String, Result<Option<AlarmStatus>, AwsError>>,
    /// Whether any call was throttled beyond the SDK's retries.
    throttled: bool,
}

impl Answers {
    /// One watch's share of the tick: the first error among the reads it needs, if any.
    fn reading(&self, watch: &Watch) -> Result<Reading, AwsError> {
        let missing = |what: &str| {
            AwsError::other(
                "Poll",
                "NotRead",
                format!("{what} was not read in this tick"),
            )
        };
        let group = match &watch.group {
            Some(name) => self
                .groups
                .get(name)
                .ok_or_else(|| missing(name))?
                .clone()?,
            None => None,
        };
        let mut target_health = Vec::with_capacity(watch.target_groups.len());
        for arn in &watch.target_groups {
            let tg = self
                .target_groups
                .get(arn)
                .ok_or_else(|| missing(arn))?
                .clone()?;
            let health = self
                .target_health
                .get(arn)
                .ok_or_else(|| missing(arn))?
                .clone()?;
            target_health.push((tg, health));
        }
        let mut alarms = Vec::new();
        for name in distinct(&watch.alarms) {
            if let Some(status) = self
                .alarms
                .get(name)
                .ok_or_else(|| missing(name))?
                .clone()?
            {
                alarms.push(status);
            }
        }
        Ok(Reading {
            group,
            target_health,
            alarms,
        })
    }
}

/// All the calls of one tick, concurrently.
async fn read_tick(
    clients: &TickClients,
    known: &mut KnownTargetGroups,
    watches: &[&Watch],
) -> Answers {
    let groups: Vec<&str> = distinct(watches.iter().filter_map(|w| w.group.as_ref()));
    let arns: Vec<&str> = distinct(watches.iter().flat_map(|w| &w.target_groups));
    let alarm_names: Vec<&str> = distinct(watches.iter().flat_map(|w| &w.alarms));
    let unknown: Vec<&str> = arns
        .iter()
        .copied()
        .filter(|arn| !known.0.contains_key(*arn))
        .collect();

    let (groups, health, alarms, learnt) = futures::join!(
        join_all(
            groups
                .chunks(GROUPS_PER_CALL)
                .map(|chunk| describe_groups(&clients.autoscaling, chunk))
        ),
        join_all(arns.iter().map(|arn| target_health(&clients.elbv2, arn))),
        join_all(
            alarm_names
                .chunks(ALARMS_PER_CALL)
                .map(|chunk| alarm_chunk(&clients.cloudwatch, chunk))
        ),
        learn_target_groups(&clients.elbv2, &unknown),
    );

    let mut answers = Answers::default();
    let mut throttled = false;
    for (names, result) in groups {
        throttled |= is_throttled(&result);
        for name in names {
            let group = result.as_ref().map_err(Clone::clone).map(|found| {
                found
                    .iter()
                    .find(|g| g.auto_scaling_group_name() == Some(name.as_str()) && is_live(g))
                    .cloned()
            });
            answers.groups.insert(name, group);
        }
    }
    for (arn, result) in health {
        throttled |= is_throttled(&result);
        answers.target_health.insert(arn, result);
    }
    for (names, result) in alarms {
        throttled |= is_throttled(&result);
        for name in names {
            let status = result
                .as_ref()
                .map_err(Clone::clone)
                .map(|found| found.iter().find(|s| s.name == name).cloned());
            answers.alarms.insert(name, status);
        }
    }
    for (arn, result) in learnt {
        throttled |= is_throttled(&result);
        if let Ok(tg) = &result {
            known.0.insert(arn.clone(), tg.clone());
        }
        answers.target_groups.insert(arn, result);
    }
    for arn in arns {
        if let Some(tg) = known.0.get(arn) {
            answers.target_groups.insert(arn.to_owned(), Ok(tg.clone()));
        }
    }
    answers.throttled = throttled;
    answers
}

fn is_throttled<T>(result: &Result<T, AwsError>) -> bool {
    result
        .as_ref()
        .is_err_and(|e| e.kind() == ErrorKind::Throttled)
}

/// `items` without repeats, first occurrence first.
fn distinct<'a, S: AsRef<str> + ?Sized + 'a>(
    items: impl IntoIterator<Item = &'a S>,
) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .map(AsRef::as_ref)
        .filter(|s| seen.insert(*s))
        .collect()
}

/// One DescribeAutoScalingGroups for up to 50 names: the names, and the groups found.
async fn describe_groups(
    client: &aws_sdk_autoscaling::Client,
    names: &[&str],
) -> (Vec<String>, Result<Vec<AutoScalingGroup>, AwsError>) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let result = client
        .describe_auto_scaling_groups()
        .set_auto_scaling_group_names(Some(names.clone()))
        .max_records(i32::try_from(GROUPS_PER_CALL).unwrap_or(i32::MAX))
        .send()
        .await
        .map(|out| out.auto_scaling_groups.unwrap_or_default())
        .map_err(aws_err("DescribeAutoScalingGroups"));
    (names, result)
}

async fn target_health(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arn: &str,
) -> (String, Result<Vec<TargetHealthDescription>, AwsError>) {
    let result = client
        .describe_target_health()
        .target_group_arn(arn)
        .send()
        .await
        .map(|out| out.target_health_descriptions.unwrap_or_default())
        .map_err(aws_err("DescribeTargetHealth"));
    (arn.to_owned(), result)
}

async fn alarm_chunk(
    client: &aws_sdk_cloudwatch::Client,
    names: &[&str],
) -> (Vec<String>, Result<Vec<AlarmStatus>, AwsError>) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let result = describe_alarms(client, &names).await;
    (names, result)
}

/// Names and ports of `arns`, 20 a call. A call that fails for several ARNs is repeated for
/// each alone, so one deleted target group fails only the gates that watch it.
async fn learn_target_groups(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[&str],
) -> Vec<(String, Result<TargetGroup, AwsError>)> {
    let mut learnt = Vec::with_capacity(arns.len());
    for chunk in arns.chunks(TARGET_GROUPS_PER_CALL) {
        match describe_target_groups(client, chunk).await {
            Ok(found) => learnt.extend(found),
            Err(e) if chunk.len() == 1 || e.kind() == ErrorKind::Throttled => {
                learnt.extend(chunk.iter().map(|arn| ((*arn).to_owned(), Err(e.clone()))));
            }
            Err(_) => {
                for arn in chunk {
                    let one = describe_target_groups(client, &[arn]).await;
                    learnt.extend(match one {
                        Ok(found) => found,
                        Err(e) => vec![((*arn).to_owned(), Err(e))],
                    });
                }
            }
        }
    }
    learnt
}

async fn describe_target_groups(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    arns: &[&str],
) -> Result<Vec<(String, Result<TargetGroup, AwsError>)>, AwsError> {
    let out = client
        .describe_target_groups()
        .set_target_group_arns(Some(arns.iter().map(|a| (*a).to_owned()).collect()))
        .send()
        .await
        .map_err(aws_err("DescribeTargetGroups"))?;
    Ok(arns
        .iter()
        .map(|arn| {
            let found = out
                .target_groups()
                .iter()
                .find(|t| t.target_group_arn() == Some(*arn));
            // AWS answers for every ARN or fails the call; a missing one reads as its ARN.
            let tg = TargetGroup {
                arn: (*arn).to_owned(),
                name: found
                    .and_then(|t| t.target_group_name())
                    .unwrap_or(arn)
                    .to_owned(),
                port: found.and_then(aws_sdk_elasticloadbalancingv2::types::TargetGroup::port),
            };
            ((*arn).to_owned(), Ok(tg))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn names_are_read_once_in_their_first_order() {
        let a = Watch {
            group: Some("web-g2".to_owned()),
            target_groups: vec!["tg-1".to_owned(), "tg-2".to_owned()],
            alarms: vec!["5xx".to_owned()],
        };
        let b = Watch {
            group: Some("api-g7".to_owned()),
            target_groups: vec!["tg-2".to_owned()],
            alarms: vec!["5xx".to_owned(), "latency".to_owned()],
        };
        let watches = [&a, &b];
        assert_eq!(
            distinct(watches.iter().filter_map(|w| w.group.as_ref())),
            ["web-g2", "api-g7"]
        );
        assert_eq!(
            distinct(watches.iter().flat_map(|w| &w.target_groups)),
            ["tg-1", "tg-2"]
        );
        assert_eq!(
            distinct(watches.iter().flat_map(|w| &w.alarms)),
            ["5xx", "latency"]
        );
    }

    #[test]
    fn a_watch_gets_the_first_error_among_its_reads_and_nothing_of_others() {
        let throttled = AwsError::other("DescribeTargetHealth", "Throttling", "Rate exceeded");
        let mut answers = Answers::default();
        answers.groups.insert("web-g2".to_owned(), Ok(None));
        answers.groups.insert("api-g7".to_owned(), Ok(None));
        let tg = TargetGroup {
            arn: "tg-1".to_owned(),
            name: "web".to_owned(),
            port: Some(80),
        };
        answers.target_groups.insert("tg-1".to_owned(), Ok(tg));
        answers
            .target_health
            .insert("tg-1".to_owned(), Err(throttled.clone()));
        let web = Watch {
            group: Some("web-g2".to_owned()),
            target_groups: vec!["tg-1".to_owned()],
            alarms: Vec::new(),
        };
        let api = Watch {
            group: Some("api-g7".to_owned()),
            ..Watch::default()
        };
        let err = answers.reading(&web).unwrap_err();
        assert_eq!(err.code, "Throttling");
        assert_eq!(err.kind(), ErrorKind::Throttled);
        let reading = answers.reading(&api).unwrap();
        assert!(reading.group.is_none() && reading.target_health.is_empty());
        // A name no tick read is an error, never an empty answer that could pass a gate.
        let stray = Watch {
            alarms: vec!["never-read".to_owned()],
            ..Watch::default()
        };
        assert_eq!(answers.reading(&stray).unwrap_err().code, "NotRead");
    }
}
