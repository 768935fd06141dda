//! The `immutable_fleet` schema: its attributes, their documentation, and the names every
//! other file of the fleet uses to address them.

pub mod group;
pub mod health_check;
pub mod launch;
pub mod mixed_instances;
pub mod rollout;

use tfplugin_cty::Path;

use crate::framework::{Attribute, Block, NestedBlock, Schema};

pub const NAME: &str = "name";
pub const IMAGE_ID: &str = "image_id";
pub const INSTANCE_TYPE: &str = "instance_type";
pub const SUBNET_IDS: &str = "subnet_ids";
pub const SECURITY_GROUP_IDS: &str = "security_group_ids";
pub const USER_DATA: &str = "user_data";
pub const IAM_INSTANCE_PROFILE: &str = "iam_instance_profile";
pub const TARGET_GROUP_ARNS: &str = "target_group_arns";
pub const MIN_SIZE: &str = "min_size";
pub const MAX_SIZE: &str = "max_size";
pub const DESIRED_CAPACITY: &str = "desired_capacity";
pub const TAGS: &str = "tags";
pub const ID: &str = "id";
pub const GENERATION: &str = "generation";
pub const AUTOSCALING_GROUP_NAME: &str = "autoscaling_group_name";
pub const LAUNCH_TEMPLATE_ID: &str = "launch_template_id";
pub const LEFTOVERS: &str = "leftovers";
pub const HEALTH_CHECK: &str = "health_check";
pub const ROLLOUT: &str = "rollout";

pub const BLOCK_DEVICE_MAPPING: &str = "block_device_mapping";
pub const METADATA_OPTIONS: &str = "metadata_options";
pub const ASSOCIATE_PUBLIC_IP_ADDRESS: &str = "associate_public_ip_address";
pub const MONITORING: &str = "monitoring";
pub const EBS_OPTIMIZED: &str = "ebs_optimized";
pub const CREDIT_SPECIFICATION: &str = "credit_specification";
pub const LIFECYCLE_HOOK: &str = "lifecycle_hook";
pub const SCALING_POLICY: &str = "scaling_policy";
pub const MAX_INSTANCE_LIFETIME: &str = "max_instance_lifetime";
pub const TERMINATION_POLICIES: &str = "termination_policies";
pub const DEFAULT_INSTANCE_WARMUP: &str = "default_instance_warmup";
pub const CAPACITY_REBALANCE: &str = "capacity_rebalance";
pub const ENABLED_METRICS: &str = "enabled_metrics";
pub const MIXED_INSTANCES: &str = "mixed_instances";

/// The path of a top-level attribute, for diagnostics.
pub fn at(name: &str) -> Path {
    Path::root().attr(name)
}

#[allow(clippy::too_many_lines, reason = "a declarative list of attributes")]
pub fn schema() -> Schema {
    let block = Block::new(
        "An EC2 fleet (launch template + Auto Scaling group) that is replaced, never \
         changed in place. Any change to what is baked into an instance creates a new \
         generation that must pass a health gate before the old one is destroyed; a \
         failed gate deletes the new generation and leaves the old one serving. Always \
         use it with `lifecycle { create_before_destroy = true }`.",
    )
    .attribute(Attribute::string(NAME).required().describe(
        "Logical fleet name, unique within the account and region: generations \
                 are found by their `immutable:fleet` tag. Each generation's ASG and \
                 launch template are named `<name>-g<generation>`, so old and new coexist \
                 without name clashes. 1–100 letters, digits, `-` and `_`. An imported \
                 group not created by this provider keeps its own name until its first \
                 replacement (see the migration guide). Changing it renames the fleet in \
                 place (its tags; no instance changes): the running generation keeps its \
                 ASG name and capacity, and the next generation is named after the new \
                 name. A rename cannot share an apply with a change that rolls out a new \
                 generation while `desired_capacity` is unset (the new generation could \
                 not find its predecessor's capacity): apply the rename first.",
    ))
    .attribute(
        Attribute::string(IMAGE_ID)
            .required()
            .requires_replace()
            .describe("AMI the instances boot from: `ami-` and 8 or 17 hex digits."),
    )
    .attribute(
        Attribute::string(INSTANCE_TYPE)
            .required()
            .requires_replace()
            .describe("EC2 instance type, such as `t3.micro`."),
    )
    .attribute(
        Attribute::string_set(SUBNET_IDS)
            .required()
            .requires_replace()
            .describe("IDs of the subnets the ASG launches into (`subnet-…`, at least one)."),
    )
    .attribute(
        Attribute::string_set(SECURITY_GROUP_IDS)
            .optional()
            .requires_replace()
            .describe("IDs of the instances' security groups. Unset: the VPC's default group."),
    )
    .attribute(
        Attribute::string(USER_DATA)
            .optional()
            .sensitive()
            .requires_replace()
            .describe(
                "Instance user data as plain text (the provider base64-encodes it into the \
                 launch template), at most 16384 bytes (16 KB, AWS's limit before base64 \
                 encoding). Sensitive: never shown in plans or logs, and written as \
                 `null` in configuration that `terraform plan -generate-config-out` \
                 generates (see the migration guide).",
            ),
    )
    .attribute(
        Attribute::string(IAM_INSTANCE_PROFILE)
            .optional()
            .requires_replace()
            .describe("Name or ARN of the IAM instance profile the instances run with."),
    )
    .attribute(
        Attribute::string_set(TARGET_GROUP_ARNS)
            .optional()
            .requires_replace()
            .describe(
                "ARNs of the ELBv2 target groups the instances register with. A new \
                 generation is attached to them from the start, alongside the old one, \
                 and the gate waits until its instances are healthy in every one.",
            ),
    )
    .attribute(
        Attribute::number(MIN_SIZE)
            .required()
            .describe("Minimum number of instances, 0 or more and at most `max_size`."),
    )
    .attribute(
        Attribute::number(MAX_SIZE)
            .required()
            .describe("Maximum number of instances, at least `min_size`."),
    )
    .attribute(
        Attribute::number(DESIRED_CAPACITY)
            .optional()
            .computed()
            .describe(
                "Number of instances, from `min_size` to `max_size`. When set, Terraform \
                 owns it exactly (a scale-out passes the health gate too). When unset, the \
                 fleet is left to scaling policies: refreshes never fight the \
                 autoscaler, and a new generation starts at its predecessor's live \
                 desired capacity (within min/max), so a rollout at peak never shrinks \
                 the fleet.",
            ),
    )
    .attribute(Attribute::string_map(TAGS).optional().describe(
        "Tags of the ASG, propagated to instances at launch (running instances \
                 keep the tags they launched with). At most 45: a group holds 50 tags and \
                 the provider adds 5 of its own. Keys have 1–128 characters and values \
                 at most 256. Keys starting with `immutable:` or `aws:` are reserved.",
    ))
    .attribute(
        Attribute::string(ID)
            .computed()
            .use_state_for_unknown()
            .describe("Name of the current generation's Auto Scaling group; also the import ID."),
    )
    .attribute(
        Attribute::number(GENERATION)
            .computed()
            .use_state_for_unknown()
            .describe(
                "Generation number of the current ASG: one more than the newest \
                 generation found in AWS when it was created; `0` for an imported group \
                 that this provider did not create.",
            ),
    )
    .attribute(
        Attribute::string(AUTOSCALING_GROUP_NAME)
            .computed()
            .use_state_for_unknown()
            .describe("Name of the current generation's Auto Scaling group."),
    )
    .attribute(
        Attribute::string(LAUNCH_TEMPLATE_ID)
            .computed()
            .use_state_for_unknown()
            .describe(
                "ID of the current generation's launch template. A template this \
                 provider did not create (an imported group's) is never deleted by it.",
            ),
    )
    .attribute(Attribute::string_set(LEFTOVERS).computed().describe(
        "Auto Scaling groups and launch templates of this fleet that an interrupted \
                 rollout left behind (a generation that never passed its gate, a template \
                 without a group), found at refresh. While any exist the plan shows an \
                 in-place update that removes them, drained first, so a plan never says \
                 \"No changes\" while one may still take traffic. Null when there are none.",
    ))
    .attribute(launch::associate_public_ip_address())
    .attribute(launch::monitoring())
    .attribute(launch::ebs_optimized())
    .attribute(launch::credit_specification())
    .attribute(group::max_instance_lifetime())
    .attribute(group::termination_policies())
    .attribute(group::default_instance_warmup())
    .attribute(group::capacity_rebalance())
    .attribute(group::enabled_metrics())
    .block(NestedBlock::set(LIFECYCLE_HOOK, group::lifecycle_hook()))
    .block(NestedBlock::set(SCALING_POLICY, group::scaling_policy()))
    .block(NestedBlock::set(
        BLOCK_DEVICE_MAPPING,
        launch::block_device_mapping(),
    ))
    .block(NestedBlock::single(
        MIXED_INSTANCES,
        mixed_instances::block(),
    ))
    .block(NestedBlock::single(
        METADATA_OPTIONS,
        launch::metadata_options(),
    ))
    .block(NestedBlock::single(HEALTH_CHECK, health_check::block()))
    .block(NestedBlock::single(ROLLOUT, rollout::block()));
    Schema { version: 2, block }
}
