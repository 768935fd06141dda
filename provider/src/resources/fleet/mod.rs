//! `immutable_fleet`: an EC2 fleet (launch template + Auto Scaling group) that is never
//! changed in place.
//!
//! Everything baked into an instance forces a replacement: a new *generation* (its own
//! launch template and ASG, named `<name>-g<generation>`) is created, must pass the health
//! gate, and only then does Terraform destroy the old one (with
//! `lifecycle { create_before_destroy = true }`). A generation that fails its gate is
//! deleted again and the old fleet keeps serving. Capacity, tags and gate settings change
//! in place, because scaling mutates no instance.
//!
//! This file is the Resource implementation: it turns each Terraform call into the fleet's
//! own operations. Imports run one way: this file → `rollout` → `gate`, `group`,
//! `launch_template`, `teardown` → `inventory` → `spec`, `state`, `schema`; nothing below
//! imports upward, and `crate::aws` knows no fleet.

mod canary;
mod claims;
mod failure;
mod gate;
mod group;
mod group_settings;
mod group_spec;
mod inventory;
mod launch_spec;
mod launch_template;
mod observe;
mod park;
mod rollout;
mod rollout_spec;
mod schema;
mod spec;
mod state;
mod teardown;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin_cty::{Path, Value};

use self::failure::duplicate_name_detail;
use self::launch_spec::MetadataOptions;
use self::schema::{DESIRED_CAPACITY, LEFTOVERS, MAX_SIZE, METADATA_OPTIONS, MIN_SIZE, NAME, at};
use self::state::{FleetState, MetadataOptionsBlock};
use super::Configured;
use crate::aws::AwsClients;
use crate::framework::value::{ObjectExt, attr_mut};
use crate::framework::{Context, Diagnostics, PlanContext, Resource, Schema};

pub use self::claims::Claims;
pub use self::spec::{FleetSpec, HealthCheck, TAG_FLEET};

pub struct Fleet;

#[async_trait]
impl Resource for Fleet {
    fn type_name(&self) -> &'static str {
        "immutable_fleet"
    }

    fn schema(&self) -> Schema {
        schema::schema()
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
        keep_equivalent_metadata_options(plan);
        if plan.creating() || !plan.config.attr(DESIRED_CAPACITY).is_null() {
            return;
        }
        let renamed = plan.planned.attr(NAME) != plan.prior.attr(NAME);
        if renamed && !plan.requires_replace.is_empty() {
            let replaced: Vec<String> = plan
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect();
            plan.diagnostics.attribute_error(
                at(NAME),
                "Rename and replacement in one apply",
                format!(
                    "This plan renames the fleet from {} to {} and also rolls out a new \
                     generation ({} changed). With `desired_capacity` unset the new generation \
                     starts at its predecessor's live capacity, found under the fleet's name; \
                     a rename in the same apply would start it at `min_size` and shrink the \
                     fleet. Apply the rename alone first (it changes tags only), then the \
                     other change; or set `desired_capacity`.",
                    plan.prior.string(NAME).unwrap_or_default(),
                    plan.planned.string(NAME).unwrap_or_default(),
                    replaced.join(", ")
                ),
            );
            return;
        }
        // Unset desired capacity belongs to the autoscaler. Keep the refreshed value unless
        // new bounds make AWS move it; then it is known only after apply.
        let bounds_changed = plan.planned.attr(MIN_SIZE) != plan.prior.attr(MIN_SIZE)
            || plan.planned.attr(MAX_SIZE) != plan.prior.attr(MAX_SIZE);
        let value = if bounds_changed {
            Value::unknown()
        } else {
            plan.prior.attr(DESIRED_CAPACITY).clone()
        };
        if let Some(slot) = attr_mut(plan.planned, DESIRED_CAPACITY) {
            *slot = value;
        }
    }

    async fn create(&self, ctx: &Context, planned: &Value, diagnostics: &mut Diagnostics) -> Value {
        let (configured, planned, spec) = match prepare(ctx, planned) {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return Value::Null;
            }
        };
        let clients = &configured.aws;
        if !configured.claims.claim(&spec.name) {
            diagnostics.attribute_error(
                at(NAME),
                "Duplicate fleet name",
                duplicate_name_detail(&spec.name),
            );
            return Value::Null;
        }
        match rollout::create_generation(clients, &spec, &ctx.stop).await {
            Ok(created) => created.into_state(planned, &spec).to_value(),
            Err(failure) => {
                if failure.left_nothing() {
                    configured.claims.release(&spec.name);
                }
                diagnostics.error(failure.summary(&spec.name), failure.detail());
                Value::Null
            }
        }
    }

    async fn read(&self, ctx: &Context, state: &Value, diagnostics: &mut Diagnostics) -> Value {
        let (configured, prior) = match with_state(ctx, state) {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return state.clone();
            }
        };
        let clients = &configured.aws;
        let Some(asg_name) = prior.id.as_deref() else {
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
            observed = observe::observe(
                clients,
                asg_name,
                prior.launch_template_id.as_deref(),
                observe::Reads::for_state(&prior),
            ) => {
                observed
            }
        };
        match observed {
            Ok(Some(observed)) => {
                let mut refreshed = observed.refresh(&prior);
                survey(clients, asg_name, &mut refreshed, diagnostics).await;
                refreshed.to_value()
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
        let prepared = prepare(ctx, planned).and_then(|(configured, planned, spec)| {
            Ok((configured, planned, spec, FleetState::from_value(prior)?))
        });
        let (configured, mut planned, mut spec, prior_state) = match prepared {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return prior.clone();
            }
        };
        let clients = &configured.aws;
        // A desired capacity the plan does not change is not pushed: it is the value read at
        // refresh, and the autoscaler may have moved it since (a saved plan applied later
        // would otherwise shrink the fleet at peak).
        if planned.desired_capacity == prior_state.desired_capacity {
            spec.desired_capacity = None;
        }
        let Some(asg_name) = prior_state.id.as_deref() else {
            diagnostics.error(
                "Fleet state has no id",
                "The prior state is incomplete; re-import the fleet.",
            );
            return prior.clone();
        };
        if prior_state.leftovers.is_some()
            && let Err(e) = teardown::remove_fleet_leftovers(clients, &spec.name, None).await
        {
            diagnostics.error(
                format!("Fleet {}: leftovers not removed", spec.name),
                format!("Removing what an interrupted rollout left behind failed: {e}"),
            );
            return prior.clone();
        }
        if prior_state.name != spec.name
            && let Err(failure) = rollout::rename(clients, &prior_state, &spec.name).await
        {
            diagnostics.attribute_error(
                at(NAME),
                failure.summary(&prior_state.name),
                failure.detail(),
            );
            return prior.clone();
        }
        match rollout::update_in_place(clients, asg_name, &prior_state, &spec, &ctx.stop).await {
            Ok(desired) => {
                // Only an unknown plan takes the live value: a known one was either set by
                // the configuration (and applied exactly) or kept from the refresh, and
                // Terraform requires the result to match it.
                planned.desired_capacity.get_or_insert(i64::from(desired));
                planned.to_value()
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
        let (configured, prior) = match with_state(ctx, prior) {
            Ok(ok) => ok,
            Err(d) => {
                diagnostics.extend(d);
                return;
            }
        };
        let clients = &configured.aws;
        let asg_name = prior.id.as_deref().unwrap_or_default();
        // A generation the rollout that replaced it parked is Terraform's deposed object
        // here: it stays for its window (the next apply after it removes it).
        let found = park::rollout_of(clients, asg_name).await;
        if let Ok(Some(rollout)) = found
            && rollout.parked_at(std::time::SystemTime::now())
        {
            tracing::info!(
                asg = asg_name,
                "kept parked generation for a rollback ({})",
                rollout.tag_value()
            );
            return;
        }
        let hooks = teardown::Hooks::of(
            prior
                .lifecycle_hook
                .iter()
                .any(|h| h.transition == "terminating"),
        );
        // Generation 0 is a group imported from outside (migration): its launch template is
        // the user's and may be shared with other groups, so it stays.
        let result = if prior.generation == Some(0) {
            teardown::delete_group(clients, asg_name, hooks, &ctx.stop)
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
            let template_id = prior.launch_template_id.as_deref();
            teardown::delete_generation(clients, asg_name, template_id, hooks, &ctx.stop).await
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
        let fleet = &prior.name;
        // Older serving generations are strays only when this delete removed the one that
        // served: one already gone was retired by a rollback to a parked generation, which
        // may be older.
        let deleted = match found {
            Ok(None) => None,
            _ => prior.generation,
        };
        if let Err(e) = teardown::remove_fleet_leftovers(clients, fleet, deleted).await {
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
        let configured = match ctx.data::<Configured>() {
            Ok(c) => c,
            Err(d) => {
                diagnostics.extend(d);
                return Value::Null;
            }
        };
        let clients = &configured.aws;
        match observe::observe(clients, id, None, observe::Reads::ALL).await {
            Ok(Some(observed)) => {
                if let Some(problem) = observed.import_problem() {
                    diagnostics.error(
                        "Cannot import fleet",
                        format!("Auto Scaling group {id:?} {problem}"),
                    );
                    return Value::Null;
                }
                if let Some(problem) = not_current(clients, id, &observed).await {
                    diagnostics.error("Cannot import fleet", problem);
                    return Value::Null;
                }
                let marked = if observed.is_fleet_generation() {
                    group::mark_serving(clients, id).await
                } else {
                    group::adopt_foreign_group(clients, id).await
                };
                if let Err(e) = marked {
                    diagnostics.error("Cannot import fleet", e.to_string());
                    return Value::Null;
                }
                observed.imported().to_value()
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

/// A `metadata_options` block that spells out what the prior state's block (or its absence)
/// means already changes no template: written out or removed, it is an in-place update of
/// the state, not a new generation.
fn keep_equivalent_metadata_options(plan: &mut PlanContext<'_>) {
    let block = Path::root().attr(METADATA_OPTIONS);
    let is_metadata = |p: &Path| p.steps().starts_with(block.steps());
    if plan.creating() || !plan.requires_replace.iter().any(is_metadata) {
        return;
    }
    let planned = plan.planned.attr(METADATA_OPTIONS);
    if !planned.is_wholly_known() {
        return;
    }
    let prior = MetadataOptionsBlock::from_value(plan.prior.attr(METADATA_OPTIONS));
    let planned = MetadataOptionsBlock::from_value(planned);
    if MetadataOptions::from_block(prior.as_ref()) == MetadataOptions::from_block(planned.as_ref())
    {
        plan.requires_replace.retain(|p| !is_metadata(p));
    }
}

/// The configured clients and a prior state.
fn with_state(ctx: &Context, state: &Value) -> Result<(Arc<Configured>, FleetState), Diagnostics> {
    Ok((ctx.data::<Configured>()?, FleetState::from_value(state)?))
}

/// The configured clients, the planned state and the spec it describes.
fn prepare(
    ctx: &Context,
    planned: &Value,
) -> Result<(Arc<Configured>, FleetState, FleetSpec), Diagnostics> {
    let configured = ctx.data::<Configured>()?;
    let planned = FleetState::from_value(planned)?;
    let spec = FleetSpec::from_state(&planned)?;
    Ok((configured, planned, spec))
}

/// Records in `state` what a refresh finds of the fleet beyond its current generation
/// `current`: leftovers (removed by the next apply) and other serving generations (a warning
/// each).
async fn survey(
    clients: &AwsClients,
    current: &str,
    state: &mut FleetState,
    diagnostics: &mut Diagnostics,
) {
    let fleet = state.name.clone();
    let found = match inventory::inventory_for_refresh(clients, &fleet).await {
        Ok(found) => found.survey(current, state.launch_template_id.as_deref()),
        Err(e) => {
            diagnostics.warning(
                format!("Fleet {fleet}: leftovers not checked"),
                format!("Listing the fleet's generations failed: {e}"),
            );
            return;
        }
    };
    state.leftovers = if found.leftovers.is_empty() {
        None
    } else {
        tracing::warn!(
            fleet,
            leftovers = ?found.leftovers,
            "found what an interrupted rollout left behind; the next apply removes it"
        );
        Some(found.leftovers)
    };
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
