//! The group settings (lifecycle hooks, target-tracking policies, instance lifetime,
//! termination policies, warm-up, capacity rebalancing, metrics) with the real Terraform CLI
//! against moto behind the fault proxy: what the group holds, changes in place, an
//! out-of-band edit repaired, import, destroy.
//!
//! moto drops `MaxInstanceLifetime`, `DefaultInstanceWarmup` and the hooks of a
//! CreateAutoScalingGroup call, and invents a notification target for hooks without one;
//! the fault proxy (`tests/support/fault_proxy.py`) makes those answers AWS's.

use aws_sdk_autoscaling::types::AutoScalingGroup;
use e2e::MOTO_AMI;
use e2e::plan::{self, actions};

use crate::Scenario;

const FLEET: &str = "e2e-group";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:drain-events";
const ROLE: &str = "arn:aws:iam::123456789012:role/hook-publisher";

/// The settings; `later` is the in-place change.
fn settings(later: bool) -> String {
    let (heartbeat, lifetime, order, second_policy, metrics) = if later {
        (
            "\n  heartbeat_timeout = \"10m\"",
            "48h",
            r#"["NewestInstance"]"#,
            "",
            r#"["GroupDesiredCapacity"]"#,
        )
    } else {
        (
            "",
            "24h",
            r#"["OldestInstance", "Default"]"#,
            "scaling_policy {\n  name         = \"network\"\n  metric       = \"network_in\"\n  target_value = 1000000\n}\n",
            r#"["GroupInServiceInstances", "GroupDesiredCapacity"]"#,
        )
    };
    // Later, capacity rebalancing is left out: back to AWS's default (off).
    let (warmup, rebalance) = if later {
        ("2m", "")
    } else {
        ("1m", "capacity_rebalance      = true")
    };
    format!(
        r#"max_instance_lifetime   = "{lifetime}"
termination_policies    = {order}
default_instance_warmup = "{warmup}"
{rebalance}
enabled_metrics         = {metrics}
lifecycle_hook {{
  name       = "warm-up"
  transition = "launching"{heartbeat}
}}
lifecycle_hook {{
  name                    = "drain"
  transition              = "terminating"
  default_result          = "CONTINUE"
  notification_target_arn = "{QUEUE}"
  role_arn                = "{ROLE}"
}}
scaling_policy {{
  name             = "cpu"
  metric           = "cpu"
  target_value     = 50.5
  disable_scale_in = true
  instance_warmup  = "2m"
}}
{second_policy}"#
    )
}

struct Group {
    asg: AutoScalingGroup,
    /// (name, transition, heartbeat, default result, target).
    hooks: Vec<(String, String, i32, String, Option<String>)>,
    /// (name, metric type, target value).
    policies: Vec<(String, String, f64)>,
}

fn read_group(scenario: &Scenario, name: &str) -> Group {
    let aws = &scenario.aws;
    let asg = aws.asg(name).expect("the group");
    let hooks = aws
        .block_on(
            aws.autoscaling
                .describe_lifecycle_hooks()
                .auto_scaling_group_name(name)
                .send(),
        )
        .unwrap();
    let mut hooks: Vec<_> = hooks
        .lifecycle_hooks()
        .iter()
        .map(|h| {
            (
                h.lifecycle_hook_name().unwrap_or_default().to_owned(),
                h.lifecycle_transition().unwrap_or_default().to_owned(),
                h.heartbeat_timeout().unwrap_or_default(),
                h.default_result().unwrap_or_default().to_owned(),
                h.notification_target_arn().map(str::to_owned),
            )
        })
        .collect();
    hooks.sort();
    let policies = aws
        .block_on(
            aws.autoscaling
                .describe_policies()
                .auto_scaling_group_name(name)
                .send(),
        )
        .unwrap();
    let mut policies: Vec<_> = policies
        .scaling_policies()
        .iter()
        .map(|p| {
            let tracking = p.target_tracking_configuration().unwrap();
            (
                p.policy_name().unwrap_or_default().to_owned(),
                tracking
                    .predefined_metric_specification()
                    .and_then(|m| m.predefined_metric_type())
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
                tracking.target_value().unwrap_or_default(),
            )
        })
        .collect();
    policies.sort_by(|a, b| a.0.cmp(&b.0));
    Group {
        asg,
        hooks,
        policies,
    }
}

fn metrics(asg: &AutoScalingGroup) -> Vec<String> {
    let mut names: Vec<String> = asg
        .enabled_metrics()
        .iter()
        .filter_map(|m| m.metric().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
#[allow(clippy::too_many_lines, reason = "one scenario, step by step")]
fn group_settings_land_change_in_place_repair_drift_and_import() {
    let scenario = Scenario::start("group_settings");
    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("this", FLEET);
    fleet.extra_hcl = settings(false);
    let address = fleet.address();
    let asg_name = format!("{FLEET}-g1");

    scenario.step("apply a fleet with hooks, policies and every group setting");
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    scenario.assert_one_generation(FLEET, MOTO_AMI, 1);
    let group = read_group(&scenario, &asg_name);
    assert_eq!(group.asg.max_instance_lifetime(), Some(86_400));
    assert_eq!(group.asg.default_instance_warmup(), Some(60));
    assert_eq!(group.asg.capacity_rebalance(), Some(true));
    assert_eq!(
        group.asg.termination_policies(),
        ["OldestInstance", "Default"]
    );
    assert_eq!(
        metrics(&group.asg),
        ["GroupDesiredCapacity", "GroupInServiceInstances"]
    );
    assert_eq!(
        group.hooks,
        [
            (
                "drain".to_owned(),
                "autoscaling:EC2_INSTANCE_TERMINATING".to_owned(),
                300,
                "CONTINUE".to_owned(),
                Some(QUEUE.to_owned())
            ),
            (
                "warm-up".to_owned(),
                "autoscaling:EC2_INSTANCE_LAUNCHING".to_owned(),
                300,
                "ABANDON".to_owned(),
                None
            ),
        ],
        "both hooks, with their defaults, from the create call"
    );
    assert_eq!(
        group.policies,
        [
            (
                "cpu".to_owned(),
                "ASGAverageCPUUtilization".to_owned(),
                50.5
            ),
            ("network".to_owned(), "ASGAverageNetworkIn".to_owned(), 1e6),
        ]
    );
    workdir.assert_no_changes("after create");

    scenario.step("change hooks, policies, lifetime, order and metrics: in place");
    fleet.extra_hcl = settings(true);
    scenario.write_config(&workdir, &[&fleet]);
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["update"], "{change:#}");
    workdir.apply_saved_plan();
    let group = read_group(&scenario, &asg_name);
    assert_eq!(group.asg.max_instance_lifetime(), Some(172_800));
    assert_eq!(group.asg.default_instance_warmup(), Some(120));
    assert_eq!(group.asg.capacity_rebalance(), Some(false));
    assert_eq!(group.asg.termination_policies(), ["NewestInstance"]);
    assert_eq!(metrics(&group.asg), ["GroupDesiredCapacity"]);
    assert_eq!(group.hooks[1].2, 600, "the warm-up hook's new heartbeat");
    assert_eq!(
        group.policies.len(),
        1,
        "the removed policy is gone: {:?}",
        group.policies
    );
    workdir.assert_no_changes("after the in-place change");

    scenario.step("out of band: the drain hook is deleted; the plan puts it back in place");
    scenario
        .aws
        .block_on(
            scenario
                .aws
                .autoscaling
                .delete_lifecycle_hook()
                .auto_scaling_group_name(&asg_name)
                .lifecycle_hook_name("drain")
                .send(),
        )
        .unwrap();
    let planned = workdir.plan_json(&[]);
    let change = plan::resource_change(&planned, &address);
    assert_eq!(actions(change), ["update"], "{change:#}");
    workdir.apply_saved_plan();
    assert_eq!(read_group(&scenario, &asg_name).hooks.len(), 2);
    workdir.assert_no_changes("after the repair");

    scenario.step(&format!("a second working directory imports {asg_name}"));
    let importer = scenario.workdir();
    scenario.write_config(&importer, &[&fleet]);
    importer.run(&["import", "-input=false", &address, &asg_name]);
    importer.assert_no_changes("after import: hooks, policies and settings rebuilt from AWS");

    scenario.step("destroy (terminating hook: scale in first) leaves nothing of the fleet");
    importer.destroy(&[]);
    assert!(scenario.aws.fleet_asgs(FLEET).is_empty());
    assert!(scenario.aws.fleet_launch_templates(FLEET).is_empty());
}

/// A request-count policy names its target group; AWS wants the load balancer too, as the
/// label `app/<lb>/<id>/targetgroup/<tg>/<id>`. The provider finds the load balancer that
/// routes to the target group, and reads the label back as the target group's ARN.
#[test]
fn a_request_count_policy_tracks_the_target_group_behind_its_load_balancer() {
    let scenario = Scenario::start("group_settings_alb");
    let aws = &scenario.aws;
    let target_group = aws.create_target_group("e2e-group-alb");
    let load_balancer = aws
        .block_on(
            aws.elbv2
                .create_load_balancer()
                .name("e2e-group-alb")
                .set_subnets(Some(scenario.subnets.clone()))
                .send(),
        )
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_owned();
    aws.block_on(
        aws.elbv2
            .create_listener()
            .load_balancer_arn(&load_balancer)
            .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(
                aws_sdk_elasticloadbalancingv2::types::Action::builder()
                    .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                    .target_group_arn(&target_group)
                    .build(),
            )
            .send(),
    )
    .unwrap();

    let workdir = scenario.workdir();
    let mut fleet = scenario.fleet("this", "e2e-alb-policy");
    fleet.target_group_arns = vec![target_group.clone()];
    fleet.extra_hcl = format!(
        "scaling_policy {{\n  name             = \"requests\"\n  metric           = \
         \"alb_requests_per_target\"\n  target_value     = 1000\n  target_group_arn = \
         \"{target_group}\"\n}}"
    );
    scenario.write_config(&workdir, &[&fleet]);
    workdir.apply(&[]);
    let policies = aws
        .block_on(
            aws.autoscaling
                .describe_policies()
                .auto_scaling_group_name("e2e-alb-policy-g1")
                .send(),
        )
        .unwrap();
    let label = policies.scaling_policies()[0]
        .target_tracking_configuration()
        .and_then(|t| t.predefined_metric_specification())
        .and_then(|m| m.resource_label())
        .unwrap_or_default()
        .to_owned();
    let lb_part = load_balancer.split_once(":loadbalancer/").unwrap().1;
    let tg_part = target_group.split_once(":targetgroup/").unwrap().1;
    assert_eq!(label, format!("{lb_part}/targetgroup/{tg_part}"));
    workdir.assert_no_changes("the label reads back as the target group");
    workdir.destroy(&[]);
    aws.block_on(
        aws.elbv2
            .delete_load_balancer()
            .load_balancer_arn(&load_balancer)
            .send(),
    )
    .unwrap();
}
