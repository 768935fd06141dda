//! Checks of the fault proxy itself (no provider, no Terraform): untouched calls are
//! byte-identical to plain moto, every rule kind fires, rules and counts stay in their scope.

use std::time::{Duration, Instant, SystemTime};

use aws_sdk_autoscaling::types::{LaunchTemplateSpecification, LifecycleState};
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
