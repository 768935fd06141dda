//! The resource blocks of the service modules: instances, launch templates with their Auto
//! Scaling groups, security groups and rules, and other AWS resources, picked per resource
//! from `(seed, index)`. Writing them counts what immutable-lint should report (`Planted`).

use std::fmt::Write as _;

use super::Planted;
use crate::rng::Rng;

/// Writes the resource blocks of a repository, one after the other.
pub(super) struct ResourceWriter {
    pub(super) seed: u64,
    pub(super) planted: Planted,
    /// Next resource index (for the per-resource random stream).
    pub(super) index: usize,
}

/// A resource file being written, in one service module.
pub(super) struct FileState {
    pub(super) module: usize,
    pub(super) file: usize,
    /// The first security group of the module so far, for instances to refer to.
    pub(super) security_group: Option<String>,
}

impl ResourceWriter {
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
    pub(super) fn resource(
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
