# terraform apply -var-file=envs/staging.tfvars
environment = "staging"

# Released images (the release job may override them with -var api_image_id=…).
api_image_id    = "ami-12c6146b"
worker_image_id = "ami-12c6146b"

# Network of the staging VPC (outputs of your network stack).
subnet_ids            = ["subnet-staging-a", "subnet-staging-b"]
api_target_group_arns = ["arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-staging/0123456789abcdef"]

api = {
  instance_type    = "t3.small"
  min_size         = 1
  max_size         = 4
  desired_capacity = 2
}

worker = {
  instance_type    = "t3.small"
  min_size         = 1
  max_size         = 2
  desired_capacity = 1
}

# Staging rolls fast: a short bake.
health_check = {
  grace_period        = "10s"
  timeout             = "5m"
  healthy_for         = "0s"
  min_healthy_percent = 100
}
