//! The Auto Scaling group settings: lifecycle hooks, target-tracking scaling policies,
//! instance lifetime, termination order, warm-up, capacity rebalancing and group metrics.
//! They change in place on the running generation and are carried to every new one.

use crate::framework::{Attribute, Block};

/// The attributes of a `lifecycle_hook` block.
pub mod hook {
    pub const NAME: &str = "name";
    pub const TRANSITION: &str = "transition";
    pub const HEARTBEAT_TIMEOUT: &str = "heartbeat_timeout";
    pub const DEFAULT_RESULT: &str = "default_result";
    pub const NOTIFICATION_TARGET_ARN: &str = "notification_target_arn";
    pub const ROLE_ARN: &str = "role_arn";
}

/// The attributes of a `scaling_policy` block.
pub mod policy {
    pub const NAME: &str = "name";
    pub const METRIC: &str = "metric";
    pub const TARGET_VALUE: &str = "target_value";
    pub const DISABLE_SCALE_IN: &str = "disable_scale_in";
    pub const INSTANCE_WARMUP: &str = "instance_warmup";
    pub const TARGET_GROUP_ARN: &str = "target_group_arn";
}

/// The `lifecycle_hook` blocks (a set, one per hook).
pub fn lifecycle_hook() -> Block {
    use hook::{
        DEFAULT_RESULT, HEARTBEAT_TIMEOUT, NAME, NOTIFICATION_TARGET_ARN, ROLE_ARN, TRANSITION,
    };
    Block::new(
        "A lifecycle hook of the group: instances wait in `Pending:Wait` (launching) or \
         `Terminating:Wait` (terminating) until something completes the lifecycle action or \
         the heartbeat times out. Every generation has its hooks before its first instance \
         launches. The gate counts an instance waiting on a launching hook as still \
         launching, and fails at once when a hook abandons a launch; a delete lets \
         terminating hooks run. Changes in place.",
    )
    .attribute(
        Attribute::string(NAME)
            .required()
            .describe("Name of the hook, unique in the fleet: 1–255 letters, digits, `-`, `_`, `/`."),
    )
    .attribute(
        Attribute::string(TRANSITION)
            .required()
            .describe("`launching` or `terminating`."),
    )
    .attribute(Attribute::string(HEARTBEAT_TIMEOUT).optional().describe(
        "How long an instance waits for the lifecycle action to complete: a duration from \
         `\"30s\"` to `\"2h\"` in whole seconds. Unset: `\"5m\"`.",
    ))
    .attribute(Attribute::string(DEFAULT_RESULT).optional().describe(
        "What happens when the heartbeat times out: `CONTINUE` or `ABANDON`. Unset: \
         `ABANDON` (a launch nothing confirmed does not serve).",
    ))
    .attribute(Attribute::string(NOTIFICATION_TARGET_ARN).optional().describe(
        "ARN of the SQS queue or SNS topic notified when an instance enters the wait; needs \
         `role_arn`.",
    ))
    .attribute(Attribute::string(ROLE_ARN).optional().describe(
        "ARN of the IAM role that lets Auto Scaling publish to `notification_target_arn`.",
    ))
}

/// The `scaling_policy` blocks (a set, one per target-tracking policy).
pub fn scaling_policy() -> Block {
    use policy::{DISABLE_SCALE_IN, INSTANCE_WARMUP, METRIC, NAME, TARGET_GROUP_ARN, TARGET_VALUE};
    Block::new(
        "A target-tracking scaling policy: Auto Scaling keeps `metric` near `target_value` \
         by adding and removing instances. Leave `desired_capacity` unset with policies, so \
         refreshes never fight them. Every generation gets the policies when it is created. \
         Changes in place.",
    )
    .attribute(
        Attribute::string(NAME)
            .required()
            .describe("Name of the policy, unique in the fleet: 1–255 characters."),
    )
    .attribute(Attribute::string(METRIC).required().describe(
        "The tracked metric: `cpu` (average CPU utilisation, %), `network_in` or \
         `network_out` (average bytes per instance), or `alb_requests_per_target` \
         (requests per target of `target_group_arn`).",
    ))
    .attribute(
        Attribute::number(TARGET_VALUE)
            .required()
            .describe("The value to keep the metric at: more than 0 (at most 100 for `cpu`)."),
    )
    .attribute(
        Attribute::bool(DISABLE_SCALE_IN).optional().describe(
            "Whether the policy only adds instances. Unset: `false`, it also removes them.",
        ),
    )
    .attribute(Attribute::string(INSTANCE_WARMUP).optional().describe(
        "How long a new instance's metrics are left out of the policy's view: a duration in \
         whole seconds. Unset: the group's `default_instance_warmup`.",
    ))
    .attribute(Attribute::string(TARGET_GROUP_ARN).optional().describe(
        "For `alb_requests_per_target`: the target group, one of `target_group_arns`. Its \
         load balancer must route to it.",
    ))
}

pub fn max_instance_lifetime() -> Attribute {
    Attribute::string(super::MAX_INSTANCE_LIFETIME)
        .optional()
        .describe(
            "How long an instance may live before Auto Scaling replaces it with a fresh one \
             from the same template (the immutable mindset, applied to age): `\"0s\"` (never) \
             or from `\"24h\"` to `\"8760h\"` (365 days), in whole seconds. Unset: never. \
             Changes in place.",
        )
}

pub fn termination_policies() -> Attribute {
    Attribute::new(
        super::TERMINATION_POLICIES,
        tfplugin_cty::Type::list(tfplugin_cty::Type::String),
    )
    .optional()
    .describe(
        "Which instances a scale-in removes first, in order: `OldestInstance`, \
         `NewestInstance`, `OldestLaunchTemplate`, `ClosestToNextInstanceHour`, \
         `AllocationStrategy`, `Default`, or the ARN of a Lambda function. Unset: \
         `[\"Default\"]`. Changes in place.",
    )
}

pub fn default_instance_warmup() -> Attribute {
    Attribute::string(super::DEFAULT_INSTANCE_WARMUP)
        .optional()
        .describe(
            "How long a new instance's metrics stay out of the group's scaling metrics: a \
             duration in whole seconds, at most `\"24h\"`. Unset: none. Changes in place.",
        )
}

pub fn capacity_rebalance() -> Attribute {
    Attribute::bool(super::CAPACITY_REBALANCE)
        .optional()
        .describe(
            "Whether Auto Scaling launches a replacement before a Spot instance at elevated \
             risk of interruption is reclaimed. Unset: `false`. Changes in place.",
        )
}

pub fn enabled_metrics() -> Attribute {
    Attribute::string_set(super::ENABLED_METRICS)
        .optional()
        .describe(
            "Group metrics published to CloudWatch every minute, such as \
             `GroupInServiceInstances` or `GroupDesiredCapacity` (the `Group…` and \
             `WarmPool…` names of the Auto Scaling API). Unset: none. Changes in place.",
        )
}
