//! The calls a canary rollout makes besides the gate's, against moto through the fault proxy:
//! alarm states in one DescribeAlarms (CloudWatch's CBOR protocol, translated by the proxy),
//! and parking a generation (suspend/resume processes, target groups, a scheduled
//! scale-to-zero).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_autoscaling::types::LaunchTemplateSpecification;
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use e2e::Moto;
use terraform_provider_immutable::aws::alarms::{AlarmState, AlarmStatus, describe_alarms};
use terraform_provider_immutable::aws::groups::{self, ScheduledAction};
use terraform_provider_immutable::aws::{AwsClients, ClientSettings, Endpoints, ErrorKind};
use terraform_provider_immutable::resources::fleet::TAG_FLEET;

use crate::fixture::fixture;

/// Clients like the provider's after Configure, every service at moto, signing with `key`.
async fn clients(moto: &Moto, key: &str) -> AwsClients {
    let endpoint = moto.endpoint().to_owned();
    AwsClients::load(&ClientSettings {
        region: Some("us-east-1".to_owned()),
        endpoints: Endpoints {
            ec2: Some(endpoint.clone()),
            autoscaling: Some(endpoint.clone()),
            elbv2: Some(endpoint.clone()),
            cloudwatch: Some(endpoint),
        },
        credentials: Some(Credentials::new(key, "testing", None, None, "test")),
        inventory_tag: TAG_FLEET,
    })
    .await
    .unwrap()
}

async fn put_alarm(clients: &AwsClients, name: &str) {
    clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
}

/// Adds a fault rule the `e2e::Rule` builders have no service for (CloudWatch signs as
/// `monitoring`).
fn add_rule(moto: &Moto, rule: &serde_json::Value) {
    let body = rule.to_string();
    let answer = e2e::http_request(
        moto.port(),
        "POST",
        "/_fault",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.text());
}

#[test]
fn alarms_are_read_in_one_call_with_state_and_reason() {
    let fx = fixture();
    let faults = fx.moto.faults();
    let key = "alarms-describe";
    faults.reset_calls(key);
    let names: Vec<String> = ["it-alarm-quiet", "it-alarm-firing", "it-alarm-missing"]
        .iter()
        .map(|n| (*n).to_owned())
        .collect();
    let statuses = fx.runtime.block_on(async {
        let setup = clients(fx.moto, "alarms-setup").await;
        put_alarm(&setup, &names[0]).await;
        put_alarm(&setup, &names[1]).await;
        setup
            .cloudwatch
            .set_alarm_state()
            .alarm_name(&names[0])
            .state_value(StateValue::Ok)
            .state_reason("all quiet")
            .send()
            .await
            .unwrap();
        setup
            .cloudwatch
            .set_alarm_state()
            .alarm_name(&names[1])
            .state_value(StateValue::Alarm)
            .state_reason("Threshold Crossed: 1 datapoint [7.0] >= 1.0")
            .send()
            .await
            .unwrap();
        let reader = clients(fx.moto, key).await;
        describe_alarms(&reader.cloudwatch, &names).await.unwrap()
    });
    assert_eq!(
        statuses,
        vec![
            AlarmStatus {
                name: names[0].clone(),
                state: AlarmState::Ok,
                reason: "all quiet".to_owned(),
            },
            AlarmStatus {
                name: names[1].clone(),
                state: AlarmState::Alarm,
                reason: "Threshold Crossed: 1 datapoint [7.0] >= 1.0".to_owned(),
            },
        ],
        "the missing alarm is absent"
    );
    assert_eq!(
        faults.calls(key).get("monitoring:DescribeAlarms"),
        Some(&1),
        "{:?}",
        faults.calls(key)
    );
}

#[test]
fn throttled_alarm_reads_say_so_once_retries_run_out() {
    let fx = fixture();
    let key = "alarms-throttled";
    add_rule(
        fx.moto,
        &serde_json::json!({
            "kind": "error", "scope": key, "service": "monitoring",
            "actions": ["DescribeAlarms"],
        }),
    );
    let err = fx.runtime.block_on(async {
        let reader = clients(fx.moto, key).await;
        describe_alarms(&reader.cloudwatch, &["it-alarm-any".to_owned()])
            .await
            .unwrap_err()
    });
    fx.moto.faults().clear(key);
    assert_eq!(err.kind(), ErrorKind::Throttled, "{err}");
    assert_eq!(err.operation, "DescribeAlarms");
    assert_eq!(err.code, "Throttling");
}

/// Creates an empty group `name` (and its launch template `<name>-lt`) in `subnet`.
async fn new_group(clients: &AwsClients, name: &str, subnet: &str) {
    let template = clients
        .ec2
        .create_launch_template()
        .launch_template_name(format!("{name}-lt"))
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .image_id(e2e::MOTO_AMI)
                .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let template_id = template
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap();
    clients
        .autoscaling
        .create_auto_scaling_group()
        .auto_scaling_group_name(name)
        .launch_template(
            LaunchTemplateSpecification::builder()
                .launch_template_id(template_id)
                .version("1")
                .build(),
        )
        .min_size(0)
        .max_size(1)
        .desired_capacity(0)
        .vpc_zone_identifier(subnet)
        .send()
        .await
        .unwrap();
}

#[test]
fn a_generation_is_parked_and_brought_back() {
    let fx = fixture();
    let aws = fx.moto.aws();
    let target_group = aws.create_target_group("it-park-tg");
    let group = "it-park-group";
    let suspended = |clients: &AwsClients| {
        let clients = clients.clone();
        async move {
            let described = groups::describe_group(&clients, group)
                .await
                .unwrap()
                .unwrap();
            let mut names: Vec<String> = described
                .suspended_processes()
                .iter()
                .filter_map(|p| p.process_name().map(str::to_owned))
                .collect();
            names.sort();
            (names, described.target_group_arns().to_vec())
        }
    };
    fx.runtime.block_on(async {
        let clients = clients(fx.moto, "parking").await;
        new_group(&clients, group, &fx.subnets[0]).await;

        // Park: out of the target group, no launches or replacements, an end in AWS's hands.
        groups::attach_target_groups(&clients, group, std::slice::from_ref(&target_group))
            .await
            .unwrap();
        assert_eq!(
            suspended(&clients).await.1,
            std::slice::from_ref(&target_group)
        );
        groups::detach_target_groups(&clients, group, std::slice::from_ref(&target_group))
            .await
            .unwrap();
        let parked = ["Launch", "Terminate", "AddToLoadBalancer"];
        groups::suspend_processes(&clients, group, &parked)
            .await
            .unwrap();
        let (processes, target_groups) = suspended(&clients).await;
        assert_eq!(processes, ["AddToLoadBalancer", "Launch", "Terminate"]);
        assert!(target_groups.is_empty(), "{target_groups:?}");

        // Whole seconds: what the API keeps.
        let secs = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let end = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        groups::put_scale_to_zero_at(&clients, group, "it-park-end", end)
            .await
            .unwrap();
        assert_eq!(
            groups::scheduled_actions(&clients, group).await.unwrap(),
            [ScheduledAction {
                name: "it-park-end".to_owned(),
                start: Some(end),
                min_size: Some(0),
                desired_capacity: Some(0),
            }]
        );

        // Bring back: resume, re-attach, no end.
        groups::resume_processes(&clients, group, &parked)
            .await
            .unwrap();
        groups::attach_target_groups(&clients, group, std::slice::from_ref(&target_group))
            .await
            .unwrap();
        let (processes, target_groups) = suspended(&clients).await;
        assert!(processes.is_empty(), "{processes:?}");
        assert_eq!(target_groups, std::slice::from_ref(&target_group));
        groups::delete_scheduled_action(&clients, group, "it-park-end")
            .await
            .unwrap();
        assert_eq!(
            groups::scheduled_actions(&clients, group).await.unwrap(),
            []
        );

        groups::start_group_delete(&clients, group).await.unwrap();
    });
}

#[test]
fn removals_of_what_is_gone_are_done() {
    let fx = fixture();
    let parked = ["Launch", "Terminate", "AddToLoadBalancer"];
    fx.runtime.block_on(async {
        let clients = clients(fx.moto, "parking-gone").await;
        // An interrupted removal can be run again: nothing left to remove is success.
        new_group(&clients, "it-park-twice", &fx.subnets[0]).await;
        let end = SystemTime::now() + Duration::from_hours(1);
        groups::put_scale_to_zero_at(&clients, "it-park-twice", "it-park-end", end)
            .await
            .unwrap();
        for _ in 0..2 {
            groups::delete_scheduled_action(&clients, "it-park-twice", "it-park-end")
                .await
                .unwrap();
        }
        groups::start_group_delete(&clients, "it-park-twice")
            .await
            .unwrap();
        // A group that is gone: nothing to resume, no scheduled action.
        groups::resume_processes(&clients, "it-park-gone", &parked)
            .await
            .unwrap();
        groups::delete_scheduled_action(&clients, "it-park-gone", "it-park-end")
            .await
            .unwrap();
        assert_eq!(
            groups::scheduled_actions(&clients, "it-park-gone")
                .await
                .unwrap(),
            []
        );
        // Parking it is an error, not a silent success.
        let err = groups::suspend_processes(&clients, "it-park-gone", &parked)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    });
}
