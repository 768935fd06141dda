variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  description = "Logical fleet name; each generation's ASG is <name>-g<N>."
  type        = string
  default     = "app"
}

variable "image_id" {
  description = "AMI to run. A new value rolls out a new generation through the health gate."
  type        = string
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_ids" {
  description = "Private subnets of the load balancer's VPC."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the instances (allow the load balancer in)."
  type        = list(string)
  default     = []
}

variable "target_group_arns" {
  description = "Target groups (target type `instance`) that the instances register with."
  type        = list(string)
}

variable "desired_capacity" {
  type    = number
  default = 2
}

variable "healthy_for" {
  description = "Bake window: how long every new instance must stay healthy before the old fleet goes."
  type        = string
  default     = "60s"
}
