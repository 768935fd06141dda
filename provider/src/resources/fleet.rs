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
mod inventory;
mod model;
mod observe;
mod validate;

use async_trait::async_trait;
use tfplugin_cty::{Path, Value};

use crate::aws::AwsClients;
use crate::framework::value::{ObjectExt, attr_mut, int, set_attr, string_set};
use crate::framework::{
    Attribute, Block, Context, Diagnostics, NestedBlock, PlanContext, Resource, Schema,
};

pub use model::{FleetSpec, HealthCheck};

pub struct Fleet;

impl Fleet {
    fn health_check_block() -> Block {
        Block::new(
            "The health gate every new generation (and every scale-out) must pass before \
             Terraform goes on; see [Health gate and rollback](#health-gate-and-rollback). \
             Omit the block to use the defaults. Its settings change in place and apply to \
             the next gate.",
        )
        .attribute(Attribute::string("type").default(Value::string("EC2")).describe(
            "`EC2` (instance status checks only) or `ELB` (also the target groups' health \
             checks; needs `target_group_arns`). Sets the ASG's health check type.",
        ))
        .attribute(Attribute::string("grace_period").default(Value::string("30s")).describe(
            "How long the ASG ignores failed health checks of a new instance (the ASG's \
             HealthCheckGracePeriod), as a duration such as `\"30s\"` or `\"2m\"`: whole \
             seconds, at most `\"596523h14m7s\"` (2147483647 s, the largest value AWS \
             holds).",
        ))
        .attribute(Attribute::string("timeout").default(Value::string("10m")).describe(
            "How long a new generation may take to pass the gate, counted from its launch, \
             before it is rolled back: a duration such as `\"10m\"` or `\"1h\"`, in whole \
             seconds from `\"1s\"` to `\"24h\"`.",
        ))
        .attribute(Attribute::string("healthy_for").default(Value::string("0s")).describe(
            "Bake window: the gate passes only once enough instances have each stayed \
             healthy for this long without interruption, e.g. `\"2m\"`: whole seconds, \
             shorter than `timeout`.",
        ))
        .attribute(Attribute::number("min_healthy_percent").default(int(100)).describe(
            "Share of the desired capacity that must be healthy (InService and Healthy, and \
             healthy in every target group) for the gate to pass: a whole number from 1 to \
             100, rounded up to whole instances.",
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
        .attribute(Attribute::string("name").required().describe(
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
            Attribute::string("image_id")
                .required()
                .requires_replace()
                .describe("AMI the instances boot from: `ami-` and 8 or 17 hex digits."),
        )
        .attribute(
            Attribute::string("instance_type")
                .required()
                .requires_replace()
                .describe("EC2 instance type, such as `t3.micro`."),
        )
        .attribute(
            Attribute::string_set("subnet_ids")
                .required()
                .requires_replace()
                .describe("IDs of the subnets the ASG launches into (`subnet-…`, at least one)."),
        )
        .attribute(
            Attribute::string_set("security_group_ids")
                .optional()
                .requires_replace()
                .describe("IDs of the instances' security groups. Unset: the VPC's default group."),
        )
        .attribute(
            Attribute::string("user_data")
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
            Attribute::string("iam_instance_profile")
                .optional()
                .requires_replace()
                .describe("Name or ARN of the IAM instance profile the instances run with."),
        )
        .attribute(
            Attribute::string_set("target_group_arns")
                .optional()
                .requires_replace()
                .describe(
                    "ARNs of the ELBv2 target groups the instances register with. A new \
                     generation is attached to them from the start, alongside the old one, \
                     and the gate waits until its instances are healthy in every one.",
                ),
        )
        .attribute(
            Attribute::number("min_size")
                .required()
                .describe("Minimum number of instances, 0 or more and at most `max_size`."),
        )
        .attribute(
            Attribute::number("max_size")
                .required()
                .describe("Maximum number of instances, at least `min_size`."),
        )
        .attribute(
            Attribute::number("desired_capacity")
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
        .attribute(Attribute::string_map("tags").optional().describe(
            "Tags of the ASG, propagated to instances at launch (running instances \
                     keep the tags they launched with). At most 45: a group holds 50 tags and \
                     the provider adds 5 of its own. Keys have 1–128 characters and values \
                     at most 256. Keys starting with `immutable:` or `aws:` are reserved.",
        ))
        .attribute(
            Attribute::string("id")
                .computed()
                .use_state_for_unknown()
                .describe(
                    "Name of the current generation's Auto Scaling group; also the import ID.",
                ),
        )
        .attribute(
            Attribute::number("generation")
                .computed()
                .use_state_for_unknown()
                .describe(
                    "Generation number of the current ASG: one more than the newest \
                     generation found in AWS when it was created; `0` for an imported group \
                     that this provider did not create.",
                ),
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
                .describe(
                    "ID of the current generation's launch template. A template this \
                     provider did not create (an imported group's) is never deleted by it.",
                ),
        )
        .attribute(Attribute::string_set("leftovers").computed().describe(
            "Auto Scaling groups and launch templates of this fleet that an interrupted \
                     rollout left behind (a generation that never passed its gate, a template \
                     without a group), found at refresh. While any exist the plan shows an \
                     in-place update that removes them, drained first, so a plan never says \
                     \"No changes\" while one may still take traffic. Null when there are none.",
        ))
        .block(NestedBlock::single(
            "health_check",
            Self::health_check_block(),
        ));
        Schema { version: 1, block }
    }

    fn validate(&self, config: &Value, diagnostics: &mut Diagnostics) {
        validate::config(config, diagnostics);
    }

    fn modify_plan(&self, plan: &mut PlanContext<'_>) {
        // Every apply removes the leftovers a refresh found (create and update alike), so
        // none remain after it; planned gone, the plan shows the cleanup instead of "No
        // changes".
        if let Some(slot) = attr_mut(plan.planned, LEFTOVERS) {
            *slot = Value::Null;
        }
        if plan.creating() || !plan.config.attr("desired_capacity").is_null() {
            return;
        }
        let renamed = plan.planned.attr("name") != plan.prior.attr("name");
        if renamed && !plan.requires_replace.is_empty() {
            let replaced: Vec<String> = plan
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect();
            plan.diagnostics.attribute_error(
                at("name"),
                "Rename and replacement in one apply",
                format!(
                    "This plan renames the fleet from {} to {} and also rolls out a new \
                     generation ({} changed). With `desired_capacity` unset the new generation \
                     starts at its predecessor's live capacity, found under the fleet's name; \
                     a rename in the same apply would start it at `min_size` and shrink the \
                     fleet. Apply the rename alone first (it changes tags only), then the \
                     other change; or set `desired_capacity`.",
                    plan.prior.string("name").unwrap_or_default(),
                    plan.planned.string("name").unwrap_or_default(),
                    replaced.join(", ")
                ),
            );
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
        if !clients.claims.claim(&spec.name) {
            diagnostics.attribute_error(
                at("name"),
                "Duplicate fleet name",
                aws::duplicate_name_detail(&spec.name),
            );
            return Value::Null;
        }
        match aws::create_generation(&clients, &spec, &ctx.stop).await {
            Ok(created) => created.state(planned),
            Err(failure) => {
                if failure.left_nothing() {
                    clients.claims.release(&spec.name);
                }
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
        // A refresh changes nothing, so a Stop may abandon its calls mid-flight.
        let observed = tokio::select! {
            () = ctx.stop.cancelled() => {
                diagnostics.error(
                    "Refresh interrupted",
                    format!("Terraform was asked to stop while reading {asg_name}."),
                );
                return state.clone();
            }
            observed = observe::observe(&clients, asg_name, state.string("launch_template_id")) => {
                observed
            }
        };
        match observed {
            Ok(Some(observed)) => {
                let mut refreshed = observed.refresh(state);
                if let Some(fleet) = state.string("name") {
                    let template = refreshed.string("launch_template_id").map(str::to_owned);
                    survey(
                        &clients,
                        fleet,
                        asg_name,
                        template.as_deref(),
                        &mut refreshed,
                        diagnostics,
                    )
                    .await;
                }
                refreshed
            }
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
        if !prior.attr(LEFTOVERS).is_null()
            && let Err(e) = aws::remove_fleet_leftovers(&clients, &spec.name, None).await
        {
            diagnostics.error(
                format!("Fleet {}: leftovers not removed", spec.name),
                format!("Removing what an interrupted rollout left behind failed: {e}"),
            );
            return prior.clone();
        }
        let prior_name = prior.string("name").unwrap_or_default();
        if prior_name != spec.name
            && let Err(failure) = aws::rename(&clients, prior, &spec.name).await
        {
            diagnostics.attribute_error(at("name"), failure.summary(prior_name), failure.detail());
            return prior.clone();
        }
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
        // Generation 0 is a group imported from outside (migration): its launch template is
        // the user's and may be shared with other groups, so it stays.
        let result = if prior.int("generation") == Some(0) {
            aws::delete_group(&clients, asg_name, &ctx.stop)
                .await
                .map(|kept| {
                    if let Some(template) = kept {
                        tracing::info!(
                            asg = asg_name,
                            template,
                            "kept launch template of imported group: not created by this provider"
                        );
                    }
                })
        } else {
            aws::delete_generation(&clients, asg_name, template_id, &ctx.stop).await
        };
        if let Err(e) = result {
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
            && let Err(e) =
                aws::remove_fleet_leftovers(&clients, fleet, prior.int("generation")).await
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

    fn upgrade_state(
        &self,
        from_version: i64,
        raw: &serde_json::Value,
        diagnostics: &mut Diagnostics,
    ) -> Value {
        // Version 1 added the computed `leftovers`, null until the next refresh; the rest
        // of a version 0 state is unchanged.
        if from_version != 0 {
            diagnostics.error(
                "Unsupported state version",
                format!("immutable_fleet has no upgrader from schema version {from_version}."),
            );
            return Value::Null;
        }
        let ty = self.schema().block.implied_type();
        match tfplugin_cty::json::decode(raw.to_string().as_bytes(), &ty) {
            Ok(state) => state,
            Err(e) => {
                diagnostics.error("Invalid stored state", e.to_string());
                Value::Null
            }
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
                if let Some(problem) = observed.import_problem() {
                    diagnostics.error(
                        "Cannot import fleet",
                        format!("Auto Scaling group {id:?} {problem}"),
                    );
                    return Value::Null;
                }
                if let Some(problem) = not_current(&clients, id, &observed).await {
                    diagnostics.error("Cannot import fleet", problem);
                    return Value::Null;
                }
                let marked = if observed.is_fleet_generation() {
                    aws::mark_serving(&clients, id).await
                } else {
                    aws::adopt_foreign_group(&clients, id).await
                };
                if let Err(e) = marked {
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

/// Records in `state` what a refresh finds of the fleet beyond its current generation:
/// leftovers (removed by the next apply) and other serving generations (a warning each).
async fn survey(
    clients: &AwsClients,
    fleet: &str,
    current: &str,
    current_template: Option<&str>,
    state: &mut Value,
    diagnostics: &mut Diagnostics,
) {
    let found = match inventory::inventory_for_refresh(clients, fleet).await {
        Ok(found) => found.survey(current, current_template),
        Err(e) => {
            diagnostics.warning(
                format!("Fleet {fleet}: leftovers not checked"),
                format!("Listing the fleet's generations failed: {e}"),
            );
            return;
        }
    };
    let leftovers = if found.leftovers.is_empty() {
        Value::Null
    } else {
        tracing::warn!(
            fleet,
            leftovers = ?found.leftovers,
            "found what an interrupted rollout left behind; the next apply removes it"
        );
        string_set(found.leftovers)
    };
    set_attr(state, LEFTOVERS, leftovers);
    for other in &found.others_serving {
        diagnostics.warning(
            format!("Fleet {fleet}: another generation serves"),
            format!(
                "Auto Scaling group {} (generation {} of fleet {fleet}, in {}) passed its gate \
                 and may take traffic, but this resource holds {current}. Fleet names must be \
                 unique in an account and region. If {} was left by `terraform state rm` or an \
                 earlier configuration, remove it: destroying this fleet also deletes every \
                 older generation of {fleet}, or delete the group by hand. If another \
                 configuration manages it, give one of the two fleets another name.",
                other.name, other.generation, clients.region, other.name
            ),
        );
    }
}

/// Why `id` must not be imported: it is a generation of a fleet that has a newer serving one.
async fn not_current(
    clients: &AwsClients,
    id: &str,
    observed: &observe::Observed,
) -> Option<String> {
    let fleet = observed.fleet_name()?;
    let found = match inventory::inventory(clients, fleet).await {
        Ok(found) => found,
        Err(e) => return Some(e.to_string()),
    };
    let newest = found.newest_serving()?;
    (newest.name != id).then(|| {
        format!(
            "Auto Scaling group {id:?} is an older generation of fleet {fleet:?}; its newest \
             serving generation is {} (generation {}, in {}). Import that one instead: \
             terraform import <address> {}",
            newest.name, newest.generation, clients.region, newest.name
        )
    })
}

fn prepare(
    ctx: &Context,
    planned: &Value,
) -> Result<(std::sync::Arc<AwsClients>, FleetSpec), Diagnostics> {
    let clients = ctx.data::<AwsClients>()?;
    let spec = FleetSpec::from_value(planned)?;
    Ok((clients, spec))
}

/// The computed attribute listing what interrupted rollouts left behind.
const LEFTOVERS: &str = "leftovers";

/// Path helper for diagnostics.
pub(crate) fn at(name: &str) -> Path {
    Path::root().attr(name)
}
