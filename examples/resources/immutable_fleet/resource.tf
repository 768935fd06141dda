resource "immutable_fleet" "web" {
  name          = "web"
  image_id      = "ami-0abcdef1234567890" # from your image pipeline
  instance_type = "t3.micro"
  subnet_ids    = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

  security_group_ids = ["sg-0123456789abcdef0"]
  target_group_arns  = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"]
  user_data          = <<-EOT
    #!/bin/sh
    systemctl start web
  EOT

  # The root volume: gp3, encrypted and deleted with the instance unless said otherwise.
  block_device_mapping {
    device_name = "/dev/xvda"
    volume_size = 30
  }

  # IMDSv2 is required without this block; containers on the instance need a second hop.
  metadata_options {
    http_put_response_hop_limit = 2
  }

  monitoring                  = true  # one-minute CloudWatch metrics
  associate_public_ip_address = false # private subnets behind the load balancer

  # Spot for most of the capacity above a base of On-Demand instances.
  mixed_instances {
    override {
      instance_type = "t3.micro"
    }
    override {
      instance_type = "t3a.micro"
    }
    on_demand_base_capacity                  = 1
    on_demand_percentage_above_base_capacity = 25
  }

  # Instances wait in Pending:Wait until the boot script completes the lifecycle action
  # (aws autoscaling complete-lifecycle-action); the gate counts them as still launching.
  lifecycle_hook {
    name              = "warm-up"
    transition        = "launching"
    heartbeat_timeout = "10m"
  }

  scaling_policy {
    name         = "cpu"
    metric       = "cpu"
    target_value = 50
  }

  max_instance_lifetime = "336h" # replace every instance at least every two weeks
  enabled_metrics       = ["GroupInServiceInstances", "GroupDesiredCapacity"]

  min_size = 2
  max_size = 6 # desired_capacity left to the scaling policy

  health_check {
    type                = "ELB" # EC2 status checks and the target group's health checks
    grace_period        = "60s"
    timeout             = "15m"
    healthy_for         = "2m" # bake window
    min_healthy_percent = 100
  }

  # A canary: a quarter of the fleet, then half, then all of it; each step must stay healthy
  # and its alarms OK for 5 minutes. The old generation stays parked for an hour afterwards.
  rollout {
    steps             = [25, 50]
    assess_for        = "5m"
    alarms            = ["web-5xx", "web-p99-latency"]
    keep_previous_for = "1h"
  }

  tags = {
    team = "web"
  }

  # Required: the new generation must pass its gate before the old one is destroyed.
  lifecycle {
    create_before_destroy = true
  }
}
