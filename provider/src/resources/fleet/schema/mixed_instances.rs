//! The `mixed_instances` block: several instance types and a Spot/On-Demand mix for one
//! generation. What gets launched changes with it, so a change rolls out a new generation.

use tfplugin_cty::Value;

use crate::framework::value::int;
use crate::framework::{Attribute, Block, NestedBlock};

pub const OVERRIDE: &str = "override";
pub const ON_DEMAND_BASE_CAPACITY: &str = "on_demand_base_capacity";
pub const ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY: &str =
    "on_demand_percentage_above_base_capacity";
pub const SPOT_ALLOCATION_STRATEGY: &str = "spot_allocation_strategy";
pub const ON_DEMAND_ALLOCATION_STRATEGY: &str = "on_demand_allocation_strategy";

/// The attributes of an `override` block.
pub mod overrides {
    pub const INSTANCE_TYPE: &str = "instance_type";
    pub const WEIGHTED_CAPACITY: &str = "weighted_capacity";
}

pub fn block() -> Block {
    Block::new(
        "Launch from several instance types and mix Spot with On-Demand capacity (the \
         group's mixed instances policy). `instance_type` stays the launch template's type. \
         A change rolls out a new generation.",
    )
    .block(NestedBlock::list(
        OVERRIDE,
        Block::new(
            "An instance type the group may launch, in priority order (the first is \
             preferred by the `prioritized` On-Demand strategy).",
        )
        .attribute(
            Attribute::string(overrides::INSTANCE_TYPE)
                .required()
                .requires_replace()
                .describe("An instance type, such as `m6i.large`."),
        )
        .attribute(
            Attribute::number(overrides::WEIGHTED_CAPACITY)
                .optional()
                .requires_replace()
                .describe(
                    "How many units of capacity one instance of this type counts for: 1–999. \
                     Unset: 1.",
                ),
        ),
    ))
    .attribute(
        Attribute::number(ON_DEMAND_BASE_CAPACITY)
            .default(int(0))
            .requires_replace()
            .describe("Capacity always filled with On-Demand instances, 0 or more."),
    )
    .attribute(
        Attribute::number(ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY)
            .default(int(100))
            .requires_replace()
            .describe(
                "Share of the capacity above the base that is On-Demand, 0–100; the rest is \
                 Spot.",
            ),
    )
    .attribute(
        Attribute::string(SPOT_ALLOCATION_STRATEGY)
            .default(Value::string("price-capacity-optimized"))
            .requires_replace()
            .describe(
                "How Spot capacity is spread over the types: `price-capacity-optimized`, \
                 `capacity-optimized`, `capacity-optimized-prioritized` or `lowest-price`.",
            ),
    )
    .attribute(
        Attribute::string(ON_DEMAND_ALLOCATION_STRATEGY)
            .default(Value::string("prioritized"))
            .requires_replace()
            .describe(
                "How On-Demand capacity is spread over the types: `prioritized` (in \
                 `override` order) or `lowest-price`.",
            ),
    )
}
