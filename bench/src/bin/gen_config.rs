//! Writes a large, realistic Terraform configuration (a repository of `.tf` files) for
//! benchmarking `immutable-lint`'s configuration mode against checkov's HCL scan.
//!
//! ```text
//! gen-config [--files N] [--resources M] [--seed S] -o DIR
//! ```
//!
//! Defaults: 1,000 files, 10,000 resources, seed 1. The root module (`versions.tf`,
//! `variables.tf`, `locals.tf`, `main.tf`, `outputs.tf`) calls one local module per service
//! (`./modules/svc-NNN`, some with `count` or `for_each`); each service module has variables,
//! locals (a heredoc among them), outputs, a call of the shared nested module `../net`, and
//! resource files. Resources are AWS: instances, launch templates with Auto Scaling groups,
//! security groups with `ingress` blocks and rules, buckets, IAM roles with `jsonencode`
//! policies, DNS records, alarms, volumes, target groups; about a fifth use `count` or
//! `for_each`. A few of them are what immutable-lint flags: instances without
//! `create_before_destroy` or without `user_data_replace_on_change`, `remote-exec`
//! provisioners, SSH open to `0.0.0.0/0`, `$Latest` launch template versions, groups that do
//! not wait for capacity. The numbers of each are printed (and written to `DIR/.gen-config`),
//! so a benchmark can check that a tool found all of them.
//!
//! The output is a pure function of the arguments. DIR must not exist, be empty, or hold an
//! earlier output of gen-config (which is then replaced).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: gen-config [--files N] [--resources M] [--seed S] -o DIR";

/// Files in the root module and in `modules/net`.
const FIXED_FILES: usize = 5 + 3;
/// Files of a service module besides its resource files.
const MODULE_FILES: usize = 4;
/// Files per service module, aimed at.
const FILES_PER_MODULE: usize = 20;
/// Resources of `modules/net` (counted in the total).
const NET_RESOURCES: usize = 2;
/// Marks a directory as gen-config's output.
const MARKER: &str = ".gen-config";

/// SplitMix64, as in gen-plan: each resource is derived from `(seed, index)` alone.
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

    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// What the configuration contains that immutable-lint reports (each counted once per
/// block, as both tools report `count`/`for_each` blocks).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Planted {
    /// Instance-bearing resources without `create_before_destroy` (IMM002).
    pub destroy_first: usize,
    /// `aws_instance` with `user_data` but no `user_data_replace_on_change` (IMM001).
    pub user_data_in_place: usize,
    /// Resources with a `remote-exec` provisioner (IMM003).
    pub provisioners: usize,
    /// Groups with `wait_for_capacity_timeout = "0"` (IMM004).
    pub ungated: usize,
    /// Security groups and rules with SSH open to `0.0.0.0/0` (IMM005).
    pub ssh_open: usize,
    /// Groups launching `$Latest` (IMM006).
    pub latest: usize,
    /// Resource blocks written.
    pub resources: usize,
    /// Files written.
    pub files: usize,
}

/// Which service module gets how many resource files.
struct Layout {
    modules: usize,
    /// Resource files of each module.
    resource_files: Vec<usize>,
}

impl Layout {
    fn new(files: usize) -> Self {
        let modules = (files.saturating_sub(FIXED_FILES) / FILES_PER_MODULE).max(1);
        let total = files
            .saturating_sub(FIXED_FILES + MODULE_FILES * modules)
            .max(modules);
        let resource_files = (0..modules)
            .map(|m| total / modules + usize::from(m < total % modules))
            .collect();
        Self {
            modules,
            resource_files,
        }
    }
}

struct Gen {
    seed: u64,
    planted: Planted,
    /// Next resource index (for the per-resource random stream).
    index: usize,
}

/// A resource file being written, in one service module.
struct FileState {
    module: usize,
    file: usize,
    /// The first security group of the module so far, for instances to refer to.
    security_group: Option<String>,
}

impl Gen {
    fn sg_ref(state: &FileState) -> String {
        state.security_group.as_ref().map_or_else(
            || "module.net.security_group_id".to_owned(),
            |sg| format!("aws_security_group.{sg}.id"),
        )
    }

    /// `count = …` or `for_each = …` for about a fifth of the blocks; returns the line (or
    /// nothing) and the expression that names one instance in strings.
    fn repetition(rng: &mut Rng) -> (&'static str, &'static str) {
        match rng.below(10) {
            0 => ("  count = var.instance_count\n", "${count.index}"),
            1 => ("  for_each = local.zones\n", "${each.key}"),
            _ => ("", "0"),
        }
    }

    fn lifecycle(&mut self, rng: &mut Rng, out: &mut String) {
        if rng.chance(950) {
            out.push_str("\n  lifecycle {\n    create_before_destroy = true\n  }\n");
        } else {
            self.planted.destroy_first += 1;
        }
    }

    fn instance(&mut self, rng: &mut Rng, state: &FileState, name: &str, out: &mut String) {
        let (repeat, key) = Self::repetition(rng);
        let m = state.module;
        let _ = write!(
            out,
            r#"resource "aws_instance" "{name}" {{
{repeat}  ami                    = var.ami_id
  instance_type          = local.instance_type
  subnet_id              = var.subnet_ids[{subnet}]
  vpc_security_group_ids = [{sg}]
  iam_instance_profile   = "svc-{m:03}-app"
  monitoring             = true
  user_data              = local.boot_script
"#,
            subnet = rng.below(3),
            sg = Self::sg_ref(state),
        );
        if rng.chance(900) {
            out.push_str("  user_data_replace_on_change = true\n");
        } else {
            self.planted.user_data_in_place += 1;
        }
        let _ = write!(
            out,
            r#"
  root_block_device {{
    volume_size = {size}
    volume_type = "gp3"
    encrypted   = true
  }}

  metadata_options {{
    http_endpoint = "enabled"
    http_tokens   = "required"
  }}

  tags = merge(local.tags, {{
    Name = "{name}-{key}"
    Role = "app"
  }})
"#,
            size = 20 + 10 * rng.below(5),
        );
        if rng.chance(5) {
            self.planted.provisioners += 1;
            out.push_str(
                r#"
  provisioner "remote-exec" {
    inline = [
      "sudo systemctl restart app",
    ]

    connection {
      type = "ssh"
      user = "ec2-user"
      host = self.private_ip
    }
  }
"#,
            );
        }
        self.lifecycle(rng, out);
        out.push_str("}\n\n");
    }

    fn launch_template_and_group(
        &mut self,
        rng: &mut Rng,
        state: &FileState,
        name: &str,
        out: &mut String,
    ) {
        let m = state.module;
        let _ = write!(
            out,
            r#"resource "aws_launch_template" "{name}" {{
  name_prefix            = "svc-{m:03}-{name}-"
  image_id               = var.ami_id
  instance_type          = local.instance_type
  user_data              = base64encode(local.user_data)
  vpc_security_group_ids = [{sg}]
  update_default_version = true

  metadata_options {{
    http_endpoint = "enabled"
    http_tokens   = "required"
  }}

  tag_specifications {{
    resource_type = "instance"
    tags          = local.tags
  }}

  lifecycle {{
    create_before_destroy = true
  }}
}}

"#,
            sg = Self::sg_ref(state),
        );
        let version = if rng.chance(50) {
            self.planted.latest += 1;
            "\"$Latest\"".to_owned()
        } else {
            format!("aws_launch_template.{name}.latest_version")
        };
        let timeout = if rng.chance(30) {
            self.planted.ungated += 1;
            "0"
        } else {
            "10m"
        };
        let _ = write!(
            out,
            r#"resource "aws_autoscaling_group" "{name}" {{
  name_prefix               = "svc-{m:03}-{name}-"
  min_size                  = {min}
  max_size                  = {max}
  vpc_zone_identifier       = var.subnet_ids
  health_check_type         = "ELB"
  health_check_grace_period = 120
  wait_for_capacity_timeout = "{timeout}"

  launch_template {{
    id      = aws_launch_template.{name}.id
    version = {version}
  }}
"#,
            min = 1 + rng.below(3),
            max = 6 + rng.below(6),
        );
        if rng.chance(500) {
            out.push_str(
                r#"
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 90
    }
  }
"#,
            );
        }
        out.push_str(
            r#"
  dynamic "tag" {
    for_each = local.tags
    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = true
    }
  }
"#,
        );
        self.lifecycle(rng, out);
        out.push_str("}\n\n");
    }

    fn security_group(
        &mut self,
        rng: &mut Rng,
        state: &mut FileState,
        name: &str,
        out: &mut String,
    ) {
        let (repeat, _) = if rng.chance(100) {
            Self::repetition(rng)
        } else {
            ("", "")
        };
        let m = state.module;
        let _ = write!(
            out,
            r#"resource "aws_security_group" "{name}" {{
{repeat}  name_prefix = "svc-{m:03}-{name}-"
  description = "Traffic to svc-{m:03}"
  vpc_id      = var.vpc_id

  ingress {{
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }}

  ingress {{
    description = "SSH from the admin network"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr, "10.{m}.0.0/16"]
  }}
"#
        );
        if rng.chance(40) {
            self.planted.ssh_open += 1;
            out.push_str(
                r#"
  ingress {
    description = "SSH from anywhere"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
"#,
            );
        }
        out.push_str(
            r#"
  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }

  tags = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

"#,
        );
        if repeat.is_empty() && state.security_group.is_none() {
            state.security_group = Some(name.to_owned());
        }
    }

    fn security_group_rule(
        &mut self,
        rng: &mut Rng,
        state: &FileState,
        name: &str,
        out: &mut String,
    ) {
        let (port, cidr) = if rng.chance(20) {
            self.planted.ssh_open += 1;
            (22, "\"0.0.0.0/0\"")
        } else {
            (8080 + rng.below(10), "local.vpc_cidr")
        };
        let _ = write!(
            out,
            r#"resource "aws_security_group_rule" "{name}" {{
  type              = "ingress"
  description       = "service port"
  from_port         = {port}
  to_port           = {port}
  protocol          = "tcp"
  cidr_blocks       = [{cidr}]
  security_group_id = {sg}
}}

"#,
            sg = Self::sg_ref(state),
        );
    }

    fn other(rng: &mut Rng, state: &FileState, kind: u64, name: &str, out: &mut String) {
        let m = state.module;
        // Names of things in AWS (buckets, roles, alarms) take hyphens.
        let slug = name.replace('_', "-");
        let (repeat, key) = Self::repetition(rng);
        let _ = match kind {
            0 => write!(
                out,
                r#"resource "aws_s3_bucket" "{name}" {{
{repeat}  bucket        = "svc-{m:03}-{slug}-{key}-${{var.environment}}"
  force_destroy = false

  tags = merge(local.tags, {{
    DataClass = "internal"
  }})
}}

"#
            ),
            1 => write!(
                out,
                r#"resource "aws_iam_role" "{name}" {{
{repeat}  name = "svc-{m:03}-{slug}-{key}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = {{ Service = "ec2.amazonaws.com" }}
    }}]
  }})

  tags = local.tags
}}

"#
            ),
            2 => write!(
                out,
                r#"resource "aws_route53_record" "{name}" {{
{repeat}  zone_id = var.zone_id
  name    = "{slug}-{key}.svc-{m:03}.internal"
  type    = "CNAME"
  ttl     = {ttl}
  records = ["svc-{m:03}.lb.internal"]
}}

"#,
                ttl = 60 * (1 + rng.below(5)),
            ),
            3 => write!(
                out,
                r#"resource "aws_cloudwatch_metric_alarm" "{name}" {{
{repeat}  alarm_name          = "svc-{m:03}-{slug}-{key}-cpu"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  metric_name         = "CPUUtilization"
  namespace           = "AWS/EC2"
  period              = 60
  statistic           = "Average"
  threshold           = {threshold}
  alarm_description   = "CPU of svc-{m:03} above ${{local.cpu_alarm_percent}} %"

  dimensions = {{
    Service = "svc-{m:03}"
  }}
}}

"#,
                threshold = 60 + rng.below(30),
            ),
            4 => write!(
                out,
                r#"resource "aws_ebs_volume" "{name}" {{
{repeat}  availability_zone = "eu-west-1${{local.az_suffix}}"
  size              = {size}
  type              = "gp3"
  encrypted         = true
  tags              = local.tags
}}

"#,
                size = 50 * (1 + rng.below(8)),
            ),
            _ => write!(
                out,
                r#"resource "aws_lb_target_group" "{name}" {{
{repeat}  name_prefix = "s{m:03}-"
  port        = {port}
  protocol    = "HTTP"
  vpc_id      = var.vpc_id

  health_check {{
    path                = "/healthz"
    healthy_threshold   = 3
    unhealthy_threshold = 2
    interval            = 15
  }}

  tags = local.tags
}}

"#,
                port = 8080 + rng.below(10),
            ),
        };
    }

    /// Writes one resource (two for a launch template and its group); returns how many.
    fn resource(
        &mut self,
        state: &mut FileState,
        slot: usize,
        left: usize,
        out: &mut String,
    ) -> usize {
        let mut rng = Rng::new(self.seed, self.index);
        self.index += 1;
        let name = |prefix: &str| format!("{prefix}_{}_{slot}", state.file);
        match rng.below(100) {
            0..18 => self.instance(&mut rng, state, &name("app"), out),
            18..26 if left >= 2 => {
                self.launch_template_and_group(&mut rng, state, &name("fleet"), out);
                return 2;
            }
            26..40 => self.security_group(&mut rng, state, &name("sg"), out),
            40..48 => self.security_group_rule(&mut rng, state, &name("rule"), out),
            n => {
                let kind = n.saturating_sub(48) / 9;
                Self::other(&mut rng, state, kind, &name("res"), out);
            }
        }
        1
    }
}

fn root_files(layout: &Layout, seed: u64) -> Vec<(String, String)> {
    let mut main = String::from("# Services of the platform, one module each.\n\n");
    for m in 0..layout.modules {
        let mut rng = Rng::new(seed ^ 0x5eed, m);
        let repeat = match rng.below(10) {
            0 => "  count  = 1\n",
            1 => "  for_each = toset([\"blue\"])\n",
            _ => "",
        };
        let _ = write!(
            main,
            r#"module "svc_{m:03}" {{
  source = "./modules/svc-{m:03}"
{repeat}
  ami_id         = var.ami_id
  vpc_id         = var.vpc_id
  subnet_ids     = var.subnet_ids
  zone_id        = var.zone_id
  admin_cidr     = var.admin_cidr
  environment    = var.environment
  instance_count = {count}
}}

"#,
            count = 1 + rng.below(3),
        );
    }
    let versions = r#"terraform {
  required_version = ">= 1.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.default_tags
  }
}
"#;
    let variables = r#"variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "ami_id" {
  description = "The release image every service runs."
  type        = string
  default     = "ami-0123456789abcdef0"
}

variable "vpc_id" {
  type    = string
  default = "vpc-0123456789abcdef0"
}

variable "subnet_ids" {
  type    = list(string)
  default = ["subnet-0a", "subnet-0b", "subnet-0c"]
}

variable "zone_id" {
  type    = string
  default = "Z0123456789ABCDEFGHIJ"
}

variable "admin_cidr" {
  type    = string
  default = "10.20.0.0/16"
}

variable "environment" {
  type    = string
  default = "prod"
}
"#;
    let locals = r#"locals {
  default_tags = {
    ManagedBy  = "terraform"
    Repository = "platform"
  }
}
"#;
    let mut outputs = String::new();
    for m in 0..layout.modules.min(20) {
        let _ = write!(
            outputs,
            "output \"svc_{m:03}_tags\" {{\n  value = module.svc_{m:03}[*].tags\n}}\n\n"
        );
    }
    vec![
        ("versions.tf".to_owned(), versions.to_owned()),
        ("variables.tf".to_owned(), variables.to_owned()),
        ("locals.tf".to_owned(), locals.to_owned()),
        ("main.tf".to_owned(), main),
        ("outputs.tf".to_owned(), outputs),
    ]
}

fn net_files() -> Vec<(String, String)> {
    let variables = r#"variable "vpc_id" {
  type = string
}

variable "cidr" {
  type = string
}
"#;
    let main = r#"resource "aws_security_group" "base" {
  name_prefix = "base-"
  description = "Traffic inside the service network"
  vpc_id      = var.vpc_id

  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = [var.cidr]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group_rule" "health" {
  type              = "ingress"
  from_port         = 8081
  to_port           = 8081
  protocol          = "tcp"
  cidr_blocks       = [var.cidr]
  security_group_id = aws_security_group.base.id
}
"#;
    let outputs = r#"output "security_group_id" {
  value = aws_security_group.base.id
}
"#;
    vec![
        ("modules/net/variables.tf".to_owned(), variables.to_owned()),
        ("modules/net/main.tf".to_owned(), main.to_owned()),
        ("modules/net/outputs.tf".to_owned(), outputs.to_owned()),
    ]
}

fn module_fixed_files(m: usize) -> Vec<(String, String)> {
    let dir = format!("modules/svc-{m:03}");
    let variables = r#"variable "ami_id" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "zone_id" {
  type = string
}

variable "admin_cidr" {
  type = string
}

variable "environment" {
  type    = string
  default = "prod"
}

variable "instance_count" {
  type    = number
  default = 2
}
"#;
    let locals = format!(
        r#"locals {{
  service           = "svc-{m:03}"
  instance_type     = "t3.small"
  vpc_cidr          = "10.{m}.0.0/16"
  az_suffix         = "a"
  cpu_alarm_percent = 80
  zones             = toset(["a", "b"])

  tags = {{
    Service     = local.service
    Environment = var.environment
    Owner       = "team-{owner}"
  }}

  user_data = <<-EOT
    #!/bin/sh
    # Everything else is baked into the image; this only names the service.
    echo "SERVICE=${{local.service}}" > /etc/service.env
  EOT

  boot_script = <<-EOT
    #!/bin/sh
    systemctl enable --now app.service
  EOT
}}
"#,
        owner = m % 7,
    );
    let net = format!(
        r#"module "net" {{
  source = "../net"
  vpc_id = var.vpc_id
  cidr   = "10.{m}.0.0/16"
}}
"#
    );
    let outputs = r#"output "tags" {
  value = local.tags
}

output "security_group_id" {
  value = module.net.security_group_id
}
"#;
    vec![
        (format!("{dir}/variables.tf"), variables.to_owned()),
        (format!("{dir}/locals.tf"), locals),
        (format!("{dir}/net.tf"), net),
        (format!("{dir}/outputs.tf"), outputs.to_owned()),
    ]
}

/// Every file of the repository, in order, and what was planted.
pub fn generate(files: usize, resources: usize, seed: u64) -> (Vec<(String, String)>, Planted) {
    let layout = Layout::new(files);
    let mut out = root_files(&layout, seed);
    out.extend(net_files());
    let mut g = Gen {
        seed,
        planted: Planted::default(),
        index: 0,
    };
    let resource_files: usize = layout.resource_files.iter().sum();
    let budget = resources.saturating_sub(NET_RESOURCES);
    let mut written = 0;
    let mut file_index = 0;
    for m in 0..layout.modules {
        out.extend(module_fixed_files(m));
        let mut security_group = None;
        for f in 0..layout.resource_files[m] {
            // Resources left are spread evenly over the files left.
            let files_left = resource_files - file_index;
            let quota = (budget - written).div_ceil(files_left);
            let mut state = FileState {
                module: m,
                file: f,
                security_group: security_group.take(),
            };
            let mut text = format!("# svc-{m:03}, part {f}: generated by gen-config.\n\n");
            let mut in_file = 0;
            let mut slot = 0;
            while in_file < quota {
                in_file += g.resource(&mut state, slot, quota - in_file, &mut text);
                slot += 1;
            }
            written += in_file;
            security_group = state.security_group;
            out.push((format!("modules/svc-{m:03}/res-{f:02}.tf"), text));
            file_index += 1;
        }
    }
    g.planted.resources = written + NET_RESOURCES;
    g.planted.files = out.len();
    (out, g.planted)
}

impl Planted {
    fn summary(&self) -> String {
        format!(
            "files {}\nresources {}\nIMM001 {}\nIMM002 {}\nIMM003 {}\nIMM004 {}\nIMM005 {}\nIMM006 {}\n",
            self.files,
            self.resources,
            self.user_data_in_place,
            self.destroy_first,
            self.provisioners,
            self.ungated,
            self.ssh_open,
            self.latest,
        )
    }
}

struct Args {
    files: usize,
    resources: usize,
    seed: u64,
    output: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let (mut files, mut resources, mut seed, mut output) = (1000, 10_000, 1, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number =
            |name: &str, text: String| text.parse::<u64>().map_err(|e| format!("{name}: {e}"));
        match arg.as_str() {
            "--files" => {
                files = usize::try_from(number("--files", value("--files")?)?)
                    .map_err(|e| e.to_string())?;
            }
            "--resources" => {
                resources = usize::try_from(number("--resources", value("--resources")?)?)
                    .map_err(|e| e.to_string())?;
            }
            "--seed" => seed = number("--seed", value("--seed")?)?,
            "-o" | "--output" => output = Some(PathBuf::from(value("-o")?)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if files < 1 {
        return Err("--files must be at least 1".to_owned());
    }
    Ok(Args {
        files,
        resources,
        seed,
        output: output.ok_or("-o DIR is required")?,
    })
}

/// Empties `dir` if it is an earlier output (or creates it); refuses anything else.
fn prepare(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty {
            if !dir.join(MARKER).exists() {
                return Err(std::io::Error::other(format!(
                    "{} exists and was not written by gen-config; remove it or choose another",
                    dir.display()
                )));
            }
            std::fs::remove_dir_all(dir)?;
        }
    }
    std::fs::create_dir_all(dir)
}

fn write(dir: &Path, files: &[(String, String)], planted: &Planted) -> std::io::Result<()> {
    prepare(dir)?;
    for (path, text) in files {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, text)?;
    }
    std::fs::write(dir.join(MARKER), planted.summary())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            #[allow(clippy::print_stderr)]
            if message.is_empty() {
                eprintln!("{USAGE}");
            } else {
                eprintln!("gen-config: {message}\n{USAGE}");
            }
            return ExitCode::from(2);
        }
    };
    let (files, planted) = generate(args.files, args.resources, args.seed);
    #[allow(clippy::print_stderr)]
    match write(&args.output, &files, &planted) {
        Ok(()) => {
            let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
            eprintln!(
                "gen-config: {} files, {} resources, {bytes} bytes -> {}",
                planted.files,
                planted.resources,
                args.output.display()
            );
            eprint!("{}", planted.summary());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-config: {}: {e}", args.output.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_as_asked_and_output_is_deterministic() {
        let (files, planted) = generate(1000, 10_000, 1);
        assert_eq!(files.len(), 1000);
        assert_eq!(planted.files, 1000);
        assert_eq!(planted.resources, 10_000);
        let blocks: usize = files
            .iter()
            .map(|(_, t)| {
                t.matches("\nresource \"").count() + usize::from(t.starts_with("resource \""))
            })
            .sum();
        assert_eq!(blocks, 10_000);
        let again = generate(1000, 10_000, 1);
        assert!(files == again.0 && planted == again.1);
        assert!(generate(1000, 10_000, 2).0 != files);
        // Every kind of finding is planted.
        for n in [
            planted.destroy_first,
            planted.user_data_in_place,
            planted.provisioners,
            planted.ungated,
            planted.ssh_open,
            planted.latest,
        ] {
            assert!(n > 0, "{planted:?}");
        }
    }

    #[test]
    fn small_sizes() {
        let (files, planted) = generate(20, 100, 1);
        assert_eq!(planted.resources, 100);
        assert_eq!(files.len(), planted.files);
        let (_, planted) = generate(1, 3, 1);
        assert_eq!(planted.resources, 3);
    }
}
