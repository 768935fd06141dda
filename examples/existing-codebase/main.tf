# Root module of one environment: two services built from modules/service. Which environment
# is chosen by the variable file: terraform apply -var-file=envs/staging.tfvars.

terraform {
  required_version = ">= 1.0"
  required_providers {
    immutable = { source = "immutable-infra/immutable" }
  }
  # Each environment keeps its own state. With a remote backend, give it the key at init:
  #   backend "s3" {}
  #   terraform init -backend-config="key=services/staging.tfstate" …
}

provider "immutable" {
  region = var.region
}

module "api" {
  source = "./modules/service"

  service            = "api"
  environment        = var.environment
  owner              = "team-api"
  image_id           = var.api_image_id
  instance_type      = var.api.instance_type
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  target_group_arns  = var.api_target_group_arns
  min_size           = var.api.min_size
  max_size           = var.api.max_size
  desired_capacity   = var.api.desired_capacity
  health_check       = var.health_check
}

module "worker" {
  source = "./modules/service"

  service            = "worker"
  environment        = var.environment
  owner              = "team-jobs"
  image_id           = var.worker_image_id
  instance_type      = var.worker.instance_type
  subnet_ids         = var.subnet_ids
  security_group_ids = var.security_group_ids
  min_size           = var.worker.min_size
  max_size           = var.worker.max_size
  desired_capacity   = var.worker.desired_capacity
  health_check       = var.health_check
  tags               = { queue = "jobs-${var.environment}" }
}
