//! How one resource is written: its attribute values (before, planned, drifted), the
//! `after_unknown` and sensitivity masks, and the objects of `resource_changes`,
//! `resource_drift`, `planned_values` and `prior_state` that hold them.

use std::fmt::Write as _;

use super::PlanWriter;
use super::resource::{Action, GROUP, Resource};
use crate::rng::Rng;

/// Which version of a resource's attributes to write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// As in the prior state.
    Before,
    /// As planned.
    After,
    /// As changed outside of Terraform (drift).
    Drifted,
}

/// JSON string contents: the generator's strings need only `"` and `\` escaped.
pub(super) fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

impl PlanWriter {
    /// Writes the attribute object of `r` for `side`.
    // One arm per resource type, each a literal template: splitting it would only scatter them.
    #[allow(clippy::too_many_lines)]
    fn attributes(&self, r: &Resource, side: Side, out: &mut String) {
        let i = r.index;
        let changed = side != Side::Before
            && matches!(
                r.action,
                Action::Update | Action::ReplaceCreateFirst | Action::ReplaceDestroyFirst
            );
        let version = match side {
            Side::After if changed => "v42",
            Side::Before | Side::After => "v41",
            Side::Drifted => "v41-hotfix",
        };
        let id = format!(
            "{}-{:012x}",
            r.type_name(),
            Rng::new(r.seed, i).next_u64() >> 16
        );
        let _ = write!(
            out,
            r#"{{"arn":"arn:aws:service:eu-west-1:123456789012:{}/{id}","id":"{id}","#,
            r.type_name()
        );
        match r.type_name() {
            "aws_instance" => {
                let ami = if changed && r.action != Action::Update {
                    "ami-0fedcba9876543210"
                } else {
                    "ami-0123456789abcdef0"
                };
                let itype = if changed && r.action == Action::Update && i.is_multiple_of(3) {
                    "m6i.xlarge"
                } else {
                    "m6i.large"
                };
                let _ = write!(
                    out,
                    r#""ami":"{ami}","associate_public_ip_address":false,"availability_zone":"eu-west-1a","ebs_optimized":true,"instance_type":"{itype}","key_name":null,"metadata_options":[{{"http_endpoint":"enabled","http_put_response_hop_limit":1,"http_tokens":"required","instance_metadata_tags":"disabled"}}],"monitoring":true,"private_ip":"10.0.{}.{}","root_block_device":[{{"delete_on_termination":true,"encrypted":true,"iops":3000,"throughput":125,"volume_size":40,"volume_type":"gp3"}}],"subnet_id":"subnet-0a1b2c3d4e5f{:05}","user_data":"{:040x}","vpc_security_group_ids":["sg-0123456789abcdef0","sg-0fedcba987654321{}"],"#,
                    (i / 250) % 256,
                    i % 250 + 4,
                    i % 7,
                    u128::from(Rng::new(r.seed, i + 7).next_u64()),
                    i % 10
                );
            }
            "aws_autoscaling_group" => {
                let ltv = if changed { 8 } else { 7 };
                let _ = write!(
                    out,
                    r#""desired_capacity":{},"health_check_grace_period":300,"health_check_type":"ELB","launch_template":[{{"id":"lt-0123456789abcdef{}","name":"","version":"{ltv}"}}],"max_size":12,"min_size":3,"name":"fleet-{i}","target_group_arns":["arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/app/0123456789abcdef"],"termination_policies":["OldestLaunchTemplate"],"vpc_zone_identifier":["subnet-0a1b2c3d4e5f00001","subnet-0a1b2c3d4e5f00002","subnet-0a1b2c3d4e5f00003"],"wait_for_capacity_timeout":"10m","#,
                    3 + i % 4,
                    i % 10
                );
            }
            "aws_launch_template" => {
                let ami = if changed {
                    "ami-0fedcba9876543210"
                } else {
                    "ami-0123456789abcdef0"
                };
                let _ = write!(
                    out,
                    r#""image_id":"{ami}","instance_type":"m6i.large","latest_version":7,"name":"fleet-{i}","update_default_version":true,"user_data":"{:032x}","#,
                    u128::from(Rng::new(r.seed, i + 3).next_u64())
                );
            }
            "aws_security_group" => {
                let _ = write!(
                    out,
                    r#""description":"app {i}","egress":[{{"cidr_blocks":["0.0.0.0/0"],"description":"","from_port":0,"ipv6_cidr_blocks":[],"prefix_list_ids":[],"protocol":"-1","security_groups":[],"self":false,"to_port":0}}],"ingress":[{{"cidr_blocks":["10.0.0.0/8"],"description":"https","from_port":443,"ipv6_cidr_blocks":[],"prefix_list_ids":[],"protocol":"tcp","security_groups":[],"self":false,"to_port":443}}],"name":"app-{i}","vpc_id":"vpc-0123456789abcdef0","#
                );
            }
            "aws_security_group_rule" => {
                let _ = write!(
                    out,
                    r#""cidr_blocks":["10.{}.0.0/16"],"from_port":8080,"protocol":"tcp","security_group_id":"sg-0123456789abcdef0","to_port":8080,"type":"ingress","#,
                    i % 256
                );
            }
            "aws_s3_bucket" => {
                let _ = write!(
                    out,
                    r#""bucket":"logs-{i}-123456789012","bucket_domain_name":"logs-{i}-123456789012.s3.amazonaws.com","force_destroy":false,"object_lock_enabled":false,"#
                );
            }
            "aws_iam_role" => {
                let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
                let _ = write!(
                    out,
                    r#""assume_role_policy":"{}","max_session_duration":3600,"name":"task-{i}","path":"/","#,
                    esc(policy)
                );
            }
            "aws_route53_record" => {
                let _ = write!(
                    out,
                    r#""name":"svc-{i}.internal.example.com","records":["10.1.{}.{}"],"ttl":60,"type":"A","zone_id":"Z0123456789ABCDEFGHIJ","#,
                    (i / 250) % 256,
                    i % 250
                );
            }
            "aws_lb_target_group" => {
                let _ = write!(
                    out,
                    r#""deregistration_delay":"30","health_check":[{{"enabled":true,"healthy_threshold":3,"interval":10,"matcher":"200","path":"/healthz","port":"traffic-port","protocol":"HTTP","timeout":5,"unhealthy_threshold":2}}],"name":"app-{i}","port":8080,"protocol":"HTTP","vpc_id":"vpc-0123456789abcdef0","#
                );
            }
            "aws_cloudwatch_metric_alarm" => {
                let _ = write!(
                    out,
                    r#""alarm_name":"cpu-{i}","comparison_operator":"GreaterThanThreshold","dimensions":{{"AutoScalingGroupName":"fleet-{i}"}},"evaluation_periods":3,"metric_name":"CPUUtilization","namespace":"AWS/EC2","period":60,"statistic":"Average","threshold":80,"#
                );
            }
            "aws_ebs_volume" => {
                let _ = write!(
                    out,
                    r#""availability_zone":"eu-west-1a","encrypted":true,"iops":3000,"size":{},"type":"gp3","#,
                    100 + i % 50
                );
            }
            _ => {
                let _ = write!(
                    out,
                    r#""architecture":"x86_64","image_id":"ami-0123456789abcdef0","most_recent":true,"name_regex":"^app-release-","owners":["123456789012"],"#
                );
            }
        }
        if r.mode() == "managed" {
            for map in ["tags", "tags_all"] {
                let _ = write!(
                    out,
                    r#""{map}":{{"Name":"{}-{i}","cost-center":"cc-{}","env":"prod","managed-by":"terraform","owner":"team-{}","service":"svc-{}","version":"{version}""#,
                    r.name(),
                    i % 97,
                    i % 13,
                    i / GROUP
                );
                for p in 0..self.padding {
                    let _ = write!(out, r#","label-{p:03}":"value-{p:03}-{:08x}""#, i ^ p);
                }
                out.push_str("},");
            }
        }
        // Drop the trailing comma.
        out.pop();
        out.push('}');
    }

    /// `after_unknown` as Terraform writes it: `id`/`arn` unknown on creation, nested
    /// blocks as empty shapes otherwise.
    fn after_unknown(r: &Resource, out: &mut String) {
        let creates = matches!(
            r.action,
            Action::Create | Action::ReplaceCreateFirst | Action::ReplaceDestroyFirst
        );
        if !r.action.has_after() {
            out.push_str("{}");
            return;
        }
        out.push('{');
        if creates {
            out.push_str(r#""arn":true,"id":true,"#);
        }
        match r.type_name() {
            "aws_instance" => {
                out.push_str(r#""metadata_options":[{}],"root_block_device":[{}],"vpc_security_group_ids":[false,false],"#);
                if creates {
                    out.push_str(r#""private_ip":true,"#);
                }
            }
            "aws_autoscaling_group" => {
                out.push_str(r#""launch_template":[{}],"target_group_arns":[false],"#);
            }
            _ => {}
        }
        if r.mode() == "managed" {
            out.push_str(r#""tags":{},"tags_all":{},"#);
        }
        if out.ends_with(',') {
            out.pop();
        }
        out.push('}');
    }

    fn sensitive(r: &Resource, out: &mut String) {
        match (r.type_name(), r.mode()) {
            ("aws_instance", _) => out.push_str(
                r#"{"metadata_options":[{}],"root_block_device":[{}],"tags":{},"tags_all":{},"vpc_security_group_ids":[false,false]}"#,
            ),
            (_, "managed") => out.push_str(r#"{"tags":{},"tags_all":{}}"#),
            _ => out.push_str("{}"),
        }
    }

    /// The common head of a resource object, up to and including `"provider_name":"…",`.
    fn head(r: &Resource, with_module: bool, out: &mut String) {
        let _ = write!(out, r#"{{"address":"{}","#, esc(&r.address()));
        if with_module && let Some(m) = &r.module {
            let _ = write!(out, r#""module_address":"{}","#, esc(m));
        }
        let _ = write!(
            out,
            r#""mode":"{}","type":"{}","name":"{}","index":{},"provider_name":"registry.terraform.io/hashicorp/aws","#,
            r.mode(),
            r.type_name(),
            r.name(),
            r.key_json
        );
    }

    pub(super) fn resource_change(&self, r: &Resource, drift: bool, out: &mut String) {
        Self::head(r, true, out);
        out.push_str(r#""change":{"actions":"#);
        let (before, after, actions) = if drift {
            (Side::Before, Some(Side::Drifted), r#"["update"]"#)
        } else {
            let before = if r.drift { Side::Drifted } else { Side::Before };
            (
                before,
                r.action.has_after().then_some(Side::After),
                r.action.actions(),
            )
        };
        out.push_str(actions);
        out.push_str(r#","before":"#);
        if drift || r.action.has_before() {
            self.attributes(r, before, out);
        } else {
            out.push_str("null");
        }
        out.push_str(r#","after":"#);
        match after {
            Some(side) => self.attributes(r, side, out),
            None => out.push_str("null"),
        }
        out.push_str(r#","after_unknown":"#);
        if drift {
            out.push_str("{}");
        } else {
            Self::after_unknown(r, out);
        }
        out.push_str(r#","before_sensitive":"#);
        if drift || r.action.has_before() {
            Self::sensitive(r, out);
        } else {
            out.push_str("false");
        }
        out.push_str(r#","after_sensitive":"#);
        if after.is_some() {
            Self::sensitive(r, out);
        } else {
            out.push_str("false");
        }
        if !drift
            && matches!(
                r.action,
                Action::ReplaceCreateFirst | Action::ReplaceDestroyFirst
            )
        {
            let path = match r.type_name() {
                "aws_instance" => "ami",
                "aws_launch_template" => "image_id",
                _ => "name",
            };
            let _ = write!(out, r#","replace_paths":[["{path}"]]"#);
        }
        out.push('}');
        if !drift && let Some(reason) = r.reason {
            let _ = write!(out, r#","action_reason":"{reason}""#);
        }
        out.push('}');
    }

    /// A resource in `planned_values` or `prior_state`.
    pub(super) fn state_resource(&self, r: &Resource, side: Side, out: &mut String) {
        Self::head(r, false, out);
        out.push_str(r#""schema_version":1,"values":"#);
        self.attributes(r, side, out);
        out.push_str(r#","sensitive_values":"#);
        Self::sensitive(r, out);
        out.push('}');
    }
}
