//! The `health_check` block: the gate every new generation (and every scale-out) must pass.

use tfplugin_cty::Value;

use crate::framework::value::int;
use crate::framework::{Attribute, Block};

pub const TYPE: &str = "type";
pub const GRACE_PERIOD: &str = "grace_period";
pub const TIMEOUT: &str = "timeout";
pub const HEALTHY_FOR: &str = "healthy_for";
pub const MIN_HEALTHY_PERCENT: &str = "min_healthy_percent";

/// The `health_check` block.
pub fn block() -> Block {
    Block::new(
        "The health gate every new generation (and every scale-out) must pass before \
         Terraform goes on; see [Health gate and rollback](#health-gate-and-rollback). \
         Omit the block to use the defaults. Its settings change in place and apply to \
         the next gate.",
    )
    .attribute(
        Attribute::string(TYPE)
            .default(Value::string("EC2"))
            .describe(
                "`EC2` (instance status checks only) or `ELB` (also the target groups' health \
         checks; needs `target_group_arns`). Sets the ASG's health check type.",
            ),
    )
    .attribute(
        Attribute::string(GRACE_PERIOD)
            .default(Value::string("30s"))
            .describe(
                "How long the ASG ignores failed health checks of a new instance (the ASG's \
         HealthCheckGracePeriod), as a duration such as `\"30s\"` or `\"2m\"`: whole \
         seconds, at most `\"596523h14m7s\"` (2147483647 s, the largest value AWS \
         holds).",
            ),
    )
    .attribute(
        Attribute::string(TIMEOUT)
            .default(Value::string("10m"))
            .describe(
                "How long a new generation may take to pass the gate, counted from its launch, \
         before it is rolled back: a duration such as `\"10m\"` or `\"1h\"`, in whole \
         seconds from `\"1s\"` to `\"24h\"`.",
            ),
    )
    .attribute(
        Attribute::string(HEALTHY_FOR)
            .default(Value::string("0s"))
            .describe(
                "Bake window: the gate passes only once enough instances have each stayed \
         healthy for this long without interruption, e.g. `\"2m\"`: whole seconds, \
         shorter than `timeout`.",
            ),
    )
    .attribute(
        Attribute::number(MIN_HEALTHY_PERCENT)
            .default(int(100))
            .describe(
                "Share of the desired capacity that must be healthy (InService and Healthy, and \
         healthy in every target group) for the gate to pass: a whole number from 1 to \
         100, rounded up to whole instances.",
            ),
    )
}
