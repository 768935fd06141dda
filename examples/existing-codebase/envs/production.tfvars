# terraform apply -var-file=envs/production.tfvars
environment = "production"

api_image_id    = "ami-12c6146b"
worker_image_id = "ami-12c6146b"

subnet_ids            = ["subnet-prod-a", "subnet-prod-b", "subnet-prod-c"]
api_target_group_arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-production/fedcba9876543210"]

api = {
  instance_type    = "m6i.large"
  min_size         = 3
  max_size         = 12
  desired_capacity = 6
}

worker = {
  instance_type    = "c6i.large"
  min_size         = 2
  max_size         = 8
  desired_capacity = 2
}

# Production bakes every new instance for two minutes before the old fleet is drained.
health_check = {
  grace_period        = "60s"
  timeout             = "15m"
  healthy_for         = "120s"
  min_healthy_percent = 100
}
