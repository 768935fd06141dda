//! SDK clients pointed at moto, for assertions about what really exists.
//!
//! The clients are built from explicit service configs (endpoint, region, static credentials)
//! rather than `aws_config::load`, so nothing from the environment or profile files is read
//! and nothing can reach the instance metadata service.

use std::future::Future;
use std::time::Duration;

use aws_sdk_autoscaling::types::{AutoScalingGroup, ScheduledUpdateGroupAction};
use aws_sdk_cloudwatch::types::{ComparisonOperator, StateValue, Statistic};
use aws_sdk_ec2::error::DisplayErrorContext;
use aws_sdk_ec2::types::{Filter, Instance, LaunchTemplate, Tag};
use tokio::runtime::Runtime;

use crate::{REGION, TEST_ACCESS_KEY, TEST_SECRET_KEY};

/// Tag key the provider puts on every ASG and launch template of a fleet
/// (provider/src/resources/fleet/spec.rs, `TAG_FLEET`).
pub const FLEET_TAG: &str = "immutable:fleet";
/// Tag key the provider puts on every generation.
pub const GENERATION_TAG: &str = "immutable:generation";
/// Tag key AWS (and moto) put on instances launched by an ASG.
pub const ASG_NAME_TAG: &str = "aws:autoscaling:groupName";

/// Blocking facade over the ec2, autoscaling, elbv2 and cloudwatch clients (its own tokio
/// runtime), so the scenarios read as plain sequential steps.
#[derive(Debug)]
pub struct Aws {
    runtime: Runtime,
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

macro_rules! client_for {
    ($service:ident, $endpoint:expr, $access_key:expr, $max_attempts:expr) => {{
        use $service::config;
        let conf = config::Builder::new()
            .behavior_version(config::BehaviorVersion::latest())
            .region(config::Region::new(REGION))
            .endpoint_url($endpoint)
            .credentials_provider(config::Credentials::new(
                $access_key,
                TEST_SECRET_KEY,
                None,
                None,
                "e2e-static",
            ))
            .retry_config(config::retry::RetryConfig::standard().with_max_attempts($max_attempts))
            .timeout_config(
                config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_mins(1))
                    .build(),
            )
            .build();
        $service::Client::from_conf(conf)
    }};
}

impl Aws {
    /// Clients for the server at `endpoint` (`http://127.0.0.1:<port>`), signing with
    /// [`TEST_ACCESS_KEY`], 3 attempts per call.
    pub fn new(endpoint: &str) -> Self {
        Self::with_access_key(endpoint, TEST_ACCESS_KEY, 3)
    }

    /// Clients signing with `access_key` (the fault proxy scopes faults and counts by it), with
    /// at most `max_attempts` attempts per call.
    pub fn with_access_key(endpoint: &str, access_key: &str, max_attempts: u32) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|err| panic!("cannot build a tokio runtime: {err}"));
        Self {
            runtime,
            ec2: client_for!(aws_sdk_ec2, endpoint, access_key.to_owned(), max_attempts),
            autoscaling: client_for!(
                aws_sdk_autoscaling,
                endpoint,
                access_key.to_owned(),
                max_attempts
            ),
            elbv2: client_for!(
                aws_sdk_elasticloadbalancingv2,
                endpoint,
                access_key.to_owned(),
                max_attempts
            ),
            cloudwatch: client_for!(
                aws_sdk_cloudwatch,
                endpoint,
                access_key.to_owned(),
                max_attempts
            ),
        }
    }

    /// Runs any SDK call to completion, for checks this facade does not offer.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The default-for-AZ subnets of the default VPC (moto has six), sorted.
    pub fn default_subnet_ids(&self) -> Vec<String> {
        let subnets = self
            .block_on(
                self.ec2
                    .describe_subnets()
                    .filters(
                        Filter::builder()
                            .name("default-for-az")
                            .values("true")
                            .build(),
                    )
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect(),
            )
            .unwrap_or_else(|err| panic!("DescribeSubnets: {}", DisplayErrorContext(&err)));
        let mut ids: Vec<String> = subnets
            .into_iter()
            .filter_map(|subnet| subnet.subnet_id)
            .collect();
        ids.sort();
        assert!(!ids.is_empty(), "moto reports no default subnets");
        ids
    }

    /// The default VPC's id.
    pub fn default_vpc_id(&self) -> String {
        let output = self
            .block_on(
                self.ec2
                    .describe_vpcs()
                    .filters(Filter::builder().name("is-default").values("true").build())
                    .send(),
            )
            .unwrap_or_else(|err| panic!("DescribeVpcs: {}", DisplayErrorContext(&err)));
        output
            .vpcs()
            .iter()
            .find_map(|vpc| vpc.vpc_id())
            .unwrap_or_else(|| panic!("moto reports no default VPC"))
            .to_owned()
    }

    /// Creates an HTTP:80 instance target group in the default VPC; returns its ARN.
    pub fn create_target_group(&self, name: &str) -> String {
        let vpc = self.default_vpc_id();
        let output = self
            .block_on(
                self.elbv2
                    .create_target_group()
                    .name(name)
                    .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
                    .port(80)
                    .vpc_id(vpc)
                    .send(),
            )
            .unwrap_or_else(|err| {
                panic!("CreateTargetGroup {name}: {}", DisplayErrorContext(&err))
            });
        output
            .target_groups()
            .iter()
            .find_map(|tg| tg.target_group_arn())
            .unwrap_or_else(|| panic!("CreateTargetGroup {name} returned no ARN"))
            .to_owned()
    }

    /// IDs of the instances registered in target group `arn` (any health state).
    pub fn registered_targets(&self, arn: &str) -> Vec<String> {
        let output = self
            .block_on(
                self.elbv2
                    .describe_target_health()
                    .target_group_arn(arn)
                    .send(),
            )
            .unwrap_or_else(|err| {
                panic!("DescribeTargetHealth {arn}: {}", DisplayErrorContext(&err))
            });
        output
            .target_health_descriptions()
            .iter()
            .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_owned))
            .collect()
    }

    /// Whether the AMI exists (filtered by id: an unfiltered DescribeImages costs seconds).
    pub fn image_exists(&self, image_id: &str) -> bool {
        let result = self.block_on(self.ec2.describe_images().image_ids(image_id).send());
        match result {
            Ok(output) => !output.images().is_empty(),
            Err(err)
                if err.as_service_error().and_then(|e| e.meta().code())
                    == Some("InvalidAMIID.NotFound") =>
            {
                false
            }
            Err(err) => panic!("DescribeImages {image_id}: {}", DisplayErrorContext(&err)),
        }
    }

    /// Every Auto Scaling group.
    pub fn all_asgs(&self) -> Vec<AutoScalingGroup> {
        self.block_on(
            self.autoscaling
                .describe_auto_scaling_groups()
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .unwrap_or_else(|err| panic!("DescribeAutoScalingGroups: {}", DisplayErrorContext(&err)))
    }

    /// The ASGs of a fleet: tagged `immutable:fleet=<fleet>`, or named `<fleet>-…` (so that an
    /// untagged leftover of the fleet is counted too). Sorted by name.
    pub fn fleet_asgs(&self, fleet: &str) -> Vec<AutoScalingGroup> {
        let prefix = format!("{fleet}-");
        let mut asgs: Vec<AutoScalingGroup> = self
            .all_asgs()
            .into_iter()
            .filter(|asg| {
                asg.auto_scaling_group_name()
                    .is_some_and(|name| name.starts_with(&prefix))
                    || asg
                        .tags()
                        .iter()
                        .any(|tag| tag.key() == Some(FLEET_TAG) && tag.value() == Some(fleet))
            })
            .collect();
        asgs.sort_by(|a, b| {
            a.auto_scaling_group_name()
                .cmp(&b.auto_scaling_group_name())
        });
        asgs
    }

    /// One ASG by name, if it exists.
    pub fn asg(&self, name: &str) -> Option<AutoScalingGroup> {
        let output = self
            .block_on(
                self.autoscaling
                    .describe_auto_scaling_groups()
                    .auto_scaling_group_names(name)
                    .send(),
            )
            .unwrap_or_else(|err| {
                panic!(
                    "DescribeAutoScalingGroups {name}: {}",
                    DisplayErrorContext(&err)
                )
            });
        output
            .auto_scaling_groups()
            .iter()
            .find(|asg| asg.auto_scaling_group_name() == Some(name))
            .cloned()
    }

    /// Every launch template.
    pub fn all_launch_templates(&self) -> Vec<LaunchTemplate> {
        self.block_on(
            self.ec2
                .describe_launch_templates()
                // moto answers at most MaxResults (default 15) with no NextToken; AWS pages.
                .max_results(200)
                .into_paginator()
                .items()
                .send()
                .try_collect(),
        )
        .unwrap_or_else(|err| panic!("DescribeLaunchTemplates: {}", DisplayErrorContext(&err)))
    }

    /// The launch templates of a fleet: tagged `immutable:fleet=<fleet>` or named `<fleet>-…`.
    /// Sorted by name.
    pub fn fleet_launch_templates(&self, fleet: &str) -> Vec<LaunchTemplate> {
        let prefix = format!("{fleet}-");
        let mut templates: Vec<LaunchTemplate> = self
            .all_launch_templates()
            .into_iter()
            .filter(|template| {
                template
                    .launch_template_name()
                    .is_some_and(|name| name.starts_with(&prefix))
                    || has_tag(template.tags(), FLEET_TAG, fleet)
            })
            .collect();
        templates.sort_by(|a, b| a.launch_template_name().cmp(&b.launch_template_name()));
        templates
    }

    /// Whether a launch template with this id exists.
    pub fn launch_template_exists(&self, id: &str) -> bool {
        self.all_launch_templates()
            .iter()
            .any(|template| template.launch_template_id() == Some(id))
    }

    /// The image id in the latest version of a launch template.
    pub fn launch_template_image(&self, id: &str) -> Option<String> {
        let output = self
            .block_on(
                self.ec2
                    .describe_launch_template_versions()
                    .launch_template_id(id)
                    .versions("$Latest")
                    .send(),
            )
            .unwrap_or_else(|err| {
                panic!(
                    "DescribeLaunchTemplateVersions {id}: {}",
                    DisplayErrorContext(&err)
                )
            });
        output
            .launch_template_versions()
            .first()
            .and_then(|version| version.launch_template_data())
            .and_then(|data| data.image_id())
            .map(str::to_owned)
    }

    /// Every EC2 instance, in any state.
    pub fn all_instances(&self) -> Vec<Instance> {
        let reservations = self
            .block_on(
                self.ec2
                    .describe_instances()
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect(),
            )
            .unwrap_or_else(|err| panic!("DescribeInstances: {}", DisplayErrorContext(&err)));
        reservations
            .into_iter()
            .flat_map(|reservation| reservation.instances.unwrap_or_default())
            .collect()
    }

    /// Pending or running instances launched by the ASG `asg_name`, sorted by id.
    pub fn live_instances_of_asg(&self, asg_name: &str) -> Vec<Instance> {
        self.live_instances(|instance| has_tag(instance.tags(), ASG_NAME_TAG, asg_name))
    }

    /// Pending or running instances of a fleet: launched by an ASG named `<fleet>-…` or tagged
    /// `immutable:fleet=<fleet>`. Sorted by id.
    pub fn live_instances_of_fleet(&self, fleet: &str) -> Vec<Instance> {
        let prefix = format!("{fleet}-");
        self.live_instances(|instance| {
            has_tag(instance.tags(), FLEET_TAG, fleet)
                || instance.tags().iter().any(|tag| {
                    tag.key() == Some(ASG_NAME_TAG)
                        && tag.value().is_some_and(|name| name.starts_with(&prefix))
                })
        })
    }

    fn live_instances(&self, matches: impl Fn(&Instance) -> bool) -> Vec<Instance> {
        let mut instances: Vec<Instance> = self
            .all_instances()
            .into_iter()
            .filter(|instance| {
                instance
                    .state()
                    .and_then(|state| state.name())
                    .is_some_and(|name| matches!(name.as_str(), "pending" | "running"))
            })
            .filter(|instance| matches(instance))
            .collect();
        instances.sort_by(|a, b| a.instance_id().cmp(&b.instance_id()));
        instances
    }

    /// Deletes an ASG behind Terraform's back (`ForceDelete`: its instances go too).
    pub fn delete_asg(&self, name: &str) {
        self.block_on(
            self.autoscaling
                .delete_auto_scaling_group()
                .auto_scaling_group_name(name)
                .force_delete(true)
                .send(),
        )
        .unwrap_or_else(|err| {
            panic!(
                "DeleteAutoScalingGroup {name}: {}",
                DisplayErrorContext(&err)
            )
        });
    }

    /// The names of the ASG's suspended processes (`Launch`, `Terminate`…), sorted; none for a
    /// group that does not exist.
    pub fn suspended_processes(&self, asg: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .asg(asg)
            .map(|group| {
                group
                    .suspended_processes()
                    .iter()
                    .filter_map(|p| p.process_name().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The ASG's scheduled actions, sorted by name.
    pub fn scheduled_actions(&self, asg: &str) -> Vec<ScheduledUpdateGroupAction> {
        let mut actions: Vec<ScheduledUpdateGroupAction> = self
            .block_on(
                self.autoscaling
                    .describe_scheduled_actions()
                    .auto_scaling_group_name(asg)
                    .into_paginator()
                    .items()
                    .send()
                    .try_collect(),
            )
            .unwrap_or_else(|err| {
                panic!(
                    "DescribeScheduledActions {asg}: {}",
                    DisplayErrorContext(&err)
                )
            });
        actions.sort_by(|a, b| a.scheduled_action_name().cmp(&b.scheduled_action_name()));
        actions
    }

    /// Creates (or replaces) the metric alarm `name`: a load balancer's target 5xx count of at
    /// least 1 in a minute. It starts in `INSUFFICIENT_DATA` (moto: `OK`) until set otherwise.
    pub fn put_alarm(&self, name: &str) {
        self.block_on(
            self.cloudwatch
                .put_metric_alarm()
                .alarm_name(name)
                .namespace("AWS/ApplicationELB")
                .metric_name("HTTPCode_Target_5XX_Count")
                .statistic(Statistic::Sum)
                .period(60)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                .send(),
        )
        .unwrap_or_else(|err| panic!("PutMetricAlarm {name}: {}", DisplayErrorContext(&err)));
    }

    /// Sets the alarm's state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) with `reason`, as an
    /// operator's SetAlarmState would.
    pub fn set_alarm_state(&self, name: &str, state: &str, reason: &str) {
        self.block_on(
            self.cloudwatch
                .set_alarm_state()
                .alarm_name(name)
                .state_value(StateValue::from(state))
                .state_reason(reason)
                .send(),
        )
        .unwrap_or_else(|err| panic!("SetAlarmState {name}: {}", DisplayErrorContext(&err)));
    }

    /// The alarm's (state, state reason), if an alarm of that name exists (metric or composite).
    pub fn alarm_state(&self, name: &str) -> Option<(String, String)> {
        let output = self
            .block_on(
                self.cloudwatch
                    .describe_alarms()
                    .alarm_names(name)
                    .alarm_types(aws_sdk_cloudwatch::types::AlarmType::MetricAlarm)
                    .alarm_types(aws_sdk_cloudwatch::types::AlarmType::CompositeAlarm)
                    .send(),
            )
            .unwrap_or_else(|err| panic!("DescribeAlarms {name}: {}", DisplayErrorContext(&err)));
        let metric = output
            .metric_alarms()
            .iter()
            .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
        let composite = output
            .composite_alarms()
            .iter()
            .map(|a| (a.alarm_name(), a.state_value(), a.state_reason()));
        metric
            .chain(composite)
            .find(|(alarm, _, _)| *alarm == Some(name))
            .map(|(_, state, reason)| {
                (
                    state.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    reason.unwrap_or_default().to_owned(),
                )
            })
    }

    /// Deletes a launch template behind Terraform's back.
    pub fn delete_launch_template(&self, id: &str) {
        self.block_on(
            self.ec2
                .delete_launch_template()
                .launch_template_id(id)
                .send(),
        )
        .unwrap_or_else(|err| panic!("DeleteLaunchTemplate {id}: {}", DisplayErrorContext(&err)));
    }
}

/// The value of tag `key` on an ASG.
pub fn asg_tag<'a>(asg: &'a AutoScalingGroup, key: &str) -> Option<&'a str> {
    asg.tags()
        .iter()
        .find(|tag| tag.key() == Some(key))
        .and_then(|tag| tag.value())
}

fn has_tag(tags: &[Tag], key: &str, value: &str) -> bool {
    tags.iter()
        .any(|tag| tag.key() == Some(key) && tag.value() == Some(value))
}
