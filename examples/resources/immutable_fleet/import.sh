# The import ID is the name of the fleet's current Auto Scaling group: `<name>-g<generation>`
# for a fleet this provider created, or the group's own name for one it did not (see the guide
# "Migrating from aws_autoscaling_group").
terraform import immutable_fleet.web web-g3
