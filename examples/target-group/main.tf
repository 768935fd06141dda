# A fleet behind an ALB target group. The health gate waits until every new instance is
# `healthy` in the target group (and InService in its Auto Scaling group) before the old
# generation is detached and destroyed, so the load balancer never runs out of targets.
#
# The network and the target group are inputs: they usually live in another module or state
# of your codebase. wiring.tf.example shows how to feed them from `aws_*` resources.

terraform {
  required_version = ">= 1.0"
  required_providers {
    immutable = { source = "immutable-infra/immutable" }
  }
}

provider "immutable" {
  region = var.region
}

resource "immutable_fleet" "app" {
  name               = var.name
  image_id           = var.image_id
  instance_type      = var.instance_type
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  target_group_arns  = var.target_group_arns
  min_size           = 2
  max_size           = 6
  desired_capacity   = var.desired_capacity
  tags               = { service = var.name }

  health_check {
    # ELB: an instance counts only once every target group reports it healthy.
    type                = "ELB"
    grace_period        = "30s"
    timeout             = "10m"
    healthy_for         = var.healthy_for
    min_healthy_percent = 100
  }

  lifecycle {
    create_before_destroy = true
  }
}
