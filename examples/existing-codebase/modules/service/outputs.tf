output "name" {
  description = "Logical fleet name, <service>-<environment>."
  value       = immutable_fleet.this.name
}

output "autoscaling_group_name" {
  description = "The serving generation's Auto Scaling group (changes with every rollout)."
  value       = immutable_fleet.this.autoscaling_group_name
}

output "generation" {
  value = immutable_fleet.this.generation
}

output "launch_template_id" {
  value = immutable_fleet.this.launch_template_id
}
