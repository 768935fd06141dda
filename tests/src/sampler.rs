//! What moto holds, sampled in the background while a terraform command runs.
//!
//! A [`Sampler`] runs a probe (any function of an [`Aws`]) every interval on its own thread,
//! with its own SDK clients, and keeps every answer with the time it was asked and answered.
//! The test can wait for a sample to satisfy a condition while terraform runs (to act at a
//! given step of a rollout), then [`Sampler::finish`] returns every sample for assertions on
//! the whole sequence ("the old generation never dropped below …", "desired went 1 → 2 → 4").
//!
//! [`FleetSnapshot`] is the usual probe: a fleet's ASGs (capacity, `immutable:state`, instances
//! with their lifecycle and health, target groups), its launch templates and, on request, its
//! live EC2 instances and the health of targets in given target groups.
//!
//! Give the sampler's [`Aws`] an access key of its own (`moto.aws_as(..)`): the fault proxy then
//! neither counts its calls with the scenario's nor applies the scenario's faults to them, so
//! samples show what moto really holds.

use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::AutoScalingGroup;
use aws_sdk_ec2::error::DisplayErrorContext;

use crate::Aws;
use crate::aws::asg_tag;

/// The tag the provider keeps on a generation's ASG (`gating`, `serving`, `parked…`).
pub const STATE_TAG: &str = "immutable:state";

/// One answer of the probe.
#[derive(Debug, Clone)]
pub struct Sample<T> {
    /// When the probe started: nothing it saw happened before this.
    pub at: Instant,
    /// When the probe returned: nothing it saw happened after this.
    pub done: Instant,
    pub value: T,
}

#[derive(Debug)]
struct Shared<T> {
    samples: Mutex<Samples<T>>,
    changed: Condvar,
    stop: AtomicBool,
}

#[derive(Debug)]
struct Samples<T> {
    taken: Vec<Sample<T>>,
    /// The sampling thread ended (stopped or panicked).
    ended: bool,
}

/// A probe running every `interval` on a background thread until [`Sampler::finish`].
#[derive(Debug)]
pub struct Sampler<T> {
    shared: Arc<Shared<T>>,
    handle: Option<JoinHandle<()>>,
    started: Instant,
}

impl<T: Clone + Debug + Send + 'static> Sampler<T> {
    /// Starts sampling at once: `probe(&aws)`, then a pause of `interval`, and so on. A probe
    /// that panics ends the sampling; [`Sampler::finish`] re-raises its panic.
    pub fn start(
        aws: Aws,
        interval: Duration,
        mut probe: impl FnMut(&Aws) -> T + Send + 'static,
    ) -> Self {
        let shared = Arc::new(Shared {
            samples: Mutex::new(Samples {
                taken: Vec::new(),
                ended: false,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let worker = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("moto-sampler".to_owned())
            .spawn(move || {
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                    while !worker.stop.load(Ordering::Acquire) {
                        let at = Instant::now();
                        let value = probe(&aws);
                        let done = Instant::now();
                        lock(&worker.samples).taken.push(Sample { at, done, value });
                        worker.changed.notify_all();
                        sleep_unless_stopped(&worker.stop, interval);
                    }
                }));
                lock(&worker.samples).ended = true;
                worker.changed.notify_all();
                if let Err(payload) = outcome {
                    panic::resume_unwind(payload);
                }
            })
            .unwrap_or_else(|err| panic!("cannot start the sampler thread: {err}"));
        Self {
            shared,
            handle: Some(handle),
            started: Instant::now(),
        }
    }

    /// How many samples were taken so far.
    pub fn len(&self) -> usize {
        lock(&self.shared.samples).taken.len()
    }

    /// Whether no sample was taken yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest sample, if any.
    pub fn latest(&self) -> Option<Sample<T>> {
        lock(&self.shared.samples).taken.last().cloned()
    }

    /// Waits for the first sample taken from now on that satisfies `condition`, and returns
    /// it. Panics with `what` and the newest sample after `timeout`, or if sampling ended.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut condition: impl FnMut(&T) -> bool,
    ) -> Sample<T> {
        let deadline = Instant::now() + timeout;
        let mut samples = lock(&self.shared.samples);
        let mut next = samples.taken.len();
        loop {
            if let Some(found) = samples.taken[next..]
                .iter()
                .find(|sample| condition(&sample.value))
            {
                return found.clone();
            }
            next = samples.taken.len();
            let now = Instant::now();
            assert!(
                !samples.ended,
                "sampling ended while waiting for {what} (a probe failed; see the panic above)"
            );
            assert!(
                now < deadline,
                "not seen within {}s: {what}; newest sample: {:#?}",
                timeout.as_secs(),
                samples.taken.last().map(|sample| &sample.value)
            );
            samples = self
                .shared
                .changed
                .wait_timeout(samples, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Stops sampling after one more sample (so the last one shows the state after whatever
    /// the test waited for), and returns every sample in order. Re-raises a probe's panic.
    pub fn finish(mut self) -> Vec<Sample<T>> {
        let before = self.len();
        // One sample that started after this call, unless sampling already ended.
        let _ = self.try_wait_for_count(before + 1, Duration::from_mins(1));
        self.shared.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take()
            && let Err(payload) = handle.join()
        {
            panic::resume_unwind(payload);
        }
        let taken = std::mem::take(&mut lock(&self.shared.samples).taken);
        eprintln!(
            "[sampler] {} samples over {:.1}s",
            taken.len(),
            self.started.elapsed().as_secs_f64()
        );
        taken
    }

    fn try_wait_for_count(&self, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut samples = lock(&self.shared.samples);
        loop {
            if samples.taken.len() >= count {
                return true;
            }
            let now = Instant::now();
            if samples.ended || now >= deadline {
                return false;
            }
            samples = self
                .shared
                .changed
                .wait_timeout(samples, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl<T> Drop for Sampler<T> {
    fn drop(&mut self) {
        // A test that panicked before `finish` must not leave the thread polling moto.
        self.shared.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The samples stay valid if a waiter panicked while holding the lock.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sleep_unless_stopped(stop: &AtomicBool, interval: Duration) {
    let until = Instant::now() + interval;
    while !stop.load(Ordering::Acquire) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        thread::sleep((until - now).min(Duration::from_millis(20)));
    }
}

/// Values in the order they were sampled, with consecutive repeats removed: `[1, 1, 2, 2, 4]`
/// reads `[1, 2, 4]`.
pub fn distinct_in_order<T, K: PartialEq>(
    samples: &[Sample<T>],
    mut key: impl FnMut(&T) -> K,
) -> Vec<K> {
    let mut seen: Vec<K> = Vec::new();
    for sample in samples {
        let value = key(&sample.value);
        if seen.last() != Some(&value) {
            seen.push(value);
        }
    }
    seen
}

/// One instance of an ASG as DescribeAutoScalingGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInstance {
    pub id: String,
    /// `Pending`, `InService`, `Terminating`, …
    pub lifecycle: String,
    /// `Healthy` or `Unhealthy`.
    pub health: String,
}

impl GroupInstance {
    /// InService and Healthy in its group.
    pub fn in_service(&self) -> bool {
        self.lifecycle == "InService" && self.health == "Healthy"
    }
}

/// One ASG of a fleet at the moment of a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub name: String,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    /// The `immutable:state` tag.
    pub state: Option<String>,
    pub instances: Vec<GroupInstance>,
    pub target_groups: Vec<String>,
}

impl GroupView {
    fn of(asg: &AutoScalingGroup) -> Self {
        let mut instances: Vec<GroupInstance> = asg
            .instances()
            .iter()
            .map(|instance| GroupInstance {
                id: instance.instance_id().unwrap_or_default().to_owned(),
                lifecycle: instance
                    .lifecycle_state()
                    .map(|state| state.as_str().to_owned())
                    .unwrap_or_default(),
                health: instance.health_status().unwrap_or_default().to_owned(),
            })
            .collect();
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        let mut target_groups: Vec<String> = asg.target_group_arns().to_vec();
        target_groups.sort();
        Self {
            name: asg.auto_scaling_group_name().unwrap_or_default().to_owned(),
            desired: asg.desired_capacity().unwrap_or_default(),
            min: asg.min_size().unwrap_or_default(),
            max: asg.max_size().unwrap_or_default(),
            state: asg_tag(asg, STATE_TAG).map(str::to_owned),
            instances,
            target_groups,
        }
    }

    /// Ids of the group's instances, sorted.
    pub fn instance_ids(&self) -> Vec<String> {
        self.instances.iter().map(|i| i.id.clone()).collect()
    }

    /// How many of its instances are InService and Healthy.
    pub fn in_service(&self) -> usize {
        self.instances.iter().filter(|i| i.in_service()).count()
    }
}

/// What to read besides the fleet's ASGs and launch templates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetProbe {
    pub fleet: String,
    /// Also list the fleet's live EC2 instances (DescribeInstances over all of moto's: slower).
    pub instances: bool,
    /// Also read DescribeTargetHealth of these target groups.
    pub target_groups: Vec<String>,
}

impl FleetProbe {
    /// ASGs and launch templates of `fleet` only.
    pub fn new(fleet: &str) -> Self {
        Self {
            fleet: fleet.to_owned(),
            ..Self::default()
        }
    }

    /// Also the fleet's live EC2 instances.
    #[must_use]
    pub fn with_instances(mut self) -> Self {
        self.instances = true;
        self
    }

    /// Also the target health of `arn`.
    #[must_use]
    pub fn with_target_group(mut self, arn: &str) -> Self {
        self.target_groups.push(arn.to_owned());
        self
    }

    /// Reads the fleet once.
    pub fn take(&self, aws: &Aws) -> FleetSnapshot {
        let groups = aws
            .fleet_asgs(&self.fleet)
            .iter()
            .map(GroupView::of)
            .collect();
        let templates = fleet_template_names(aws, &self.fleet);
        let live_instances = self.instances.then(|| {
            aws.live_instances_of_fleet(&self.fleet)
                .iter()
                .filter_map(|i| i.instance_id().map(str::to_owned))
                .collect()
        });
        let targets = self
            .target_groups
            .iter()
            .map(|arn| (arn.clone(), target_health(aws, arn)))
            .collect();
        FleetSnapshot {
            groups,
            templates,
            live_instances,
            targets,
        }
    }

    /// A [`Sampler`] of this probe every `interval`.
    pub fn sample(self, aws: Aws, interval: Duration) -> Sampler<FleetSnapshot> {
        Sampler::start(aws, interval, move |aws| self.take(aws))
    }
}

/// A fleet as moto holds it at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSnapshot {
    /// Sorted by name.
    pub groups: Vec<GroupView>,
    /// Launch template names, sorted.
    pub templates: Vec<String>,
    /// Live (pending or running) EC2 instances of the fleet, sorted, if the probe asked.
    pub live_instances: Option<Vec<String>>,
    /// Per target group asked for: `(instance id, state)` of each registered target.
    pub targets: Vec<(String, Vec<(String, String)>)>,
}

impl FleetSnapshot {
    /// The ASG named `name`, if it exists.
    pub fn group(&self, name: &str) -> Option<&GroupView> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The ASGs other than `name`.
    pub fn others(&self, name: &str) -> Vec<&GroupView> {
        self.groups.iter().filter(|g| g.name != name).collect()
    }

    /// Instances that serve: InService and Healthy in one of the fleet's ASGs and, when the
    /// probe read target groups, `healthy` in each of them. Sorted.
    pub fn serving_instances(&self) -> Vec<String> {
        self.serving_instances_in(|_| true)
    }

    /// [`FleetSnapshot::serving_instances`] of the groups `include` accepts.
    pub fn serving_instances_in(&self, include: impl Fn(&GroupView) -> bool) -> Vec<String> {
        let mut serving: Vec<String> = self
            .groups
            .iter()
            .filter(|g| include(g))
            .flat_map(|g| g.instances.iter())
            .filter(|i| i.in_service())
            .filter(|i| {
                self.targets.iter().all(|(_, targets)| {
                    targets
                        .iter()
                        .any(|(id, state)| *id == i.id && state == "healthy")
                })
            })
            .map(|i| i.id.clone())
            .collect();
        serving.sort();
        serving.dedup();
        serving
    }
}

/// Names of the fleet's launch templates (tagged `immutable:fleet=<fleet>` or named
/// `<fleet>-…`), sorted.
pub fn fleet_template_names(aws: &Aws, fleet: &str) -> Vec<String> {
    aws.fleet_launch_templates(fleet)
        .iter()
        .filter_map(|t| t.launch_template_name().map(str::to_owned))
        .collect()
}

fn target_health(aws: &Aws, arn: &str) -> Vec<(String, String)> {
    let output = aws
        .block_on(
            aws.elbv2
                .describe_target_health()
                .target_group_arn(arn)
                .send(),
        )
        .unwrap_or_else(|err| panic!("DescribeTargetHealth {arn}: {}", DisplayErrorContext(&err)));
    let mut targets: Vec<(String, String)> = output
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            let id = d.target()?.id()?.to_owned();
            let state = d
                .target_health()
                .and_then(|h| h.state())
                .map_or_else(String::new, |s| s.as_str().to_owned());
            Some((id, state))
        })
        .collect();
    targets.sort();
    targets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(value: i32) -> Sample<i32> {
        let now = Instant::now();
        Sample {
            at: now,
            done: now,
            value,
        }
    }

    #[test]
    fn distinct_in_order_drops_consecutive_repeats_only() {
        let samples: Vec<Sample<i32>> = [1, 1, 2, 2, 4, 2].into_iter().map(sample).collect();
        assert_eq!(distinct_in_order(&samples, |v| *v), [1, 2, 4, 2]);
        assert!(distinct_in_order(&[] as &[Sample<i32>], |v| *v).is_empty());
    }

    #[test]
    fn serving_needs_in_service_and_every_target_group_healthy() {
        let instance = |id: &str, lifecycle: &str| GroupInstance {
            id: id.to_owned(),
            lifecycle: lifecycle.to_owned(),
            health: "Healthy".to_owned(),
        };
        let snapshot = FleetSnapshot {
            groups: vec![GroupView {
                name: "g".to_owned(),
                desired: 3,
                min: 1,
                max: 4,
                state: Some("serving".to_owned()),
                instances: vec![
                    instance("i-1", "InService"),
                    instance("i-2", "InService"),
                    instance("i-3", "Pending"),
                ],
                target_groups: vec!["tg".to_owned()],
            }],
            templates: vec!["g".to_owned()],
            live_instances: None,
            targets: vec![(
                "tg".to_owned(),
                vec![
                    ("i-1".to_owned(), "healthy".to_owned()),
                    ("i-2".to_owned(), "draining".to_owned()),
                    ("i-3".to_owned(), "healthy".to_owned()),
                ],
            )],
        };
        assert_eq!(snapshot.serving_instances(), ["i-1"]);
        assert_eq!(snapshot.groups[0].in_service(), 2);
    }
}
