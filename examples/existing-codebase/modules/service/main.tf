# One service of the platform: an immutable fleet with the team's conventions, so a service
# definition in the root module is a handful of lines and every fleet looks the same.
#
# Conventions encoded here:
# - the fleet is named "<service>-<environment>" (its ASGs: "<service>-<environment>-g<N>");
# - every fleet carries the service, environment, owner and managed-by tags;
# - the health gate checks the target groups when there are any (ELB), else the Auto Scaling
#   group's own status (EC2), with a bake window per environment;
# - replacements are always create-before-destroy.

terraform {
  required_version = ">= 1.0"
  required_providers {
    immutable = { source = "immutable-infra/immutable" }
  }
}

locals {
  name = "${var.service}-${var.environment}"
  tags = merge(
    {
      service     = var.service
      environment = var.environment
      owner       = var.owner
      managed-by  = "terraform"
    },
    var.tags,
  )
}

resource "immutable_fleet" "this" {
  name                 = local.name
  image_id             = var.image_id
  instance_type        = var.instance_type
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids
  target_group_arns    = var.target_group_arns
  iam_instance_profile = var.iam_instance_profile
  user_data            = var.user_data
  min_size             = var.min_size
  max_size             = var.max_size
  desired_capacity     = var.desired_capacity
  tags                 = local.tags

  health_check {
    type                = length(var.target_group_arns) > 0 ? "ELB" : "EC2"
    grace_period        = var.health_check.grace_period
    timeout             = var.health_check.timeout
    healthy_for         = var.health_check.healthy_for
    min_healthy_percent = var.health_check.min_healthy_percent
  }

  # Only the configuration can ask for this; immutable-lint fails a plan that replaces a
  # fleet destroy-first (IMM002).
  lifecycle {
    create_before_destroy = true
  }
}
