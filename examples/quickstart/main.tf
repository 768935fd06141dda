# Quickstart: one immutable fleet. Run it against the embedded AWS (moto) with scripts/demo.sh,
# or against a real account by setting AWS credentials and subnet_ids.

terraform {
  required_providers {
    immutable = { source = "immutable-infra/immutable" }
  }
}

provider "immutable" {
  region = "us-east-1"
  # endpoints { ec2 = "…", autoscaling = "…", elbv2 = "…", cloudwatch = "…" } is optional; AWS_ENDPOINT_URL is
  # honoured too, which is how scripts/demo.sh points the provider at moto.
}

variable "image_id" {
  description = "AMI the fleet runs. Changing it rolls out a new fleet, create-before-destroy."
  type        = string
  default     = "ami-12c6146b" # an AMI that moto ships
}

variable "alarm_names" {
  description = "CloudWatch alarms that judge a rollout, e.g. your load balancer's 5xx alarm (the demo creates web-5xx)."
  type        = list(string)
  default     = []
}

variable "subnet_ids" {
  description = "Subnets to launch into (the demo passes the default VPC's subnets)."
  type        = list(string)
}

resource "immutable_fleet" "web" {
  name               = "web"
  image_id           = var.image_id
  instance_type      = "t3.micro"
  subnet_ids         = var.subnet_ids
  security_group_ids = []
  user_data          = "#!/bin/sh\necho 'hello from an immutable instance'\n"
  min_size           = 1
  max_size           = 4
  desired_capacity   = 2
  tags               = { team = "web" }

  health_check {
    type                = "EC2"
    grace_period        = "10s"
    timeout             = "2m"
    healthy_for         = "0s"
    min_healthy_percent = 100
  }

  # A new generation takes half the fleet first, then all of it; each step must stay healthy
  # and alarm-free for assess_for (short for the demo; minutes in production). An alarm that
  # fires rolls the new generation back.
  rollout {
    steps      = [50]
    assess_for = "5s"
    alarms     = var.alarm_names
  }

  # Replacements start the new fleet before the old one is destroyed. Only the configuration
  # can ask for this; no provider can force it.
  lifecycle {
    create_before_destroy = true
  }
}

output "autoscaling_group_name" {
  value = immutable_fleet.web.autoscaling_group_name
}

output "generation" {
  value = immutable_fleet.web.generation
}

output "launch_template_id" {
  value = immutable_fleet.web.launch_template_id
}
