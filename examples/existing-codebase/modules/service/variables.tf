variable "service" {
  description = "Service name, e.g. \"api\"."
  type        = string
}

variable "environment" {
  description = "Environment name, e.g. \"staging\"."
  type        = string
}

variable "owner" {
  description = "Team that owns the service (tag)."
  type        = string
}

variable "image_id" {
  description = "AMI of this release. A new value rolls out a new generation through the health gate."
  type        = string
}

variable "instance_type" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "target_group_arns" {
  description = "Target groups to register with; none for a worker."
  type        = list(string)
  default     = []
}

variable "iam_instance_profile" {
  type    = string
  default = null
}

variable "user_data" {
  description = "Boot-time script. Baked into the launch template: changing it replaces the fleet."
  type        = string
  default     = null
}

variable "min_size" {
  type = number
}

variable "max_size" {
  type = number
}

variable "desired_capacity" {
  description = "null leaves capacity to scaling policies; a replacement then starts at the live capacity."
  type        = number
  default     = null
}

variable "tags" {
  description = "Extra tags, merged over the conventional ones."
  type        = map(string)
  default     = {}
}

variable "health_check" {
  description = "Gate settings (see docs/health-gate.md)."
  type = object({
    grace_period        = string
    timeout             = string
    healthy_for         = string
    min_healthy_percent = number
  })
  default = {
    grace_period        = "30s"
    timeout             = "10m"
    healthy_for         = "60s"
    min_healthy_percent = 100
  }
}
