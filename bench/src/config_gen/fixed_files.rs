//! The files of a repository that are not resource files: the root module (`versions.tf`,
//! `variables.tf`, `locals.tf`, `main.tf` with one call per service module, `outputs.tf`),
//! the shared nested module `modules/net`, and each service module's variables, locals, net
//! call and outputs.

use std::fmt::Write as _;

use super::Layout;
use crate::rng::Rng;

pub(super) fn root_files(layout: &Layout, seed: u64) -> Vec<(String, String)> {
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

pub(super) fn net_files() -> Vec<(String, String)> {
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

pub(super) fn module_fixed_files(m: usize) -> Vec<(String, String)> {
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
