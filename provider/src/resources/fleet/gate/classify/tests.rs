//! Unit tests of the pure gate classification: no AWS, no clock but the one they pass in.

use aws_sdk_autoscaling::types::Instance;
use aws_sdk_elasticloadbalancingv2::types::{TargetDescription, TargetHealth};

use super::*;
use crate::resources::fleet::spec::HealthCheck;

fn instance(id: &str, state: LifecycleState, status: &str) -> Instance {
    Instance::builder()
        .instance_id(id)
        .lifecycle_state(state)
        .health_status(status)
        .build()
}

fn in_service(id: &str) -> Instance {
    instance(id, LifecycleState::InService, "Healthy")
}

fn group(instances: Vec<Instance>) -> AutoScalingGroup {
    AutoScalingGroup::builder()
        .auto_scaling_group_name("web-g2")
        .set_instances(Some(instances))
        .build()
}

fn target_group(name: &str, port: Option<i32>) -> TargetGroup {
    TargetGroup {
        arn: format!("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{name}/1"),
        name: name.to_owned(),
        port,
    }
}

/// A DescribeTargetHealth entry: `id` on `port` in `state`, with an optional reason code
/// and description.
fn target(
    id: &str,
    port: Option<i32>,
    state: TargetHealthStateEnum,
    reason: Option<TargetHealthReasonEnum>,
    description: Option<&str>,
) -> TargetHealthDescription {
    TargetHealthDescription::builder()
        .target(TargetDescription::builder().id(id).set_port(port).build())
        .target_health(
            TargetHealth::builder()
                .state(state)
                .set_reason(reason)
                .set_description(description.map(str::to_owned))
                .build(),
        )
        .build()
}

fn healthy_target(id: &str, port: i32) -> TargetHealthDescription {
    target(id, Some(port), TargetHealthStateEnum::Healthy, None, None)
}

/// The holdout line of `id`, if it was held back.
fn holdout<'o>(seen: &'o Observation, id: &str) -> Option<&'o str> {
    let prefix = format!("{id}: ");
    seen.holdouts
        .iter()
        .find(|h| h.starts_with(&prefix))
        .map(String::as_str)
}

#[test]
fn an_instance_in_service_and_healthy_everywhere_counts() {
    let app = target_group("app", Some(80));
    let seen = classify(
        &group(vec![in_service("i-a")]),
        &[(app.clone(), vec![healthy_target("i-a", 80)])],
    );
    assert_eq!(seen.healthy, 1);
    assert_eq!(seen.healthy_ids, vec!["i-a".to_owned()]);
    assert!(seen.holdouts.is_empty(), "{:?}", seen.holdouts);
    assert_eq!(seen.per_target_group, vec![("app".to_owned(), 1)]);
    assert_eq!((seen.instances, seen.not_in_service), (1, 0));

    // Without target groups, the Auto Scaling group's view alone decides; its health
    // status is compared without regard to case.
    let seen = classify(
        &group(vec![instance("i-b", LifecycleState::InService, "HEALTHY")]),
        &[],
    );
    assert_eq!(seen.healthy_ids, vec!["i-b".to_owned()]);
    assert!(seen.per_target_group.is_empty());
}

#[test]
fn pending_unhealthy_and_standby_instances_do_not_count_and_say_why() {
    let seen = classify(
        &group(vec![
            in_service("i-ok"),
            instance("i-pending", LifecycleState::Pending, "Healthy"),
            instance("i-sick", LifecycleState::InService, "Unhealthy"),
            instance("i-standby", LifecycleState::Standby, "Healthy"),
        ]),
        &[],
    );
    assert_eq!(seen.healthy, 1);
    assert_eq!(seen.healthy_ids, vec!["i-ok".to_owned()]);
    assert_eq!(
        seen.holdouts,
        vec![
            "i-pending: Pending/Healthy in the Auto Scaling group".to_owned(),
            "i-sick: InService/Unhealthy in the Auto Scaling group".to_owned(),
            "i-standby: Standby/Healthy in the Auto Scaling group".to_owned(),
        ]
    );
    assert_eq!(seen.instances, 4);
    assert_eq!(seen.not_in_service, 2, "Pending and Standby");
}

/// terraform-provider-aws treats absence as passing; here it holds the instance back.
#[test]
fn an_instance_missing_from_a_target_group_does_not_count() {
    let app = target_group("app", Some(80));
    let admin = target_group("admin", Some(9000));
    let seen = classify(
        &group(vec![in_service("i-a"), in_service("i-b")]),
        &[
            (
                app.clone(),
                vec![healthy_target("i-a", 80), healthy_target("i-b", 80)],
            ),
            (admin.clone(), vec![healthy_target("i-a", 9000)]),
        ],
    );
    assert_eq!(seen.healthy_ids, vec!["i-a".to_owned()]);
    assert_eq!(
        seen.holdouts,
        vec!["i-b: not registered in target group admin".to_owned()]
    );
    assert_eq!(
        seen.per_target_group,
        vec![("app".to_owned(), 2), ("admin".to_owned(), 1)]
    );
}

/// A target group shared with another service (say, ECS tasks on port 8080 of the same
/// hosts) cannot hold the gate: only targets on the group's own port are read.
#[test]
fn a_target_on_another_port_in_the_same_target_group_is_ignored() {
    let shared = target_group("shared", Some(80));
    let unhealthy_on_8080 = |id: &str| {
        target(
            id,
            Some(8080),
            TargetHealthStateEnum::Unhealthy,
            Some(TargetHealthReasonEnum::FailedHealthChecks),
            None,
        )
    };
    let seen = classify(
        &group(vec![in_service("i-a"), in_service("i-b")]),
        &[(
            shared.clone(),
            vec![
                healthy_target("i-a", 80),
                unhealthy_on_8080("i-a"),
                unhealthy_on_8080("i-b"),
            ],
        )],
    );
    assert_eq!(seen.healthy_ids, vec!["i-a".to_owned()]);
    assert_eq!(
        seen.holdouts,
        vec!["i-b: not registered in target group shared".to_owned()],
        "i-b is registered only on another port"
    );

    // A target reported without a port, or a group whose port is unknown, is read.
    let unknown_port = target_group("unknown-port", None);
    let seen = classify(
        &group(vec![in_service("i-a"), in_service("i-b")]),
        &[
            (
                shared.clone(),
                vec![
                    target("i-a", None, TargetHealthStateEnum::Healthy, None, None),
                    healthy_target("i-b", 80),
                ],
            ),
            (
                unknown_port.clone(),
                vec![healthy_target("i-a", 8080), unhealthy_on_8080("i-b")],
            ),
        ],
    );
    assert_eq!(seen.healthy_ids, vec!["i-a".to_owned()]);
    assert_eq!(
        holdout(&seen, "i-b"),
        Some("i-b: unhealthy in target group unknown-port (Target.FailedHealthChecks)")
    );
}

#[test]
fn initial_unhealthy_and_draining_targets_hold_the_gate_with_their_reasons() {
    let app = target_group("app", Some(80));
    let ids = ["i-ok", "i-initial", "i-unhealthy", "i-draining", "i-unused"];
    let seen = classify(
        &group(ids.iter().map(|id| in_service(id)).collect()),
        &[(
            app.clone(),
            vec![
                healthy_target("i-ok", 80),
                target(
                    "i-initial",
                    Some(80),
                    TargetHealthStateEnum::Initial,
                    Some(TargetHealthReasonEnum::RegistrationInProgress),
                    Some("Target registration is in progress"),
                ),
                target(
                    "i-unhealthy",
                    Some(80),
                    TargetHealthStateEnum::Unhealthy,
                    Some(TargetHealthReasonEnum::FailedHealthChecks),
                    None,
                ),
                target(
                    "i-draining",
                    Some(80),
                    TargetHealthStateEnum::Draining,
                    Some(TargetHealthReasonEnum::DeregistrationInProgress),
                    None,
                ),
                target(
                    "i-unused",
                    Some(80),
                    TargetHealthStateEnum::Unused,
                    None,
                    Some("Target group is not configured to receive traffic"),
                ),
            ],
        )],
    );
    assert_eq!(seen.healthy, 1);
    assert_eq!(seen.per_target_group, vec![("app".to_owned(), 1)]);
    assert_eq!(
        seen.holdouts,
        vec![
            "i-initial: initial in target group app (Elb.RegistrationInProgress: Target \
             registration is in progress)"
                .to_owned(),
            "i-unhealthy: unhealthy in target group app (Target.FailedHealthChecks)".to_owned(),
            "i-draining: draining in target group app (Target.DeregistrationInProgress)".to_owned(),
            "i-unused: unused in target group app (Target group is not configured to \
             receive traffic)"
                .to_owned(),
        ]
    );

    // Problems in the group and in a target group are listed together.
    let seen = classify(
        &group(vec![instance(
            "i-x",
            LifecycleState::InService,
            "Unhealthy",
        )]),
        &[(
            app.clone(),
            vec![target(
                "i-x",
                Some(80),
                TargetHealthStateEnum::Unhealthy,
                None,
                None,
            )],
        )],
    );
    assert_eq!(
        seen.holdouts,
        vec![
            "i-x: InService/Unhealthy in the Auto Scaling group; unhealthy in target group app"
                .to_owned()
        ]
    );
}

/// Clocks for `ids`, all healthy since long before `now`.
fn baked_clocks(ids: &[&str]) -> (HashMap<String, Instant>, Instant) {
    let ages: Vec<(&str, u64)> = ids.iter().map(|id| (*id, 50)).collect();
    clocks(&ages)
}

#[test]
fn thresholds_are_at_least_with_min_healthy_percent_rounding_up() {
    let cases = [
        // (min_healthy_percent, desired, required, healthy instances)
        (75, 4, 3, 3),
        (50, 3, 2, 2),
        (100, 2, 2, 2),
        (1, 1, 1, 1),
    ];
    for (percent, desired, required, healthy) in cases {
        let check = HealthCheck {
            min_healthy_percent: percent,
            ..HealthCheck::default()
        };
        assert_eq!(
            check.required_healthy(desired),
            required,
            "{percent} % of {desired}"
        );
        let ids: Vec<String> = (0..healthy).map(|n| format!("i-{n}")).collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (since, now) = baked_clocks(&id_refs);
        assert_eq!(
            verdict(healthy, required, &since, Duration::ZERO, now),
            Verdict::Passed {
                baked: Duration::from_secs(50)
            },
            "{healthy} healthy of {required} required ({percent} % of {desired})"
        );
        assert_eq!(
            verdict(healthy - 1, required, &since, Duration::ZERO, now),
            Verdict::Short,
            "one short of {required} ({percent} % of {desired})"
        );
    }
    // Nothing required (desired 0): the gate passes at once.
    let none = HashMap::new();
    let now = Instant::now();
    assert_eq!(
        verdict(0, 0, &none, Duration::from_secs(30), now),
        Verdict::Passed {
            baked: Duration::from_secs(30)
        }
    );
}

/// Launching extra instances (desired raised, or a replacement on its way) must not fail
/// a gate that asks for "exactly" as many as desired.
#[test]
fn more_instances_than_desired_still_pass() {
    let app = target_group("app", Some(80));
    let ids = ["i-a", "i-b", "i-c"];
    let seen = classify(
        &group(ids.iter().map(|id| in_service(id)).collect()),
        &[(
            app.clone(),
            ids.iter().map(|id| healthy_target(id, 80)).collect(),
        )],
    );
    let desired = 2;
    let required = HealthCheck::default().required_healthy(desired);
    assert_eq!((seen.healthy, required), (3, 2));
    assert!(!seen.launching(desired), "enough instances, all InService");
    let (since, now) = baked_clocks(&ids);
    assert_eq!(
        verdict(seen.healthy, required, &since, Duration::from_secs(10), now),
        Verdict::Passed {
            baked: Duration::from_secs(50)
        }
    );
}

#[test]
fn the_group_is_launching_while_short_of_desired_or_not_all_in_service() {
    let two = classify(&group(vec![in_service("i-a"), in_service("i-b")]), &[]);
    assert!(!two.launching(2));
    assert!(two.launching(3), "one instance missing");
    let pending = classify(
        &group(vec![
            in_service("i-a"),
            instance("i-b", LifecycleState::Pending, "Healthy"),
        ]),
        &[],
    );
    assert!(pending.launching(2), "one instance not yet InService");
    assert!(!classify(&group(Vec::new()), &[]).launching(0));
}

/// Polls driven through `classify` and `track`: i-b's target flaps healthy → unhealthy
/// → healthy and restarts its own clock, while i-a keeps its own.
#[test]
fn a_flapping_instance_restarts_its_clock_while_others_keep_theirs() {
    let app = target_group("app", Some(80));
    let asg = group(vec![in_service("i-a"), in_service("i-b")]);
    let poll = |b_state: TargetHealthStateEnum| {
        classify(
            &asg,
            &[(
                app.clone(),
                vec![
                    healthy_target("i-a", 80),
                    target("i-b", Some(80), b_state, None, None),
                ],
            )],
        )
    };
    let start = Instant::now();
    let at = |secs: u64| start + Duration::from_secs(secs);
    let mut since: HashMap<String, Instant> = HashMap::new();

    let seen = poll(TargetHealthStateEnum::Healthy);
    assert!(track(&mut since, &seen.healthy_ids, at(0)).is_empty());
    let seen = poll(TargetHealthStateEnum::Unhealthy);
    assert_eq!(seen.healthy_ids, vec!["i-a".to_owned()]);
    assert_eq!(
        track(&mut since, &seen.healthy_ids, at(5)),
        vec!["i-b".to_owned()],
        "i-b's clock stops"
    );
    let seen = poll(TargetHealthStateEnum::Healthy);
    assert!(track(&mut since, &seen.healthy_ids, at(8)).is_empty());

    assert_eq!(since.get("i-a"), Some(&at(0)), "i-a keeps its clock");
    assert_eq!(since.get("i-b"), Some(&at(8)), "i-b starts over");
    let now = at(20);
    assert_eq!(baked(&since, 1, now), Some(Duration::from_secs(20)));
    assert_eq!(
        baked(&since, 2, now),
        Some(Duration::from_secs(12)),
        "both required: the bake is i-b's run since it recovered"
    );
    assert_eq!(
        verdict(2, 2, &since, Duration::from_secs(15), now),
        Verdict::Baking {
            baked: Duration::from_secs(12),
            remaining: Duration::from_secs(3)
        },
        "i-a's 20 s do not make up for i-b's flap"
    );
    assert_eq!(
        verdict(2, 1, &since, Duration::from_secs(15), now),
        Verdict::Passed {
            baked: Duration::from_secs(20)
        },
        "one required: i-a's run alone completes the bake"
    );
}

#[test]
fn the_bake_completes_when_the_required_th_longest_run_reaches_healthy_for() {
    let (since, now) = clocks(&[("i-a", 30), ("i-b", 20), ("i-c", 10)]);
    assert_eq!(
        verdict(3, 2, &since, Duration::from_secs(20), now),
        Verdict::Passed {
            baked: Duration::from_secs(20)
        },
        "the 2nd longest run is exactly healthy_for"
    );
    assert_eq!(
        verdict(3, 2, &since, Duration::from_secs(21), now),
        Verdict::Baking {
            baked: Duration::from_secs(20),
            remaining: Duration::from_secs(1)
        }
    );
    assert_eq!(
        verdict(3, 3, &since, Duration::from_secs(20), now),
        Verdict::Baking {
            baked: Duration::from_secs(10),
            remaining: Duration::from_secs(10)
        },
        "all three required: the shortest run decides"
    );
    assert_eq!(
        verdict(3, 3, &since, Duration::ZERO, now),
        Verdict::Passed {
            baked: Duration::from_secs(10)
        },
        "no bake window: healthy is enough"
    );
}

fn activity(
    start: SystemTime,
    status: ScalingActivityStatusCode,
    message: Option<&str>,
) -> Activity {
    Activity::builder()
        .activity_id("a")
        .auto_scaling_group_name("web-g2")
        .description("Launching a new EC2 instance")
        .start_time(DateTime::from(start))
        .status_code(status)
        .set_status_message(message.map(str::to_owned))
        .build()
}

#[test]
fn only_a_failed_activity_of_this_rollout_fails_the_gate() {
    let started = SystemTime::now();
    let after = started + Duration::from_secs(5);
    let long_before = started - Duration::from_mins(10);
    let failed_before = activity(
        long_before,
        ScalingActivityStatusCode::Failed,
        Some("old failure"),
    );
    // Newest first, as AWS returns them.
    let history = [
        activity(after, ScalingActivityStatusCode::InProgress, None),
        failed_before.clone(),
    ];
    assert_eq!(failed_activity(&history, started), None);

    let failed_now = activity(
        after,
        ScalingActivityStatusCode::Failed,
        Some("Instance type not supported"),
    );
    let history = [failed_now, failed_before.clone()];
    assert_eq!(
        failed_activity(&history, started).as_deref(),
        Some("Instance type not supported")
    );

    // Within the 30 s of clock-skew slack, and without a status message: the description.
    let skewed = activity(
        started - Duration::from_secs(20),
        ScalingActivityStatusCode::Failed,
        None,
    );
    assert_eq!(
        failed_activity(&[skewed], started).as_deref(),
        Some("Launching a new EC2 instance")
    );
}

#[test]
fn a_launch_abandoned_by_a_lifecycle_hook_fails_the_gate_but_a_plain_cancel_does_not() {
    let started = SystemTime::now();
    let after = started + Duration::from_secs(5);
    let abandoned = activity(
        after,
        ScalingActivityStatusCode::Cancelled,
        Some(
            "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token \
             abc was abandoned: Lifecycle Action Completed with ABANDON Result",
        ),
    );
    let message = failed_activity(&[abandoned], started).unwrap_or_default();
    assert!(
        message.starts_with("a launching lifecycle hook abandoned the launch: Instance failed"),
        "{message}"
    );
    let cancelled = activity(
        after,
        ScalingActivityStatusCode::Cancelled,
        Some("cancelled by a newer scaling activity"),
    );
    assert_eq!(failed_activity(&[cancelled], started), None);
}

/// Clocks of instances healthy for `age` seconds at the returned `now`.
fn clocks(ages_secs: &[(&str, u64)]) -> (HashMap<String, Instant>, Instant) {
    let base = Instant::now();
    let now = base + Duration::from_secs(100);
    let since = ages_secs
        .iter()
        .map(|(id, age)| ((*id).to_owned(), base + Duration::from_secs(100 - age)))
        .collect();
    (since, now)
}

#[test]
fn the_bake_counts_the_required_longest_uninterrupted_runs() {
    let (since, now) = clocks(&[("i-a", 40), ("i-b", 5), ("i-c", 25)]);
    assert_eq!(baked(&since, 1, now), Some(Duration::from_secs(40)));
    assert_eq!(baked(&since, 2, now), Some(Duration::from_secs(25)));
    assert_eq!(baked(&since, 3, now), Some(Duration::from_secs(5)));
    assert_eq!(
        baked(&since, 4, now),
        Some(Duration::ZERO),
        "not enough instances"
    );
    assert_eq!(baked(&since, 0, now), None, "nothing required");
}

/// Two instances taking turns at being healthy keep the healthy count at one in every
/// poll, yet neither was healthy for long: the bake must not add their turns up.
#[test]
fn instances_taking_turns_do_not_bake() {
    let start = Instant::now();
    let mut since: HashMap<String, Instant> = HashMap::new();
    let mut passed_at = None;
    for second in 0..12u64 {
        let now = start + Duration::from_secs(second);
        let healthy = if (second / 3) % 2 == 0 { "i-a" } else { "i-b" };
        track(&mut since, &[healthy.to_owned()], now);
        if passed_at.is_none() && baked(&since, 1, now) >= Some(Duration::from_secs(5)) {
            passed_at = Some(second);
        }
    }
    assert_eq!(passed_at, None, "each run lasted 3 s of a 5 s bake window");
    // Once one of them stays, its own run completes the bake.
    let later = start + Duration::from_secs(20);
    assert_eq!(
        track(&mut since, &["i-a".to_owned()], later),
        vec!["i-b".to_owned()]
    );
    let dropped = track(
        &mut since,
        &["i-b".to_owned()],
        later + Duration::from_secs(1),
    );
    assert_eq!(dropped, vec!["i-a".to_owned()]);
    let end = later + Duration::from_secs(7);
    track(&mut since, &["i-b".to_owned()], end);
    assert_eq!(baked(&since, 1, end), Some(Duration::from_secs(6)));
}
