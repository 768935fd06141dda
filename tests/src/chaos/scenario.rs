//! A scenario from a seed: the fleet's settings, the changes applied one after another, and the
//! faults injected into each apply, with when. Pure: the same seed always gives the same
//! scenario, printed at the start of every run ([`Scenario`]'s `Display`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::hcl::{Fleet, HealthCheck, Rollout};
use crate::rng::Rng;
use crate::{MOTO_AMI, MOTO_AMI_2, Service};

/// How long a parked generation is kept when the scenario parks (longer than any run).
pub const KEEP_PREVIOUS_FOR: &str = "30m";

/// The fleet's settings, fixed for the whole scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub min_size: u32,
    pub max_size: u32,
    pub desired: u32,
    pub min_healthy_percent: u32,
    /// `EC2` or `ELB`.
    pub check_type: &'static str,
    pub timeout_secs: u32,
    pub healthy_for_secs: u32,
    /// The fleet sits behind one target group of its own.
    pub target_group: bool,
    pub rollout: Option<RolloutSettings>,
}

/// The `rollout` block, if the scenario has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutSettings {
    pub steps: Vec<u32>,
    pub assess_for_secs: u32,
    /// One alarm of the run's own watches the rollout.
    pub alarm: bool,
    pub shrink_previous: bool,
    /// `keep_previous_for = KEEP_PREVIOUS_FOR`.
    pub keep_previous: bool,
}

/// What one apply changes in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A new image (the other AMI and new user data): a new generation.
    Image,
    /// Back to the image of the generation before the current one (a parked one comes back).
    Rollback,
    /// A new desired capacity (and max_size if need be): in place.
    Capacity { desired: u32, max_size: u32 },
    /// A new value of the fleet's `chaos` tag: in place.
    Tags,
}

/// A fault, and what it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// The service's throttling error for `percent` % of the provider's calls.
    Throttle { service: Service, percent: u32 },
    /// A 5xx (InternalError/500, ServiceUnavailable/503) for `percent` % of the calls.
    ServerError { service: Service, percent: u32 },
    /// Every call of the provider waits `millis` before moto answers.
    Latency { millis: u64 },
    /// Instances launched from now on are `unhealthy` in the target group.
    NewUnhealthyInTargetGroup,
    /// Instances launched from now on are InService/`Unhealthy` in their Auto Scaling group
    /// (every instance not present when the fault starts).
    NewUnhealthyInGroup,
    /// Instances launched from now on stay `Pending:Wait` (a lifecycle hook holds them).
    NewHeldPending,
    /// Up to `count` instances of the serving generation go InService/`Unhealthy` in their
    /// group, as the provider sees them (an outage the provider did not cause).
    ServingUnhealthy { count: u32 },
    /// The serving generation's targets stay listed as `draining` after they deregister.
    SlowDrain,
    /// The rollout's alarm goes into ALARM (back to OK when the fault ends).
    AlarmFires,
    /// SIGKILL of the provider process(es) under Terraform.
    KillProvider,
    /// Ctrl-C: SIGINT to Terraform and the processes below it.
    Interrupt,
}

impl FaultKind {
    /// The kind's name in the campaign table.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Throttle { .. } => "throttle",
            FaultKind::ServerError { .. } => "5xx",
            FaultKind::Latency { .. } => "latency",
            FaultKind::NewUnhealthyInTargetGroup => "new-unhealthy-in-tg",
            FaultKind::NewUnhealthyInGroup => "new-unhealthy-in-asg",
            FaultKind::NewHeldPending => "new-held-pending",
            FaultKind::ServingUnhealthy { .. } => "serving-unhealthy",
            FaultKind::SlowDrain => "slow-drain",
            FaultKind::AlarmFires => "alarm-fires",
            FaultKind::KillProvider => "sigkill-provider",
            FaultKind::Interrupt => "sigint-terraform",
        }
    }

    /// Every kind's name, in table order.
    pub const NAMES: [&'static str; 11] = [
        "throttle",
        "5xx",
        "latency",
        "new-unhealthy-in-tg",
        "new-unhealthy-in-asg",
        "new-held-pending",
        "serving-unhealthy",
        "slow-drain",
        "alarm-fires",
        "sigkill-provider",
        "sigint-terraform",
    ];

    /// Kills or interrupts the apply (a re-apply follows).
    pub fn is_crash(&self) -> bool {
        matches!(self, FaultKind::KillProvider | FaultKind::Interrupt)
    }
}

/// When a fault starts, counted from the apply's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// After this many milliseconds.
    AfterMillis(u64),
    /// Once the provider has logged this many progress lines of the fleet
    /// (`<fleet>: step 1/3 (25%): …`, `<fleet>: 2/4 healthy`, …).
    AfterProgress(u32),
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trigger::AfterMillis(millis) => write!(f, "at +{:.1}s", ms_as_secs(*millis)),
            Trigger::AfterProgress(lines) => write!(f, "after progress line {lines}"),
        }
    }
}

/// One fault of one apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub kind: FaultKind,
    pub at: Trigger,
    /// How long it lasts (ignored by the crash kinds, which are instants).
    pub for_millis: u64,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            FaultKind::Throttle { service, percent } => {
                format!("throttle {percent}% of {}", service.scope_name())
            }
            FaultKind::ServerError { service, percent } => {
                format!("5xx for {percent}% of {}", service.scope_name())
            }
            FaultKind::Latency { millis } => format!("latency {millis}ms on every call"),
            FaultKind::ServingUnhealthy { count } => {
                format!("{count} serving instance(s) unhealthy")
            }
            other => other.name().to_owned(),
        };
        if self.kind.is_crash() {
            write!(f, "{what} {}", self.at)
        } else {
            write!(
                f,
                "{what} {} for {:.1}s",
                self.at,
                ms_as_secs(self.for_millis)
            )
        }
    }
}

/// One apply of the scenario: a change and the faults injected while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub change: Change,
    pub faults: Vec<Fault>,
}

/// Everything one run does, derived from its seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub seed: u64,
    /// The fleet's name (unique per seed, so runs share one moto).
    pub fleet: String,
    pub settings: Settings,
    /// Faults of the first apply (the fleet's creation).
    pub create_faults: Vec<Fault>,
    pub steps: Vec<Step>,
}

/// A configuration version: what each apply writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub image_id: String,
    /// The user data's version: a new one bakes a new generation.
    pub build: u32,
    pub desired: u32,
    pub max_size: u32,
    pub tag: u32,
}

impl Scenario {
    /// The scenario of `seed`.
    pub fn generate(seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let settings = settings(&mut rng);
        let create_faults = faults(&mut rng, &settings, true);
        let count = rng.range(2, 4);
        let mut steps = Vec::new();
        let mut desired = settings.desired;
        let mut max_size = settings.max_size;
        let mut images = 1;
        for _ in 0..count {
            let change = rng
                .weighted(&[
                    (Kind::Image, 45),
                    (Kind::Rollback, if images > 1 { 20 } else { 0 }),
                    (Kind::Capacity, 25),
                    (Kind::Tags, 10),
                ])
                .unwrap_or(Kind::Image);
            let change = match change {
                Kind::Image => {
                    images += 1;
                    Change::Image
                }
                Kind::Rollback => Change::Rollback,
                Kind::Tags => Change::Tags,
                Kind::Capacity => {
                    let mut next = desired;
                    while next == desired {
                        next = to_u32(rng.range(1, 5));
                    }
                    desired = next;
                    max_size = max_size.max(desired);
                    Change::Capacity { desired, max_size }
                }
            };
            steps.push(Step {
                change,
                faults: faults(&mut rng, &settings, false),
            });
        }
        Self {
            seed,
            fleet: format!("chaos-s{seed}"),
            settings,
            create_faults,
            steps,
        }
    }

    /// The configuration of the first apply.
    pub fn first_config(&self) -> Config {
        Config {
            image_id: MOTO_AMI.to_owned(),
            build: 1,
            desired: self.settings.desired,
            max_size: self.settings.max_size,
            tag: 1,
        }
    }

    /// The configurations of every step, in order, starting from [`Scenario::first_config`].
    /// A rollback goes back to the build that served before the current one.
    pub fn configs(&self) -> Vec<Config> {
        let mut current = self.first_config();
        let mut builds: Vec<(String, u32)> = vec![(current.image_id.clone(), current.build)];
        let mut next_build = 2;
        let mut configs = Vec::new();
        for step in &self.steps {
            match step.change {
                Change::Image => {
                    current.image_id = if current.image_id == MOTO_AMI {
                        MOTO_AMI_2.to_owned()
                    } else {
                        MOTO_AMI.to_owned()
                    };
                    current.build = next_build;
                    next_build += 1;
                    builds.push((current.image_id.clone(), current.build));
                }
                Change::Rollback => {
                    if builds.len() >= 2 {
                        builds.pop();
                    }
                    if let Some((image, build)) = builds.last() {
                        current.image_id.clone_from(image);
                        current.build = *build;
                    }
                }
                Change::Capacity { desired, max_size } => {
                    current.desired = desired;
                    current.max_size = max_size;
                }
                Change::Tags => current.tag += 1,
            }
            configs.push(current.clone());
        }
        configs
    }

    /// The fleet of `config`, in `subnets`, behind `target_group` and watched by `alarm` when
    /// the settings say so.
    pub fn fleet_block(
        &self,
        config: &Config,
        subnets: &[String],
        target_group: Option<&str>,
        alarm: Option<&str>,
    ) -> Fleet {
        let s = &self.settings;
        let mut fleet = Fleet::new("this", &self.fleet, subnets);
        fleet.image_id.clone_from(&config.image_id);
        fleet.user_data = Some(format!("#!/bin/sh\necho 'build {}'\n", config.build));
        fleet.min_size = i64::from(s.min_size.min(config.desired));
        fleet.max_size = i64::from(config.max_size);
        fleet.desired_capacity = Some(i64::from(config.desired));
        fleet.tags = BTreeMap::from([("chaos".to_owned(), format!("v{}", config.tag))]);
        fleet.target_group_arns = target_group.map(str::to_owned).into_iter().collect();
        fleet.health_check = Some(HealthCheck {
            check_type: s.check_type.to_owned(),
            grace_period: "10s".to_owned(),
            timeout: format!("{}s", s.timeout_secs),
            healthy_for: format!("{}s", s.healthy_for_secs),
            min_healthy_percent: s.min_healthy_percent,
        });
        fleet.rollout = s.rollout.as_ref().map(|r| Rollout {
            steps: r.steps.clone(),
            assess_for: Some(format!("{}s", r.assess_for_secs)),
            alarms: alarm.map(str::to_owned).into_iter().collect(),
            shrink_previous: r.shrink_previous.then_some(true),
            keep_previous_for: r.keep_previous.then(|| KEEP_PREVIOUS_FOR.to_owned()),
        });
        fleet
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Image,
    Rollback,
    Capacity,
    Tags,
}

fn settings(rng: &mut Rng) -> Settings {
    let desired = to_u32(rng.range(1, 4));
    let min_size = to_u32(rng.range(1, u64::from(desired)));
    let max_size = desired + to_u32(rng.range(0, 2));
    let min_healthy_percent = rng.weighted(&[(50, 1), (75, 1), (100, 2)]).unwrap_or(100);
    let target_group = rng.chance(50);
    let check_type = if target_group && rng.chance(60) {
        "ELB"
    } else {
        "EC2"
    };
    let timeout_secs = to_u32(rng.range(20, 40));
    let healthy_for_secs = to_u32(rng.weighted(&[(0, 2), (1, 1), (2, 1), (3, 1)]).unwrap_or(0));
    let rollout = rng.chance(65).then(|| {
        let steps: Vec<u32> = [25, 50, 75]
            .into_iter()
            .filter(|_| rng.chance(45))
            .collect();
        let assess_for_secs = to_u32(rng.range(1, 4));
        let alarm = rng.chance(60);
        let (shrink_previous, keep_previous) = match rng.range(0, 2) {
            0 => (true, false),
            1 => (false, true),
            _ => (false, false),
        };
        RolloutSettings {
            steps,
            assess_for_secs,
            alarm,
            shrink_previous,
            keep_previous,
        }
    });
    Settings {
        min_size,
        max_size,
        desired,
        min_healthy_percent,
        check_type,
        timeout_secs,
        healthy_for_secs,
        target_group,
        rollout,
    }
}

/// The faults of one apply: none to two, at most one crash. `create` leaves out the kinds that
/// need a serving generation.
fn faults(rng: &mut Rng, settings: &Settings, create: bool) -> Vec<Fault> {
    let count = rng.weighted(&[(0, 25), (1, 45), (2, 30)]).unwrap_or(0);
    let alarm = settings.rollout.as_ref().is_some_and(|r| r.alarm);
    let tg = settings.target_group;
    let mut picked: Vec<Fault> = Vec::new();
    for _ in 0..count {
        let crashed = picked.iter().any(|f| f.kind.is_crash());
        let kind = rng.weighted(&[
            (0, 10),                                // throttle
            (1, 8),                                 // 5xx
            (2, 6),                                 // latency
            (3, if tg { 8 } else { 0 }),            // new unhealthy in tg
            (4, 8),                                 // new unhealthy in asg
            (5, 6),                                 // new held pending
            (6, if create { 0 } else { 6 }),        // serving unhealthy
            (7, if tg && !create { 6 } else { 0 }), // slow drain
            (8, if alarm { 8 } else { 0 }),         // alarm fires
            (9, if crashed { 0 } else { 8 }),       // sigkill provider
            (10, if crashed { 0 } else { 8 }),      // sigint terraform
        ]);
        let service = *[Service::AutoScaling, Service::Ec2, Service::Elbv2]
            .get(usize::try_from(rng.range(0, 2)).unwrap_or(0))
            .unwrap_or(&Service::AutoScaling);
        let kind = match kind {
            Some(0) => FaultKind::Throttle {
                service,
                percent: to_u32(rng.range(10, 40)),
            },
            Some(1) => FaultKind::ServerError {
                service,
                percent: to_u32(rng.range(5, 25)),
            },
            Some(2) => FaultKind::Latency {
                millis: rng.range(100, 800),
            },
            Some(3) => FaultKind::NewUnhealthyInTargetGroup,
            Some(4) => FaultKind::NewUnhealthyInGroup,
            Some(5) => FaultKind::NewHeldPending,
            Some(6) => FaultKind::ServingUnhealthy {
                count: to_u32(rng.range(1, 2)),
            },
            Some(7) => FaultKind::SlowDrain,
            Some(8) => FaultKind::AlarmFires,
            Some(9) => FaultKind::KillProvider,
            _ => FaultKind::Interrupt,
        };
        let at = if matches!(
            kind,
            FaultKind::Throttle { .. } | FaultKind::ServerError { .. } | FaultKind::Latency { .. }
        ) && rng.chance(60)
        {
            Trigger::AfterMillis(0)
        } else if rng.chance(50) {
            Trigger::AfterProgress(to_u32(rng.range(1, 3)))
        } else {
            Trigger::AfterMillis(rng.range(0, 2500))
        };
        let for_millis = rng.range(2_000, 20_000);
        picked.push(Fault {
            kind,
            at,
            for_millis,
        });
    }
    picked
}

fn to_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn ms_as_secs(millis: u64) -> f64 {
    Duration::from_millis(millis).as_secs_f64()
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        writeln!(f, "scenario seed={} fleet={}", self.seed, self.fleet)?;
        write!(
            f,
            "  settings: min {} max {} desired {}, health_check {} timeout {}s healthy_for {}s \
             min_healthy_percent {}, target group: {}",
            s.min_size,
            s.max_size,
            s.desired,
            s.check_type,
            s.timeout_secs,
            s.healthy_for_secs,
            s.min_healthy_percent,
            if s.target_group { "yes" } else { "no" }
        )?;
        match &s.rollout {
            None => writeln!(f, ", no rollout block")?,
            Some(r) => writeln!(
                f,
                ", rollout steps {:?} assess_for {}s alarm {} shrink_previous {} keep_previous_for {}",
                r.steps,
                r.assess_for_secs,
                if r.alarm { "yes" } else { "no" },
                r.shrink_previous,
                if r.keep_previous {
                    KEEP_PREVIOUS_FOR
                } else {
                    "unset"
                }
            )?,
        }
        write_faults(f, "  apply 0 (create)", &self.create_faults)?;
        for (index, (step, config)) in self.steps.iter().zip(self.configs()).enumerate() {
            let change = match step.change {
                Change::Image => format!("image -> {} build {}", config.image_id, config.build),
                Change::Rollback => {
                    format!("rollback -> {} build {}", config.image_id, config.build)
                }
                Change::Capacity { desired, max_size } => {
                    format!("capacity -> desired {desired} max {max_size}")
                }
                Change::Tags => format!("tags -> chaos=v{}", config.tag),
            };
            write_faults(
                f,
                &format!("  apply {} ({change})", index + 1),
                &step.faults,
            )?;
        }
        write!(
            f,
            "  then a clean apply, the convergence checks and a destroy"
        )
    }
}

fn write_faults(f: &mut fmt::Formatter<'_>, head: &str, faults: &[Fault]) -> fmt::Result {
    if faults.is_empty() {
        return writeln!(f, "{head}: no faults");
    }
    let listed: Vec<String> = faults.iter().map(Fault::to_string).collect();
    writeln!(f, "{head}: {}", listed.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_always_gives_the_same_scenario() {
        for seed in 0..50 {
            let scenario = Scenario::generate(seed);
            assert_eq!(scenario, Scenario::generate(seed));
            assert_eq!(scenario.to_string(), Scenario::generate(seed).to_string());
            let s = &scenario.settings;
            assert!(
                s.min_size <= s.desired && s.desired <= s.max_size,
                "{scenario}"
            );
            assert!(
                !(s.rollout
                    .as_ref()
                    .is_some_and(|r| r.shrink_previous && r.keep_previous))
            );
            for step in &scenario.steps {
                assert!(step.faults.iter().filter(|f| f.kind.is_crash()).count() <= 1);
            }
            assert_eq!(scenario.configs().len(), scenario.steps.len());
        }
        assert_ne!(Scenario::generate(1), Scenario::generate(2));
    }

    #[test]
    fn a_rollback_returns_to_the_build_before() {
        let mut scenario = Scenario::generate(3);
        scenario.steps = [
            Change::Image,
            Change::Image,
            Change::Rollback,
            Change::Rollback,
        ]
        .into_iter()
        .map(|change| Step {
            change,
            faults: Vec::new(),
        })
        .collect();
        let builds: Vec<u32> = scenario.configs().iter().map(|c| c.build).collect();
        assert_eq!(builds, [2, 3, 2, 1]);
    }
}
