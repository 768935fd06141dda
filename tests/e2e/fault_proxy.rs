//! Checks of the fault proxy itself (no provider, no Terraform): untouched calls are
//! byte-identical to plain moto, every rule kind fires, rules and counts stay in their scope,
//! Auto Scaling state that moto drops is kept and echoed back as AWS does, and CloudWatch is
//! spoken in the Rust SDK's CBOR protocol.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{
    LaunchTemplateSpecification, LifecycleHookSpecification, LifecycleState, MetricType,
    PredefinedMetricSpecification, TargetTrackingConfiguration,
};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::RequestLaunchTemplateData;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;
use e2e::{Aws, MOTO_AMI, Moto, Rule, Service, http_request};

/// A raw EC2 query call signed (in shape only; moto does not verify) with `access_key`.
fn raw_ec2(port: u16, access_key: &str, body: &str) -> e2e::HttpResponse {
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key}/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00"
    );
    http_request(
        port,
        "POST",
        "/",
        &[
            ("Authorization", &authorization),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body.as_bytes(),
    )
    .unwrap()
}

#[test]
fn untouched_calls_are_byte_identical_to_plain_moto() {
    let proxied = Moto::shared();
    let plain = Moto::start_plain();
    let faults = proxied.faults();
    // A rule for the same action in another scope must not touch these calls.
    faults.add(
        "proxy-identity-other",
        Rule::rewrite("DescribeRegions", "us-east-1", "xx-east-1"),
    );
    // Answers that do not depend on the server's random ids.
    for body in [
        "Action=DescribeRegions&Version=2016-11-15",
        "Action=DescribeInstanceTypes&Version=2016-11-15&InstanceType.1=t3.micro",
    ] {
        let expected = raw_ec2(plain.port(), "proxy-identity", body);
        let got = raw_ec2(proxied.port(), "proxy-identity", body);
        assert_eq!(expected.status, 200, "{}", expected.text());
        assert!(expected.text().contains("us-east-1") || body.contains("InstanceType"));
        assert_eq!(got.status, expected.status, "{body}");
        assert_eq!(got.body, expected.body, "{body}: bodies differ");
        for header in ["Content-Type", "Content-Length"] {
            assert_eq!(
                got.header(header),
                expected.header(header),
                "{body}: {header}"
            );
        }
    }
    assert_eq!(
        faults.calls("proxy-identity")["ec2:DescribeRegions"],
        1,
        "counted in its own scope"
    );
    assert_eq!(faults.fired("proxy-identity-other"), 0);
    faults.clear("proxy-identity-other");
}

#[test]
fn errors_delays_and_counts_are_scoped_by_access_key() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let (a, b) = ("proxy-scope-a", "proxy-scope-b");
    faults.reset_calls(a);
    faults.reset_calls(b);
    let aws_a = moto.aws_as(a, 1);
    let aws_b = moto.aws_as(b, 1);

    faults.add(
        a,
        Rule::throttle(Service::AutoScaling)
            .actions(&["DescribeAutoScalingGroups"])
            .count(2),
    );
    faults.add(a, Rule::throttle(Service::Ec2).count(1));
    // Errors as (code, HTTP status): the SDK's error types are too large to pass around.
    let describe = |aws: &Aws| {
        aws.block_on(
            aws.autoscaling
                .describe_auto_scaling_groups()
                .max_records(1)
                .send(),
        )
        .map(|_| ())
        .map_err(|err| {
            (
                err.code().map(str::to_owned),
                err.raw_response().map(|raw| raw.status().as_u16()),
            )
        })
    };
    for attempt in 1..=2 {
        let err = describe(&aws_a).expect_err("throttled");
        assert_eq!(
            err,
            (Some("Throttling".to_owned()), Some(400)),
            "attempt {attempt}"
        );
        describe(&aws_b).unwrap_or_else(|err| panic!("scope b is not throttled: {err:?}"));
    }
    describe(&aws_a).expect("the count of 2 is used up");

    let regions = |aws: &Aws| {
        aws.block_on(aws.ec2.describe_regions().send())
            .map(|_| ())
            .map_err(|err| {
                (
                    err.code().map(str::to_owned),
                    err.raw_response().map(|raw| raw.status().as_u16()),
                )
            })
    };
    let err = regions(&aws_a).expect_err("EC2 throttled once");
    assert_eq!(err, (Some("RequestLimitExceeded".to_owned()), Some(503)));
    regions(&aws_a).expect("only once");

    // With retries, the SDK classifies the injected error as throttling and recovers.
    faults.add(a, Rule::throttle(Service::Ec2).count(1));
    let retrying = moto.aws_as(a, 3);
    regions(&retrying).expect("retried after one injected RequestLimitExceeded");

    let calls_a = faults.calls(a);
    assert_eq!(calls_a["autoscaling:DescribeAutoScalingGroups"], 3);
    assert_eq!(
        calls_a["ec2:DescribeRegions"], 4,
        "2 + 2 attempts of the retried call"
    );
    let calls_b = faults.calls(b);
    assert_eq!(
        calls_b.get("autoscaling:DescribeAutoScalingGroups"),
        Some(&2)
    );
    assert_eq!(calls_b.get("ec2:DescribeRegions"), None);
    assert_eq!(faults.fired(a), 4);
    assert_eq!(faults.fired(b), 0);

    faults.add(a, Rule::delay_ms(700).actions(&["DescribeRegions"]));
    let started = Instant::now();
    regions(&aws_a).expect("delayed, not failed");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "delay applied"
    );
    let started = Instant::now();
    regions(&aws_b).expect("scope b");
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "no delay in scope b"
    );

    faults.clear(a);
    assert!(faults.rules(a).is_empty());
    let half = faults.add(a, Rule::throttle(Service::Ec2).probability(0.5));
    let failures = (0..40).filter(|_| regions(&aws_a).is_err()).count();
    assert!(
        (5..=35).contains(&failures),
        "probability 0.5 gave {failures}/40 errors"
    );
    let listed = faults.rules(a);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], half);
    assert_eq!(listed[0]["fired"], failures);
    faults.clear(a);

    faults.reset_calls(a);
    assert!(faults.calls(a).is_empty());
    assert!(!faults.calls(b).is_empty(), "reset only touches its scope");
}

/// The timeline lists every counted call of a scope in order, on the proxy's clock (this
/// machine's), saying which ones a fault answered; one rule can be removed by its id, and the
/// removal says when (the rollout benchmark's T).
#[test]
fn timelines_calls_and_removes_one_rule_by_id() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let scope = "proxy-timeline";
    let aws = moto.aws_as(scope, 1);
    let regions = || aws.block_on(aws.ec2.describe_regions().send()).is_ok();
    faults.reset_calls(scope);
    let started = SystemTime::now();
    let throttle = faults.add(scope, Rule::throttle(Service::Ec2));
    let other = faults.add(scope, Rule::delay_ms(1).actions(&["DescribeRegions"]));
    assert!(!regions(), "throttled while the rule lives");
    let removed_at = faults.remove(throttle);
    assert!(regions(), "answered once the rule is removed");
    let ended = SystemTime::now();
    let left: Vec<u64> = faults
        .rules(scope)
        .iter()
        .filter_map(|rule| rule["id"].as_u64())
        .collect();
    assert_eq!(left, [other], "only the one rule was removed");

    let timeline = faults.timeline(scope);
    let seen: Vec<(&str, bool)> = timeline
        .iter()
        .map(|call| (call.action.as_str(), call.faulted))
        .collect();
    assert_eq!(
        seen,
        [
            ("ec2:DescribeRegions", true),
            ("ec2:DescribeRegions", false)
        ]
    );
    assert!(started <= timeline[0].at && timeline[0].at <= removed_at);
    assert!(removed_at <= timeline[1].at && timeline[1].at <= ended);
    faults.reset_calls(scope);
    assert!(
        faults.timeline(scope).is_empty(),
        "reset clears the timeline"
    );
    faults.clear(scope);
}

/// Creates a target group, a launch template and an ASG `group` of two instances registered in
/// the group; returns (target group ARN, launch template id, instance ids).
fn two_instances_in_a_target_group(aws: &Aws, group: &str) -> (String, String, Vec<String>) {
    let subnet = aws.default_subnet_ids()[0].clone();
    let tg = aws.create_target_group("proxy-bodies-tg");
    let template = aws
        .block_on(
            aws.ec2
                .create_launch_template()
                .launch_template_name("proxy-bodies-lt")
                .launch_template_data(
                    RequestLaunchTemplateData::builder()
                        .image_id(MOTO_AMI)
                        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                        .build(),
                )
                .send(),
        )
        .unwrap()
        .launch_template()
        .unwrap()
        .launch_template_id()
        .unwrap()
        .to_owned();
    aws.block_on(
        aws.autoscaling
            .create_auto_scaling_group()
            .auto_scaling_group_name(group)
            .launch_template(
                LaunchTemplateSpecification::builder()
                    .launch_template_id(&template)
                    .build(),
            )
            .min_size(2)
            .max_size(2)
            .desired_capacity(2)
            .vpc_zone_identifier(&subnet)
            .target_group_arns(&tg)
            .send(),
    )
    .unwrap();
    let instances: Vec<String> = aws
        .asg(group)
        .unwrap()
        .instances()
        .iter()
        .map(|i| i.instance_id().unwrap().to_owned())
        .collect();
    assert_eq!(instances.len(), 2);

    (tg, template, instances)
}

#[test]
fn rewrites_bodies_and_target_health_per_scope() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let aws = moto.aws();
    let scope = "proxy-bodies";
    let scoped = moto.aws_as(scope, 1);
    let group = "proxy-bodies-asg";
    let (tg, template, instances) = two_instances_in_a_target_group(&aws, group);

    // (c) rewrite
    faults.add(
        scope,
        Rule::rewrite(
            "DescribeAutoScalingGroups",
            "<LifecycleState>InService</LifecycleState>",
            "<LifecycleState>Pending</LifecycleState>",
        ),
    );
    let states = |aws: &Aws| -> Vec<LifecycleState> {
        aws.block_on(
            aws.autoscaling
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(group)
                .send(),
        )
        .unwrap()
        .auto_scaling_groups()[0]
            .instances()
            .iter()
            .filter_map(|i| i.lifecycle_state().cloned())
            .collect()
    };
    assert_eq!(
        states(&scoped),
        [LifecycleState::Pending, LifecycleState::Pending]
    );
    assert_eq!(
        states(&aws),
        [LifecycleState::InService, LifecycleState::InService]
    );

    // (d) target health: all but the kept instance reported unhealthy
    let kept = instances[0].clone();
    faults.add(
        scope,
        Rule::target_health(
            std::slice::from_ref(&kept),
            "unhealthy",
            "Target.FailedHealthChecks",
        ),
    );
    let health = |aws: &Aws| -> Vec<(String, TargetHealthStateEnum, Option<String>)> {
        let mut found: Vec<_> = aws
            .block_on(
                aws.elbv2
                    .describe_target_health()
                    .target_group_arn(&tg)
                    .send(),
            )
            .unwrap()
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let health = d.target_health().unwrap();
                (
                    d.target().unwrap().id().unwrap().to_owned(),
                    health.state().unwrap().clone(),
                    health.reason().map(|r| r.as_str().to_owned()),
                )
            })
            .collect();
        found.sort();
        found
    };
    let scoped_health = health(&scoped);
    assert_eq!(scoped_health.len(), 2, "{scoped_health:?}");
    for (id, state, reason) in &scoped_health {
        if *id == kept {
            assert_eq!(*state, TargetHealthStateEnum::Healthy);
        } else {
            assert_eq!(*state, TargetHealthStateEnum::Unhealthy);
            assert_eq!(reason.as_deref(), Some("Target.FailedHealthChecks"));
        }
    }
    assert!(
        health(&aws)
            .iter()
            .all(|(_, state, _)| *state == TargetHealthStateEnum::Healthy),
        "other scopes see moto's answer"
    );

    faults.clear(scope);
    assert_eq!(
        states(&scoped),
        [LifecycleState::InService, LifecycleState::InService],
        "cleared"
    );
    aws.delete_asg(group);
    aws.delete_launch_template(&template);
    aws.block_on(aws.elbv2.delete_target_group().target_group_arn(&tg).send())
        .unwrap();
}

#[test]
fn synthesizes_a_failed_scaling_activity_per_scope() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let aws = moto.aws();
    let scope = "proxy-activity";
    let scoped = moto.aws_as(scope, 1);
    let group = "proxy-activity-asg";

    let message = "We currently do not have sufficient t3.micro capacity (proxy check).";
    faults.add(scope, Rule::failed_scaling_activity(message));
    let activities = scoped
        .block_on(
            scoped
                .autoscaling
                .describe_scaling_activities()
                .auto_scaling_group_name(group)
                .send(),
        )
        .unwrap();
    let activity = &activities.activities()[0];
    assert_eq!(activity.status_message(), Some(message));
    assert_eq!(activity.auto_scaling_group_name(), Some(group));
    assert_eq!(
        activity.status_code(),
        Some(&aws_sdk_autoscaling::types::ScalingActivityStatusCode::Failed)
    );
    let now = aws_sdk_autoscaling::primitives::DateTime::from(SystemTime::now()).secs();
    let started = activity.start_time().unwrap().secs();
    assert!((now - started).abs() < 10, "start {started} vs now {now}");
    let unscoped = aws
        .block_on(
            aws.autoscaling
                .describe_scaling_activities()
                .auto_scaling_group_name(group)
                .send(),
        )
        .unwrap();
    assert!(unscoped.activities().is_empty(), "moto itself has none");

    faults.clear(scope);
}

/// Creates a launch template named `name` and returns its id.
fn launch_template(aws: &Aws, name: &str) -> String {
    aws.block_on(
        aws.ec2
            .create_launch_template()
            .launch_template_name(name)
            .launch_template_data(
                RequestLaunchTemplateData::builder()
                    .image_id(MOTO_AMI)
                    .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                    .build(),
            )
            .send(),
    )
    .unwrap()
    .launch_template()
    .unwrap()
    .launch_template_id()
    .unwrap()
    .to_owned()
}

/// A CreateAutoScalingGroup of `group` from `template` in the first default subnet, sized
/// `min..=max`; the caller adds what its test is about and sends it.
fn new_group(
    aws: &Aws,
    group: &str,
    template: &str,
    (min, max): (i32, i32),
) -> aws_sdk_autoscaling::operation::create_auto_scaling_group::builders::CreateAutoScalingGroupFluentBuilder{
    aws.autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(group)
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(template)
                .build(),
        )
        .min_size(min)
        .max_size(max)
        .vpc_zone_identifier(&aws.default_subnet_ids()[0])
}

fn hook_spec(
    name: &str,
    transition: &str,
    target_and_role: Option<(&str, &str)>,
) -> LifecycleHookSpecification {
    let mut spec = LifecycleHookSpecification::builder()
        .lifecycle_hook_name(name)
        .lifecycle_transition(transition)
        .heartbeat_timeout(300)
        .default_result("CONTINUE");
    if let Some((target, role)) = target_and_role {
        spec = spec
            .notification_target_arn(target)
            .role_arn(role)
            .notification_metadata("proxy-model");
    }
    spec.build()
}

const HOOK_TARGET: &str = "arn:aws:sns:us-east-1:123456789012:proxy-model-topic";
const HOOK_ROLE: &str = "arn:aws:iam::123456789012:role/proxy-model-hooks";

/// Creates `group` (no instances) from a new launch template named after it, with
/// MaxInstanceLifetime 86400, DefaultInstanceWarmup 60 and two lifecycle hooks: `launching`
/// with a notification target, role and metadata, `terminating` without; returns the
/// template id.
fn group_with_settings_and_hooks(aws: &Aws, group: &str) -> String {
    let template = launch_template(aws, &format!("{group}-lt"));
    aws.block_on(
        new_group(aws, group, &template, (0, 1))
            .desired_capacity(0)
            .max_instance_lifetime(86_400)
            .default_instance_warmup(60)
            .lifecycle_hook_specification_list(hook_spec(
                "launching",
                "autoscaling:EC2_INSTANCE_LAUNCHING",
                Some((HOOK_TARGET, HOOK_ROLE)),
            ))
            .lifecycle_hook_specification_list(hook_spec(
                "terminating",
                "autoscaling:EC2_INSTANCE_TERMINATING",
                None,
            ))
            .send(),
    )
    .unwrap();
    template
}

/// (MaxInstanceLifetime, DefaultInstanceWarmup, CapacityRebalance, DefaultCooldown,
/// TerminationPolicies) as described.
type Settings = (
    Option<i32>,
    Option<i32>,
    Option<bool>,
    Option<i32>,
    Vec<String>,
);

fn settings(aws: &Aws, group: &str) -> Settings {
    let asg = aws.asg(group).unwrap();
    (
        asg.max_instance_lifetime(),
        asg.default_instance_warmup(),
        asg.capacity_rebalance(),
        asg.default_cooldown(),
        asg.termination_policies().to_vec(),
    )
}

#[test]
fn keeps_group_settings_that_moto_drops() {
    let moto = Moto::shared();
    let aws = moto.aws();
    let group = "proxy-settings-asg";
    let template = group_with_settings_and_hooks(&aws, group);

    let created = (
        Some(86_400),
        Some(60),
        Some(false),
        Some(300),
        vec!["Default".to_owned()],
    );
    assert_eq!(settings(&aws, group), created);
    // Another access key sees the same AWS state (it is not a fault).
    let other = moto.aws_as("proxy-settings-other", 1);
    assert_eq!(settings(&other, group), created, "shared like moto's state");

    // Settings moto ignores in an update: the last value sent is reported.
    aws.block_on(
        aws.autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .max_instance_lifetime(172_800)
            .capacity_rebalance(true)
            .default_cooldown(120)
            .termination_policies("OldestInstance")
            .send(),
    )
    .unwrap();
    assert_eq!(
        settings(&aws, group),
        (
            Some(172_800),
            Some(60),
            Some(true),
            Some(120),
            vec!["OldestInstance".to_owned()]
        )
    );
    // AWS: 0 clears the maximum lifetime, -1 the default warm-up.
    aws.block_on(
        aws.autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(group)
            .max_instance_lifetime(0)
            .default_instance_warmup(-1)
            .send(),
    )
    .unwrap();
    let (lifetime, warmup, ..) = settings(&aws, group);
    assert_eq!((lifetime, warmup), (Some(0), None));

    // Deleting the group forgets its settings: a new group of the same name has none.
    aws.delete_asg(group);
    aws.block_on(new_group(&aws, group, &template, (0, 1)).send())
        .unwrap();
    let (lifetime, warmup, ..) = settings(&aws, group);
    assert_eq!(
        (lifetime, warmup),
        (None, None),
        "a new group of the same name"
    );
    aws.delete_asg(group);
    aws.delete_launch_template(&template);
}

#[test]
fn keeps_lifecycle_hooks_that_moto_drops() {
    let moto = Moto::shared();
    let aws = moto.aws();
    let group = "proxy-hooks-asg";
    let template = group_with_settings_and_hooks(&aws, group);
    let hooks = |aws: &Aws| {
        let mut hooks = aws
            .block_on(
                aws.autoscaling
                    .describe_lifecycle_hooks()
                    .auto_scaling_group_name(group)
                    .send(),
            )
            .unwrap()
            .lifecycle_hooks()
            .to_vec();
        hooks.sort_by(|a, b| a.lifecycle_hook_name().cmp(&b.lifecycle_hook_name()));
        hooks
    };

    // The create call's hooks exist, described as they were specified.
    let described = hooks(&aws);
    assert_eq!(described.len(), 2, "{described:?}");
    let (launching, terminating) = (&described[0], &described[1]);
    assert_eq!(launching.lifecycle_hook_name(), Some("launching"));
    assert_eq!(
        launching.lifecycle_transition(),
        Some("autoscaling:EC2_INSTANCE_LAUNCHING")
    );
    assert_eq!(launching.notification_target_arn(), Some(HOOK_TARGET));
    assert_eq!(launching.role_arn(), Some(HOOK_ROLE));
    assert_eq!(launching.notification_metadata(), Some("proxy-model"));
    assert_eq!(launching.heartbeat_timeout(), Some(300));
    assert_eq!(launching.default_result(), Some("CONTINUE"));
    assert_eq!(terminating.lifecycle_hook_name(), Some("terminating"));
    assert_eq!(
        terminating.lifecycle_transition(),
        Some("autoscaling:EC2_INSTANCE_TERMINATING")
    );
    assert_eq!(
        (
            terminating.notification_target_arn(),
            terminating.role_arn(),
            terminating.notification_metadata()
        ),
        (None, None, None),
        "moto's made-up queue and role are not reported"
    );
    assert_eq!(
        hooks(&moto.aws_as("proxy-hooks-other", 1)).len(),
        2,
        "shared like moto's state"
    );

    // PutLifecycleHook: what was last put is reported, target or none.
    aws.block_on(
        aws.autoscaling
            .put_lifecycle_hook()
            .auto_scaling_group_name(group)
            .lifecycle_hook_name("launching")
            .lifecycle_transition("autoscaling:EC2_INSTANCE_LAUNCHING")
            .send(),
    )
    .unwrap();
    aws.block_on(
        aws.autoscaling
            .put_lifecycle_hook()
            .auto_scaling_group_name(group)
            .lifecycle_hook_name("terminating")
            .lifecycle_transition("autoscaling:EC2_INSTANCE_TERMINATING")
            .notification_target_arn(HOOK_TARGET)
            .role_arn(HOOK_ROLE)
            .send(),
    )
    .unwrap();
    let targets: Vec<_> = hooks(&aws)
        .iter()
        .map(|hook| {
            (
                hook.notification_target_arn().map(str::to_owned),
                hook.role_arn().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            (None, None),
            (Some(HOOK_TARGET.to_owned()), Some(HOOK_ROLE.to_owned()))
        ]
    );

    // As on AWS (not moto), deleting the group deletes its hooks.
    aws.delete_asg(group);
    assert!(hooks(&aws).is_empty(), "hooks deleted with their group");
    aws.delete_launch_template(&template);
}

#[test]
fn reports_lifecycle_wait_states_per_scope() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let aws = moto.aws();
    let scope = "proxy-lifecycle";
    let scoped = moto.aws_as(scope, 1);
    let group = "proxy-lifecycle-asg";
    let template = launch_template(&aws, "proxy-lifecycle-lt");
    aws.block_on(
        new_group(&aws, group, &template, (2, 2))
            .desired_capacity(2)
            .send(),
    )
    .unwrap();
    let states = |aws: &Aws| -> Vec<(String, LifecycleState)> {
        aws.asg(group)
            .unwrap()
            .instances()
            .iter()
            .map(|i| {
                (
                    i.instance_id().unwrap().to_owned(),
                    i.lifecycle_state().unwrap().clone(),
                )
            })
            .collect()
    };
    let moto_says = states(&aws);
    assert_eq!(moto_says.len(), 2);
    let (first, second) = (moto_says[0].0.clone(), moto_says[1].0.clone());

    // A rule for another group changes nothing here.
    faults.add(
        scope,
        Rule::lifecycle_state("proxy-lifecycle-other", "Pending:Wait"),
    );
    assert_eq!(states(&scoped), moto_says);

    faults.add(
        scope,
        Rule::lifecycle_state(group, "Pending:Wait").instance_count(1),
    );
    assert_eq!(
        states(&scoped),
        [
            (first.clone(), LifecycleState::PendingWait),
            (second.clone(), LifecycleState::InService)
        ]
    );
    assert_eq!(states(&aws), moto_says, "other scopes see moto's answer");
    faults.clear(scope);

    faults.add(
        scope,
        Rule::lifecycle_state(group, "Terminating:Wait")
            .keep_instances(std::slice::from_ref(&first))
            .for_duration(Duration::from_secs(2)),
    );
    assert_eq!(
        states(&scoped),
        [
            (first.clone(), LifecycleState::InService),
            (second.clone(), LifecycleState::TerminatingWait)
        ]
    );
    std::thread::sleep(Duration::from_millis(2_200));
    assert_eq!(states(&scoped), moto_says, "the rule expired");
    assert_eq!(faults.fired(scope), 1);
    faults.clear(scope);

    aws.delete_asg(group);
    aws.delete_launch_template(&template);
}

#[test]
fn keeps_scaling_policies_per_group_as_aws_does() {
    let moto = Moto::shared();
    let aws = moto.aws();
    let template = launch_template(&aws, "proxy-policies-lt");
    let (a, b) = ("proxy-policies-a", "proxy-policies-b");
    for group in [a, b] {
        aws.block_on(new_group(&aws, group, &template, (0, 1)).send())
            .unwrap();
    }
    let put = |group: &str, target: f64, enabled: bool| {
        let tracking = TargetTrackingConfiguration::builder()
            .predefined_metric_specification(
                PredefinedMetricSpecification::builder()
                    .predefined_metric_type(MetricType::AsgAverageCpuUtilization)
                    .build(),
            )
            .target_value(target)
            .disable_scale_in(true)
            .build();
        aws.block_on(
            aws.autoscaling
                .put_scaling_policy()
                .auto_scaling_group_name(group)
                .policy_name("cpu")
                .policy_type("TargetTrackingScaling")
                .target_tracking_configuration(tracking)
                .estimated_instance_warmup(120)
                .enabled(enabled)
                .send(),
        )
        .unwrap()
        .policy_arn()
        .map(str::to_owned)
    };
    // Same policy name on two groups: moto alone keeps only the second.
    let arn_a = put(a, 50.0, true).expect("PutScalingPolicy answers with the PolicyARN");
    assert!(
        arn_a.ends_with(":autoScalingGroupName/proxy-policies-a:policyName/cpu"),
        "{arn_a}"
    );
    put(b, 70.0, false);
    let described = |group: &str| {
        aws.block_on(
            aws.autoscaling
                .describe_policies()
                .auto_scaling_group_name(group)
                .send(),
        )
        .unwrap()
        .scaling_policies()
        .to_vec()
    };
    let policies_a = described(a);
    assert_eq!(policies_a.len(), 1, "{policies_a:?}");
    let policy = &policies_a[0];
    assert_eq!(policy.policy_name(), Some("cpu"));
    assert_eq!(policy.policy_arn(), Some(arn_a.as_str()));
    assert_eq!(policy.enabled(), Some(true));
    assert_eq!(policy.estimated_instance_warmup(), Some(120));
    assert!(policy.predictive_scaling_configuration().is_none());
    let tracking = policy.target_tracking_configuration().unwrap();
    assert_eq!(tracking.target_value(), Some(50.0));
    assert_eq!(tracking.disable_scale_in(), Some(true));
    let policies_b = described(b);
    assert_eq!(policies_b.len(), 1, "{policies_b:?}");
    assert_eq!(policies_b[0].policy_name(), Some("cpu"));
    assert_eq!(policies_b[0].enabled(), Some(false));
    let target_b = policies_b[0].target_tracking_configuration().unwrap();
    assert_eq!(target_b.target_value(), Some(70.0));

    // DeletePolicy by ARN deletes that group's policy only.
    aws.block_on(aws.autoscaling.delete_policy().policy_name(&arn_a).send())
        .unwrap();
    assert!(described(a).is_empty());
    assert_eq!(described(b).len(), 1);
    // As on AWS (not moto), deleting a group deletes its policies.
    aws.delete_asg(b);
    assert!(described(b).is_empty(), "policies deleted with their group");
    aws.delete_asg(a);
    aws.delete_launch_template(&template);
}

#[test]
fn enables_and_disables_metrics_collection_as_aws_does() {
    let moto = Moto::shared();
    let aws = moto.aws();
    let group = "proxy-metrics-asg";
    let template = launch_template(&aws, "proxy-metrics-lt");
    aws.block_on(new_group(&aws, group, &template, (0, 1)).send())
        .unwrap();
    let enabled = || -> Vec<String> {
        aws.asg(group)
            .unwrap()
            .enabled_metrics()
            .iter()
            .map(|m| m.metric().unwrap().to_owned())
            .collect()
    };
    let enable = |metrics: &[&str]| {
        let mut call = aws
            .autoscaling
            .enable_metrics_collection()
            .auto_scaling_group_name(group)
            .granularity("1Minute");
        for metric in metrics {
            call = call.metrics(*metric);
        }
        aws.block_on(call.send()).unwrap();
    };
    let disable = |metrics: &[&str]| {
        let mut call = aws
            .autoscaling
            .disable_metrics_collection()
            .auto_scaling_group_name(group);
        for metric in metrics {
            call = call.metrics(*metric);
        }
        aws.block_on(call.send()).unwrap();
    };

    // Enabling adds (moto alone replaces).
    enable(&["GroupMinSize", "GroupMaxSize"]);
    enable(&["GroupDesiredCapacity"]);
    assert_eq!(
        enabled(),
        ["GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity"]
    );
    // Disabling removes those named (moto alone has no DisableMetricsCollection).
    disable(&["GroupMaxSize"]);
    assert_eq!(enabled(), ["GroupMinSize", "GroupDesiredCapacity"]);
    // No metrics named: all of them.
    disable(&[]);
    assert!(enabled().is_empty());
    enable(&[]);
    assert_eq!(enabled().len(), 21, "{:?}", enabled());
    let missing = aws.block_on(
        aws.autoscaling
            .disable_metrics_collection()
            .auto_scaling_group_name("proxy-metrics-missing")
            .send(),
    );
    assert_eq!(
        missing.expect_err("no such group").code(),
        Some("ValidationError")
    );

    aws.delete_asg(group);
    aws.delete_launch_template(&template);
}

/// CloudWatch through the proxy as the Rust SDK speaks it (Smithy RPC v2 CBOR, which the proxy
/// translates for moto): alarms are put, set and described with their reason; an injected
/// Throttling reaches the SDK as a throttling error; calls are counted as `monitoring:<Op>`.
#[test]
fn speaks_cloudwatch_cbor_with_faults_and_counts() {
    let moto = Moto::shared();
    let faults = moto.faults();
    let scope = "proxy-cloudwatch";
    faults.reset_calls(scope);
    let aws = moto.aws_as(scope, 1);

    aws.put_alarm("proxy-alarm-5xx");
    aws.put_alarm("proxy-alarm-latency");
    aws.set_alarm_state(
        "proxy-alarm-5xx",
        "ALARM",
        "Threshold Crossed: 1 datapoint [4.0 (06/12/26 00:40:00)] was >= the threshold (1.0).",
    );
    assert_eq!(
        aws.alarm_state("proxy-alarm-5xx"),
        Some((
            "ALARM".to_owned(),
            "Threshold Crossed: 1 datapoint [4.0 (06/12/26 00:40:00)] was >= the threshold (1.0)."
                .to_owned()
        ))
    );
    let (quiet, _) = aws.alarm_state("proxy-alarm-latency").expect("put");
    assert_ne!(quiet, "ALARM");
    assert_eq!(aws.alarm_state("proxy-alarm-never-put"), None);

    // Timestamps and numbers come back typed (CBOR tag 1, floats), not as moto's JSON.
    let described = aws
        .block_on(
            aws.cloudwatch
                .describe_alarms()
                .alarm_names("proxy-alarm-5xx")
                .send(),
        )
        .unwrap();
    let alarm = &described.metric_alarms()[0];
    assert!((alarm.threshold().unwrap() - 1.0).abs() < f64::EPSILON);
    assert_eq!(alarm.period(), Some(60));
    let updated = SystemTime::try_from(*alarm.state_updated_timestamp().unwrap()).unwrap();
    let age = SystemTime::now()
        .duration_since(updated)
        .unwrap_or(Duration::ZERO);
    assert!(age < Duration::from_mins(5), "state updated {age:?} ago");

    // A modelled error of moto's own keeps its code and status.
    let missing = aws.block_on(
        aws.cloudwatch
            .set_alarm_state()
            .alarm_name("proxy-alarm-never-put")
            .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
            .state_reason("test")
            .send(),
    );
    let err = missing.expect_err("no such alarm");
    assert_eq!(err.code(), Some("ResourceNotFound"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));

    // The Rule builders name no CloudWatch service: the rule as the control API takes it.
    let rule = serde_json::json!({
        "kind": "error", "scope": scope, "service": "monitoring",
        "actions": ["DescribeAlarms"], "count": 1,
    })
    .to_string();
    let added = http_request(
        moto.port(),
        "POST",
        "/_fault",
        &[("Content-Type", "application/json")],
        rule.as_bytes(),
    )
    .unwrap();
    assert_eq!(added.status, 200, "{}", added.text());
    let throttled = aws.block_on(
        aws.cloudwatch
            .describe_alarms()
            .alarm_names("proxy-alarm-5xx")
            .send(),
    );
    let err = throttled.expect_err("throttled");
    assert_eq!(err.code(), Some("Throttling"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    // With retries, the SDK classifies it as throttling and recovers.
    let rule_again = http_request(
        moto.port(),
        "POST",
        "/_fault",
        &[("Content-Type", "application/json")],
        rule.as_bytes(),
    )
    .unwrap();
    assert_eq!(rule_again.status, 200);
    let retrying = moto.aws_as(scope, 3);
    assert_eq!(
        retrying
            .alarm_state("proxy-alarm-5xx")
            .map(|(state, _)| state),
        Some("ALARM".to_owned())
    );

    let calls = faults.calls(scope);
    assert_eq!(calls.get("monitoring:PutMetricAlarm"), Some(&2));
    assert_eq!(calls.get("monitoring:SetAlarmState"), Some(&2));
    assert_eq!(
        calls.get("monitoring:DescribeAlarms"),
        Some(&(3 + 1 + 1 + 2)),
        "3 reads, 1 typed read, 1 throttled, 1 throttled + 1 retried: {calls:?}"
    );
    faults.clear(scope);
}

/// The facade's reads of a parked group: suspended processes and scheduled actions, the
/// latter per group as AWS keeps them.
#[test]
fn describes_suspended_processes_and_scheduled_actions() {
    let aws = Moto::shared().aws();
    let group = "proxy-parked";
    let template = launch_template(&aws, "proxy-parked-lt");
    aws.block_on(new_group(&aws, group, &template, (0, 1)).send())
        .unwrap();
    assert!(aws.suspended_processes(group).is_empty());
    assert!(aws.scheduled_actions(group).is_empty());
    aws.block_on(
        aws.autoscaling
            .suspend_processes()
            .auto_scaling_group_name(group)
            .scaling_processes("Terminate")
            .scaling_processes("Launch")
            .send(),
    )
    .unwrap();
    let start = aws_sdk_autoscaling::primitives::DateTime::from_secs(4_102_444_800);
    aws.block_on(
        aws.autoscaling
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(group)
            .scheduled_action_name("proxy-parked-end")
            .start_time(start)
            .min_size(0)
            .desired_capacity(0)
            .send(),
    )
    .unwrap();
    assert_eq!(aws.suspended_processes(group), ["Launch", "Terminate"]);
    let actions = aws.scheduled_actions(group);
    assert_eq!(actions.len(), 1, "{actions:?}");
    assert_eq!(actions[0].scheduled_action_name(), Some("proxy-parked-end"));
    assert_eq!(actions[0].start_time(), Some(&start));
    assert_eq!(actions[0].desired_capacity(), Some(0));
    assert!(aws.suspended_processes("proxy-parked-missing").is_empty());

    // Scheduled actions are named per group (moto alone: per account) and go with their group.
    let other = "proxy-parked-other";
    aws.block_on(new_group(&aws, other, &template, (0, 1)).send())
        .unwrap();
    let later = aws_sdk_autoscaling::primitives::DateTime::from_secs(4_133_980_800);
    aws.block_on(
        aws.autoscaling
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(other)
            .scheduled_action_name("proxy-parked-end")
            .start_time(later)
            .min_size(0)
            .desired_capacity(0)
            .send(),
    )
    .unwrap();
    assert_eq!(aws.scheduled_actions(group)[0].start_time(), Some(&start));
    assert_eq!(aws.scheduled_actions(other)[0].start_time(), Some(&later));
    aws.delete_asg(group);
    assert!(aws.scheduled_actions(group).is_empty());
    assert_eq!(aws.scheduled_actions(other).len(), 1);

    aws.delete_asg(other);
    aws.delete_launch_template(&template);
}
