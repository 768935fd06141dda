//! Writes a large, realistic `terraform show -json` plan (format 1.2, one line, as Terraform
//! writes it) for benchmarking `immutable-lint`.
//!
//! ```text
//! gen-plan --resources N [--seed S] [--target-bytes B] -o FILE
//! ```
//!
//! Resources are spread over the root module and nested module instances (`for_each` and
//! `count` keys), with a fixed mix of actions (mostly no-op, then update, create, both kinds of
//! replace, delete, data reads), instance-bearing and other AWS types, long tag maps, IAM
//! policies as escaped JSON strings, and drift entries. Every section Terraform writes is
//! there: `planned_values`, `resource_drift`, `resource_changes`, `output_changes`,
//! `prior_state`, `configuration`, `relevant_attributes`.
//!
//! The output is a pure function of the arguments. It is streamed: each resource is derived
//! from `(seed, index)` alone, so a section is written by walking the indexes again, and
//! memory stays flat whatever the size. `--target-bytes` pads the tag maps so the file comes
//! out near that size (estimated from a sample, then written once).

use std::fmt::Write as _;
use std::io::Write;
use std::process::ExitCode;

const USAGE: &str = "usage: gen-plan --resources N [--seed S] [--target-bytes B] -o FILE";

/// Resource instances per module instance.
const GROUP: usize = 100;

/// Block kinds of the configuration: (mode, type, name, uses for_each (else count)).
const BLOCKS: &[(&str, &str, &str, bool)] = &[
    ("managed", "aws_instance", "web", true),
    ("managed", "aws_autoscaling_group", "fleet", false),
    ("managed", "aws_launch_template", "fleet", false),
    ("managed", "aws_security_group", "app", true),
    ("managed", "aws_security_group_rule", "ingress", false),
    ("managed", "aws_s3_bucket", "logs", true),
    ("managed", "aws_iam_role", "task", true),
    ("managed", "aws_route53_record", "svc", false),
    ("managed", "aws_lb_target_group", "app", true),
    ("managed", "aws_cloudwatch_metric_alarm", "cpu", false),
    ("managed", "aws_ebs_volume", "data", true),
    ("data", "aws_ami", "release", false),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    NoOp,
    Update,
    Create,
    Delete,
    ReplaceCreateFirst,
    ReplaceDestroyFirst,
    Read,
}

impl Action {
    fn actions(self) -> &'static str {
        match self {
            Self::NoOp => r#"["no-op"]"#,
            Self::Update => r#"["update"]"#,
            Self::Create => r#"["create"]"#,
            Self::Delete => r#"["delete"]"#,
            Self::ReplaceCreateFirst => r#"["create","delete"]"#,
            Self::ReplaceDestroyFirst => r#"["delete","create"]"#,
            Self::Read => r#"["read"]"#,
        }
    }

    fn has_before(self) -> bool {
        !matches!(self, Self::Create | Self::Read)
    }

    fn has_after(self) -> bool {
        !matches!(self, Self::Delete)
    }
}

/// SplitMix64: tiny, fast and good enough to pick a mix deterministically.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, index: usize) -> Self {
        let mut rng = Self(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Where module instance `group` sits: the root, `module.app["svc-G"]`, its child
/// `module.db[0]`, or `module.net[K]`.
fn module_address(group: usize) -> Option<String> {
    match group % 4 {
        0 => None,
        1 => Some(format!(r#"module.app["svc-{group}"]"#)),
        2 => Some(format!(r#"module.app["svc-{}"].module.db[0]"#, group - 1)),
        _ => Some(format!("module.net[{}]", group / 4)),
    }
}

/// One resource instance, derived from `(seed, index)`.
struct Resource {
    index: usize,
    module: Option<String>,
    block: usize,
    /// `["k-3"]` or `[3]`, as in the address.
    key: String,
    /// The `index` field: `"k-3"` or `3`, as JSON.
    key_json: String,
    action: Action,
    reason: Option<&'static str>,
    drift: bool,
    seed: u64,
}

impl Resource {
    fn new(seed: u64, index: usize) -> Self {
        let group = index / GROUP;
        let j = index % GROUP;
        let block = j % BLOCKS.len();
        // Root groups share one module: their keys continue where the previous one stopped.
        let per_group = GROUP.div_ceil(BLOCKS.len());
        let k = if group.is_multiple_of(4) {
            (group / 4) * per_group + j / BLOCKS.len()
        } else {
            j / BLOCKS.len()
        };
        let (key, key_json) = if BLOCKS[block].3 {
            (format!(r#"["k-{k}"]"#), format!(r#""k-{k}""#))
        } else {
            (format!("[{k}]"), k.to_string())
        };
        let mut rng = Rng::new(seed, index);
        let roll = rng.below(1000);
        let action = if BLOCKS[block].0 == "data" {
            if roll < 150 {
                Action::Read
            } else {
                Action::NoOp
            }
        } else {
            match roll {
                0..700 => Action::NoOp,
                700..820 => Action::Update,
                820..900 => Action::Create,
                900..940 => Action::Delete,
                940..980 => Action::ReplaceCreateFirst,
                _ => Action::ReplaceDestroyFirst,
            }
        };
        let reason = match action {
            Action::ReplaceCreateFirst | Action::ReplaceDestroyFirst => {
                Some("replace_because_cannot_update")
            }
            Action::Delete => Some("delete_because_no_resource_config"),
            _ => None,
        };
        let drift = action.has_before() && BLOCKS[block].0 == "managed" && rng.below(100) < 3;
        Self {
            index,
            module: module_address(group),
            block,
            key,
            key_json,
            action,
            reason,
            drift,
            seed,
        }
    }

    fn mode(&self) -> &'static str {
        BLOCKS[self.block].0
    }

    fn type_name(&self) -> &'static str {
        BLOCKS[self.block].1
    }

    fn name(&self) -> &'static str {
        BLOCKS[self.block].2
    }

    fn address(&self) -> String {
        let data = if self.mode() == "data" { "data." } else { "" };
        let local = format!("{data}{}.{}{}", self.type_name(), self.name(), self.key);
        match &self.module {
            Some(m) => format!("{m}.{local}"),
            None => local,
        }
    }
}

/// Which version of a resource's attributes to write.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// As in the prior state.
    Before,
    /// As planned.
    After,
    /// As changed outside of Terraform (drift).
    Drifted,
}

/// JSON string contents: the generator's strings need only `"` and `\` escaped.
fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

struct Gen {
    seed: u64,
    resources: usize,
    /// Extra tags per tag map, to reach `--target-bytes`.
    padding: usize,
}

impl Gen {
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
            Rng::new(r.seed, i).next() >> 16
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
                    u128::from(Rng::new(r.seed, i + 7).next()),
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
                    u128::from(Rng::new(r.seed, i + 3).next())
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

    fn resource_change(&self, r: &Resource, drift: bool, out: &mut String) {
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
    fn state_resource(&self, r: &Resource, side: Side, out: &mut String) {
        Self::head(r, false, out);
        out.push_str(r#""schema_version":1,"values":"#);
        self.attributes(r, side, out);
        out.push_str(r#","sensitive_values":"#);
        Self::sensitive(r, out);
        out.push('}');
    }

    fn groups(&self) -> usize {
        self.resources.div_ceil(GROUP)
    }

    fn group_range(&self, group: usize) -> std::ops::Range<usize> {
        group * GROUP..((group + 1) * GROUP).min(self.resources)
    }

    /// `"root_module":{…}`: the resources of the module instances in `planned_values` or `prior_state`, nested as
    /// Terraform nests them. `side` picks the values; `keep` the resources that exist there.
    fn module_tree(
        &self,
        w: &mut dyn Write,
        side: Side,
        keep: &dyn Fn(&Resource) -> bool,
    ) -> std::io::Result<()> {
        let mut buf = String::new();
        let write_resources =
            |w: &mut dyn Write, groups: &mut dyn Iterator<Item = usize>, buf: &mut String| {
                let mut first = true;
                for g in groups {
                    for i in self.group_range(g) {
                        let r = Resource::new(self.seed, i);
                        if !keep(&r) {
                            continue;
                        }
                        buf.clear();
                        if !first {
                            buf.push(',');
                        }
                        first = false;
                        let side = if side == Side::Before && r.drift {
                            Side::Drifted
                        } else {
                            side
                        };
                        self.state_resource(&r, side, buf);
                        w.write_all(buf.as_bytes())?;
                    }
                }
                std::io::Result::Ok(())
            };
        w.write_all(br#""root_module":{"resources":["#)?;
        write_resources(
            w,
            &mut (0..self.groups()).filter(|g| g.is_multiple_of(4)),
            &mut buf,
        )?;
        w.write_all(br#"],"child_modules":["#)?;
        let mut first = true;
        for g in (0..self.groups()).filter(|g| g % 4 == 1 || g % 4 == 3) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            let address = module_address(g).unwrap_or_default();
            write!(w, r#"{{"address":"{}","resources":["#, esc(&address))?;
            write_resources(w, &mut std::iter::once(g), &mut buf)?;
            w.write_all(b"]")?;
            if g % 4 == 1 && g + 1 < self.groups() {
                let child = module_address(g + 1).unwrap_or_default();
                write!(
                    w,
                    r#","child_modules":[{{"address":"{}","resources":["#,
                    esc(&child)
                )?;
                write_resources(w, &mut std::iter::once(g + 1), &mut buf)?;
                w.write_all(b"]}]")?;
            }
            w.write_all(b"}")?;
        }
        w.write_all(b"]}")?;
        Ok(())
    }

    fn changes(&self, w: &mut dyn Write, drift: bool) -> std::io::Result<()> {
        let mut buf = String::new();
        let mut first = true;
        for i in 0..self.resources {
            let r = Resource::new(self.seed, i);
            if drift && !r.drift {
                continue;
            }
            buf.clear();
            if !first {
                buf.push(',');
            }
            first = false;
            self.resource_change(&r, drift, &mut buf);
            w.write_all(buf.as_bytes())?;
        }
        Ok(())
    }

    /// The `configuration` of one module: every block, with `count`/`for_each` expressions.
    fn config_module(path: &str, out: &mut String) {
        out.push_str(r#"{"resources":["#);
        for (n, (mode, type_name, name, for_each)) in BLOCKS.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let data = if *mode == "data" { "data." } else { "" };
            let _ = write!(
                out,
                r#"{{"address":"{data}{type_name}.{name}","mode":"{mode}","type":"{type_name}","name":"{name}","provider_config_key":"aws","expressions":{{"tags":{{"references":["local.tags"]}}}},"schema_version":1,"#
            );
            if *for_each {
                out.push_str(r#""for_each_expression":{"references":["var.keys"]}}"#);
            } else {
                out.push_str(r#""count_expression":{"references":["var.size"]}}"#);
            }
        }
        out.push(']');
        let calls: &[(&str, &str, &str)] = match path {
            "" => &[
                ("app", "./modules/app", "for_each"),
                ("net", "./modules/net", "count"),
            ],
            "module.app" => &[("db", "./modules/db", "count")],
            _ => &[],
        };
        if !calls.is_empty() {
            out.push_str(r#","module_calls":{"#);
            for (n, (name, source, repetition)) in calls.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let _ = write!(
                    out,
                    r#""{name}":{{"source":"{source}","{repetition}_expression":{{"references":["var.{name}"]}},"module":"#
                );
                let child = if path.is_empty() {
                    format!("module.{name}")
                } else {
                    format!("{path}.module.{name}")
                };
                Self::config_module(&child, out);
                out.push('}');
            }
            out.push('}');
        }
        out.push('}');
    }

    fn write(&self, w: &mut dyn Write) -> std::io::Result<()> {
        w.write_all(br#"{"format_version":"1.2","terraform_version":"1.9.5","variables":{"region":{"value":"eu-west-1"}},"planned_values":"#)?;
        // planned_values: outputs, then root_module.
        w.write_all(br#"{"outputs":{"fleet_ids":{"sensitive":false}},"#)?;
        self.module_tree(w, Side::After, &|r: &Resource| r.action.has_after())?;
        w.write_all(br#"},"resource_drift":["#)?;
        self.changes(w, true)?;
        w.write_all(br#"],"resource_changes":["#)?;
        self.changes(w, false)?;
        w.write_all(br#"],"output_changes":{"fleet_ids":{"actions":["no-op"],"before":["fleet-0"],"after":["fleet-0"],"after_unknown":false,"before_sensitive":false,"after_sensitive":false}},"prior_state":{"format_version":"1.0","terraform_version":"1.9.5","values":{"outputs":{"fleet_ids":{"sensitive":false,"value":["fleet-0"],"type":["list","string"]}},"#)?;
        self.module_tree(w, Side::Before, &|r: &Resource| r.action.has_before())?;
        w.write_all(b"}}")?;
        let mut config = String::from(
            r#","configuration":{"provider_config":{"aws":{"name":"aws","full_name":"registry.terraform.io/hashicorp/aws","version_constraint":"~> 5.0","expressions":{"region":{"references":["var.region"]}}}},"root_module":"#,
        );
        Self::config_module("", &mut config);
        config.push('}');
        w.write_all(config.as_bytes())?;
        w.write_all(br#","relevant_attributes":[{"resource":"aws_instance.web","attribute":["id"]},{"resource":"module.app.aws_autoscaling_group.fleet","attribute":["name"]}],"timestamp":"2025-01-01T00:00:00Z","applyable":true,"complete":true,"errored":false}"#)?;
        w.write_all(b"\n")?;
        Ok(())
    }
}

/// Counts bytes written, to size the padding without writing a file.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Args {
    resources: usize,
    seed: u64,
    target_bytes: Option<u64>,
    output: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut resources, mut seed, mut target_bytes, mut output) = (None, 1, None, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--resources" => {
                resources = Some(
                    value("--resources")?
                        .parse()
                        .map_err(|e| format!("--resources: {e}"))?,
                );
            }
            "--seed" => {
                seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?;
            }
            "--target-bytes" => {
                target_bytes = Some(
                    value("--target-bytes")?
                        .parse()
                        .map_err(|e| format!("--target-bytes: {e}"))?,
                );
            }
            "-o" | "--output" => output = Some(value("-o")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Args {
        resources: resources.ok_or("--resources is required")?,
        seed,
        target_bytes,
        output: output.ok_or("-o FILE is required")?,
    })
}

/// The padding that brings the file nearest `target` bytes: the size is linear in it, so two
/// sample sizes (scaled from a prefix of the resources) give the slope.
fn padding_for(resources: usize, seed: u64, target: u64) -> std::io::Result<usize> {
    let sample = resources.min(4 * GROUP * 5);
    let size = |padding| -> std::io::Result<f64> {
        let mut counter = Counter(0);
        Gen {
            seed,
            resources: sample,
            padding,
        }
        .write(&mut counter)?;
        #[allow(clippy::cast_precision_loss)]
        Ok(counter.0 as f64 * resources as f64 / sample as f64)
    };
    let base = size(0)?;
    let slope = (size(10)? - base) / 10.0;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let padding = ((target as f64 - base) / slope).round().max(0.0) as usize;
    Ok(padding)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            #[allow(clippy::print_stderr)]
            if message.is_empty() {
                eprintln!("{USAGE}");
            } else {
                eprintln!("gen-plan: {message}\n{USAGE}");
            }
            return ExitCode::from(2);
        }
    };
    let result = (|| -> std::io::Result<u64> {
        let padding = match args.target_bytes {
            Some(target) => padding_for(args.resources, args.seed, target)?,
            None => 0,
        };
        let file = std::fs::File::create(&args.output)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        Gen {
            seed: args.seed,
            resources: args.resources,
            padding,
        }
        .write(&mut w)?;
        w.flush()?;
        Ok(std::fs::metadata(&args.output)?.len())
    })();
    #[allow(clippy::print_stderr)]
    match result {
        Ok(bytes) => {
            eprintln!(
                "gen-plan: {} resources, {bytes} bytes -> {}",
                args.resources, args.output
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-plan: {}: {e}", args.output);
            ExitCode::FAILURE
        }
    }
}
