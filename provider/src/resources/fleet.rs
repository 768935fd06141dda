//! `immutable_fleet`: an EC2 fleet (launch template + Auto Scaling group) that is never
//! changed in place.
//!
//! Everything baked into an instance forces a replacement: a new *generation* (its own
//! launch template and ASG, named `<name>-g<generation>`) is created, must pass the health
//! gate, and only then does Terraform destroy the old one (with
//! `lifecycle { create_before_destroy = true }`). A generation that fails its gate is
//! deleted again and the old fleet keeps serving. Capacity, tags and gate settings change
//! in place, because scaling mutates no instance.

mod aws;
mod gate;
mod model;
mod observe;
mod validate;

use async_trait::async_trait;
use tfplugin_cty::{Path, Value};

use crate::aws::AwsClients;
use crate::framework::value::{ObjectExt, attr_mut, int};
use crate::framework::{
    Attribute, Block, Context, Diagnostics, NestedBlock, PlanContext, Resource, Schema,
};

pub use model::{FleetSpec, HealthCheck};

pub struct Fleet;

impl Fleet {
    fn health_check_block() -> Block {
        Block::new(
            "The health gate every new generation (and every scale-out) must pass before \
             Terraform goes on. Omit the block to use the defaults.",
        )
        .attribute(
            Attribute::string("type")
                .default(Value::string("EC2"))
                .describe(
                    "`EC2` (instance status checks) or `ELB` (also the target groups' health \
                     checks). Sets the ASG's health check type. Default `EC2`.",
                ),
        )
        .attribute(Attribute::string("grace_period").default(Value::string("30s")).describe(
            "How long the ASG ignores failed health checks of a new instance (the ASG's \
             HealthCheckGracePeriod), as a duration such as `\"30s\"`. Default `30s`.",
        ))
        .attribute(Attribute::string("timeout").default(Value::string("10m")).describe(
            "How long a new generation may take to pass the gate before it is rolled back, \
             e.g. `\"10m\"`. Default `10m`.",
        ))
        .attribute(Attribute::string("healthy_for").default(Value::string("0s")).describe(
            "Bake window: the gate passes only once enough instances have stayed healthy \
             for this long without interruption, e.g. `\"2m\"`. Default `0s`.",
        ))
        .attribute(Attribute::number("min_healthy_percent").default(int(100)).describe(
            "Share of the desired capacity that must be healthy (InService and Healthy) for \
             the gate to pass, 1–100. Rounded up to whole instances. Default `100`.",
        ))
    }
}

#[async_trait]
impl Resource for Fleet {
    fn type_name(&self) -> &'static str {
        "immutable_fleet"
    }

    #[allow(clippy::too_many_lines, reason = "a declarative list of attributes")]
    fn schema(&self) -> Schema {
        let block = Block::new(
            "An EC2 fleet (launch template + Auto Scaling group) that is replaced, never \
             changed in place. Any change to what is baked into an instance creates a new \
             generation that must pass a health gate before the old one is destroyed; a \
             failed gate deletes the new generation and leaves the old one serving. Always \
             use it with `lifecycle { create_before_destroy = true }`.",
        )
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .describe(
                    "Logical fleet name, unique within the account and region: generations \
                     are found by it. Each generation's ASG and launch template are named \
                     `<name>-g<generation>`, so old and new coexist without name clashes. \
                     Letters, digits, `-` and `_`; at most 100 characters.",
                ),
        )
        .attribute(
            Attribute::string("image_id")
                .required()
                .requires_replace()
                .describe("AMI the instances boot from (`ami-…`). Changing it rolls out a new generation."),
        )
        .attribute(
            Attribute::string("instance_type")
                .required()
                .requires_replace()
                .describe("EC2 instance type, e.g. `t3.micro`."),
        )
        .attribute(
            Attribute::string_set("subnet_ids")
                .required()
                .requires_replace()
                .describe("Subnets the ASG launches into (at least one)."),
        )
        .attribute(
            Attribute::string_set("security_group_ids")
                .optional()
                .requires_replace()
                .describe("Security groups of the instances."),
        )
        .attribute(
            Attribute::string("user_data")
                .optional()
                .sensitive()
                .requires_replace()
                .describe(
                    "Instance user data as plain text (the provider base64-encodes it). \
                     Sensitive: never shown in plans or logs.",
                ),
        )
        .attribute(
            Attribute::string("iam_instance_profile")
                .optional()
                .requires_replace()
                .describe("Name or ARN of the instance profile."),
        )
        .attribute(
            Attribute::string_set("target_group_arns")
                .optional()
                .requires_replace()
                .describe(
                    "ELBv2 target groups the instances register with. A new generation is \
                     attached to them from the start, alongside the old one.",
                ),
        )
        .attribute(
            Attribute::number("min_size")
                .required()
                .describe("Minimum number of instances. Changes in place."),
        )
        .attribute(
            Attribute::number("max_size")
                .required()
                .describe("Maximum number of instances. Changes in place."),
        )
        .attribute(
            Attribute::number("desired_capacity")
                .optional()
                .computed()
                .describe(
                    "Number of instances. When set, Terraform owns it exactly and changes it \
                     in place (a scale-out passes the health gate too). When unset, the \
                     fleet is left to scaling policies: refreshes never fight the \
                     autoscaler, and a new generation starts at its predecessor's live \
                     desired capacity (within min/max), so a rollout at peak never shrinks \
                     the fleet.",
                ),
        )
        .attribute(
            Attribute::string_map("tags")
                .optional()
                .describe("Tags of the ASG, propagated to instances at launch. Change in place."),
        )
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .describe("Name of the current generation's Auto Scaling group."),
        )
        .attribute(
            Attribute::number("generation")
                .computed()
                .use_state_for_unknown()
                .describe("Generation number, one more than the newest generation found in AWS."),
        )
        .attribute(
            Attribute::string("autoscaling_group_name")
                .computed()
                .use_state_for_unknown()
                .describe("Name of the current generation's Auto Scaling group."),
        )
        .attribute(
            Attribute::string("launch_template_id")
                .computed()
                .use_state_for_unknown()
                .describe("ID of the current generation's launch template."),
        )
        .block(NestedBlock::single("health_check", Self::health_check_block()));
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value, diagnostics: &mut Diagnostics) {
        validate::config(config, diagnostics);
    }

    fn modify_plan(&self, plan: &mut PlanContext<'_>) {
        if plan.creating() || !plan.config.attr("desired_capacity").is_null() {
            return;
        }
        // Unset desired capacity belongs to the autoscaler. Keep the refreshed value unless
        // new bounds make AWS move it; then it is known only after apply.
        let bounds_changed = plan.planned.attr("min_size") != plan.prior.attr("min_size")
            || plan.planned.attr("max_size") != plan.prior.attr("max_size");
        let value = if bounds_changed {
            Value::unknown()
        } else {
            plan.prior.attr("desired_capacity").clone()
        };
        if let Some(slot) = attr_mut(plan.planned, "desired_capacity") {
            *slot = value;
        }
    }

    async fn create(&self, ctx: &Context, planned: &Value, diagnostics: &mut Diagnostics) -> Value {
        let (clients, spec) = match prepare(ctx, planned) {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return Value::Null;
            }
        };
        match aws::create_generation(&clients, &spec, &ctx.stop).await {
            Ok(created) => created.state(planned),
            Err(failure) => {
                diagnostics.error(failure.summary(&spec.name), failure.detail());
                Value::Null
            }
        }
    }

    async fn read(&self, ctx: &Context, state: &Value, diagnostics: &mut Diagnostics) -> Value {
        let clients = match ctx.data::<AwsClients>() {
            Ok(c) => c,
            Err(d) => {
                diagnostics.extend(d);
                return state.clone();
            }
        };
        let Some(asg_name) = state.string("id") else {
            return Value::Null;
        };
        match observe::observe(&clients, asg_name, state.string("launch_template_id")).await {
            Ok(Some(observed)) => observed.refresh(state),
            Ok(None) => {
                tracing::warn!(
                    asg = asg_name,
                    "fleet generation is gone from AWS; removing it from state"
                );
                Value::Null
            }
            Err(e) => {
                diagnostics.error("Failed to read fleet", e.to_string());
                state.clone()
            }
        }
    }

    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Value {
        let (clients, mut spec) = match prepare(ctx, planned) {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return prior.clone();
            }
        };
        // A desired capacity the plan does not change is not pushed: it is the value read at
        // refresh, and the autoscaler may have moved it since (a saved plan applied later
        // would otherwise shrink the fleet at peak).
        if planned.attr("desired_capacity") == prior.attr("desired_capacity") {
            spec.desired_capacity = None;
        }
        let Some(asg_name) = prior.string("id") else {
            diagnostics.error(
                "Fleet state has no id",
                "The prior state is incomplete; re-import the fleet.",
            );
            return prior.clone();
        };
        match aws::update_in_place(&clients, asg_name, prior, &spec, &ctx.stop).await {
            Ok(desired) => {
                let mut state = planned.clone();
                // Only an unknown plan takes the live value: a known one was either set by
                // the configuration (and applied exactly) or kept from the refresh, and
                // Terraform requires the result to match it.
                if let Some(slot) = attr_mut(&mut state, "desired_capacity")
                    && slot.is_unknown()
                {
                    *slot = int(i64::from(desired));
                }
                state
            }
            Err(failure) => {
                diagnostics.error(failure.summary(&spec.name), failure.detail());
                // Capacity and tags may have been applied before the failure; the next
                // refresh reads the truth.
                prior.clone()
            }
        }
    }

    async fn delete(&self, ctx: &Context, prior: &Value, diagnostics: &mut Diagnostics) {
        let clients = match ctx.data::<AwsClients>() {
            Ok(c) => c,
            Err(d) => {
                diagnostics.extend(d);
                return;
            }
        };
        let asg_name = prior.string("id").unwrap_or_default();
        let template_id = prior.string("launch_template_id");
        if let Err(e) = aws::delete_generation(&clients, asg_name, template_id, &ctx.stop).await {
            diagnostics.error(
                format!("Failed to delete fleet generation {asg_name}"),
                e.to_string(),
            );
            return;
        }
        // Nothing else in this apply creates generations of this fleet: a create of the
        // same resource finished (and tagged its generation serving) before Terraform
        // deletes the deposed one. What is still gating is a crashed rollout's leftover.
        if let Some(fleet) = prior.string("name")
            && let Err(e) = aws::remove_fleet_leftovers(&clients, fleet).await
        {
            diagnostics.warning(
                format!("Leftovers of fleet {fleet} not removed"),
                format!(
                    "Generation {asg_name} was deleted, but removing what an interrupted \
                     rollout left behind failed ({e}). The next apply of this fleet retries."
                ),
            );
        }
    }

    async fn import(&self, ctx: &Context, id: &str, diagnostics: &mut Diagnostics) -> Value {
        let clients = match ctx.data::<AwsClients>() {
            Ok(c) => c,
            Err(d) => {
                diagnostics.extend(d);
                return Value::Null;
            }
        };
        match observe::observe(&clients, id, None).await {
            Ok(Some(observed)) => {
                if observed.is_fleet_generation()
                    && let Err(e) = aws::mark_serving(&clients, id).await
                {
                    diagnostics.error("Cannot import fleet", e.to_string());
                    return Value::Null;
                }
                observed.imported()
            }
            Ok(None) => {
                diagnostics.error(
                    "Cannot import fleet",
                    format!("No Auto Scaling group named {id:?} exists in {}. The import ID is the ASG name.", clients.region),
                );
                Value::Null
            }
            Err(e) => {
                diagnostics.error("Cannot import fleet", e.to_string());
                Value::Null
            }
        }
    }
}

fn prepare(
    ctx: &Context,
    planned: &Value,
) -> Result<(std::sync::Arc<AwsClients>, FleetSpec), Diagnostics> {
    let clients = ctx.data::<AwsClients>()?;
    let spec = FleetSpec::from_value(planned)?;
    Ok((clients, spec))
}

/// Path helper for diagnostics.
pub(crate) fn at(name: &str) -> Path {
    Path::root().attr(name)
}
