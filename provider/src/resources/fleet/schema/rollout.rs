//! The `rollout` block: how a new generation takes over from the old one — in canary steps,
//! judged by CloudWatch alarms, and what happens to the old generation afterwards.

use tfplugin_cty::{Type, Value};

use crate::framework::{Attribute, Block};

pub const STEPS: &str = "steps";
pub const ASSESS_FOR: &str = "assess_for";
pub const ALARMS: &str = "alarms";
pub const SHRINK_PREVIOUS: &str = "shrink_previous";
pub const KEEP_PREVIOUS_FOR: &str = "keep_previous_for";

/// The `rollout` block.
pub fn block() -> Block {
    Block::new(
        "How a new generation takes over: in canary steps, judged by the health gate and \
         CloudWatch alarms, with the old generation kept for a fast rollback. Omit the block \
         to launch the new generation at full size, judged by the health gate alone. Its \
         settings change in place (state only) and apply to the next rollout; see the \
         [canary guide](../guides/canary.md).",
    )
    .attribute(
        Attribute::new(STEPS, Type::list(Type::Number))
            .optional()
            .describe(
                "Canary steps: shares of the target capacity, in percent, that the new \
                 generation grows through, e.g. `[10, 50]`. Whole numbers from 1 to 99, \
                 strictly increasing; 100 is always the last step. At each step the new \
                 generation's desired capacity is ceil(step × target), pinned (min = max) so \
                 that scaling policies cannot move it; the gate must pass, then the step \
                 must stay healthy and alarm-free for `assess_for`. Both generations sit \
                 behind the same target groups, so the canary takes its share of real \
                 traffic. Unset or empty: one step of 100%.",
            ),
    )
    .attribute(
        Attribute::string(ASSESS_FOR)
            .default(Value::string("5m"))
            .describe(
                "How long each step (the last, 100%, too) must stay healthy and free of alarms \
                 after its gate passed, as a duration such as `\"5m\"`: whole seconds, up to \
                 `\"24h\"`. `\"0s\"` goes on as soon as the gate passes.",
            ),
    )
    .attribute(
        Attribute::new(ALARMS, Type::list(Type::String))
            .optional()
            .describe(
                "Names of CloudWatch alarms (metric or composite) that judge the rollout, at \
                 most 100. From the launch of the new generation until the last step's \
                 assessment ends, any of them in `ALARM` fails the rollout and rolls it back. \
                 One already in `ALARM` when the rollout would start refuses to start \
                 (\"don't deploy into an incident\"); one that does not exist is an error. \
                 Read every second, in one DescribeAlarms call for every rolling fleet's alarms. A rollback to a \
                 parked generation does not consult them: it is how an incident ends.",
            ),
    )
    .attribute(
        Attribute::bool(SHRINK_PREVIOUS)
            .default(Value::Bool(false))
            .describe(
                "Scale the old generation down as the new one grows: after each step's gate \
                 it runs target − step capacity, so the fleet stays at its target size and \
                 healthy instances never fall below `health_check.min_healthy_percent` of it. \
                 On failure the old generation is scaled back to its full size, and waited \
                 for, before the new one is removed. Cannot be combined with \
                 `keep_previous_for`, which keeps the old generation whole for a rollback.",
            ),
    )
    .attribute(
        Attribute::string(KEEP_PREVIOUS_FOR)
            .default(Value::string("0s"))
            .describe(
                "After a successful rollout, keep the old generation *parked* for this long \
                 instead of deleting it, e.g. `\"1h\"` (whole seconds, up to `\"720h\"`): \
                 detached from its target groups, its instances running, the processes that \
                 would launch, replace or register instances suspended, and an Auto Scaling \
                 scheduled action that scales it to zero when the window ends (so AWS \
                 enforces the window even if Terraform never runs again). An apply that goes \
                 back to the parked generation's configuration inside the window brings it \
                 back in seconds, launching nothing: resume, re-attach, gate, then retire the \
                 other. Parked generations past their window show in `leftovers` and are \
                 deleted by the next apply. `\"0s\"`: the old generation is deleted.",
            ),
    )
}
