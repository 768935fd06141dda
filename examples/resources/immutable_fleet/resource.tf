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

  min_size         = 2
  max_size         = 6
  desired_capacity = 3

  health_check {
    type                = "ELB" # EC2 status checks and the target group's health checks
    grace_period        = "60s"
    timeout             = "15m"
    healthy_for         = "2m" # bake window
    min_healthy_percent = 100
  }

  tags = {
    team = "web"
  }

  # Required: the new generation must pass its gate before the old one is destroyed.
  lifecycle {
    create_before_destroy = true
  }
}
