output "fleets" {
  description = "Serving Auto Scaling group and generation of each service."
  value = {
    api    = { asg = module.api.autoscaling_group_name, generation = module.api.generation }
    worker = { asg = module.worker.autoscaling_group_name, generation = module.worker.generation }
  }
}
