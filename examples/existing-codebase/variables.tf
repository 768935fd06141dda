variable "region" {
  type    = string
  default = "us-east-1"
}

variable "environment" {
  description = "staging or production; set by envs/<environment>.tfvars."
  type        = string
  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production."
  }
}

# Release inputs: the image pipeline publishes an AMI per service and the release job passes
# it with -var (or commits it to the environment's tfvars, for a reviewed rollout).
variable "api_image_id" {
  type = string
}

variable "worker_image_id" {
  type = string
}

# Network inputs: usually outputs of the network stack, per environment.
variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "api_target_group_arns" {
  description = "Target groups of the api's load balancer."
  type        = list(string)
}

variable "api" {
  description = "Size of the api fleet."
  type = object({
    instance_type    = string
    min_size         = number
    max_size         = number
    desired_capacity = number
  })
}

variable "worker" {
  description = "Size of the worker fleet."
  type = object({
    instance_type    = string
    min_size         = number
    max_size         = number
    desired_capacity = number
  })
}

variable "health_check" {
  description = "Gate settings for both services."
  type = object({
    grace_period        = string
    timeout             = string
    healthy_for         = string
    min_healthy_percent = number
  })
}
