output "autoscaling_group_name" {
  description = "The serving generation's Auto Scaling group."
  value       = immutable_fleet.app.autoscaling_group_name
}

output "generation" {
  value = immutable_fleet.app.generation
}
