//! The protocol-free provider server: what each RPC means, in terms of values and
//! diagnostics. The gRPC adapter only converts wire types to and from these calls.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use tfplugin_cty::Value;
use tokio_util::sync::CancellationToken;

use super::diagnostics::Diagnostics;
use super::plan::{self, PlannedChange};
use super::resource::{Context, PlanContext, Provider, ProviderData, Resource};
use super::schema::Schema;

pub struct FrameworkServer {
    provider: Arc<dyn Provider>,
    resources: BTreeMap<&'static str, Arc<dyn Resource>>,
    provider_data: RwLock<Option<ProviderData>>,
    stop: CancellationToken,
}

/// The new state of an apply, read or import, with its diagnostics.
pub struct StateResult {
    pub state: Value,
    pub diagnostics: Diagnostics,
}

impl FrameworkServer {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        Self {
            provider,
            resources,
            provider_data: RwLock::new(None),
            stop: CancellationToken::new(),
        }
    }

    pub fn provider_schema(&self) -> Schema {
        self.provider.schema()
    }

    pub fn resource_schemas(&self) -> BTreeMap<&'static str, Schema> {
        self.resources
            .iter()
            .map(|(name, r)| (*name, r.schema()))
            .collect()
    }

    /// The schema used to decode values of `type_name`, or an error diagnostic.
    pub fn resource_schema(&self, type_name: &str) -> Result<Schema, Diagnostics> {
        self.resource(type_name).map(|r| r.schema())
    }

    fn resource(&self, type_name: &str) -> Result<&Arc<dyn Resource>, Diagnostics> {
        self.resources.get(type_name).ok_or_else(|| {
            let mut d = Diagnostics::new();
            d.error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            );
            d
        })
    }

    fn context(&self) -> Context {
        let data = self
            .provider_data
            .read()
            .map_or(None, |guard| guard.clone());
        Context::new(data, self.stop.clone())
    }

    pub fn validate_provider_config(&self, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        self.provider.validate(config, &mut diagnostics);
        diagnostics
    }

    pub async fn configure(&self, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        let data = self.provider.configure(config, &mut diagnostics).await;
        if let Ok(mut slot) = self.provider_data.write() {
            *slot = data;
        }
        diagnostics
    }

    pub fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        let mut diagnostics = Diagnostics::new();
        match self.resource(type_name) {
            Ok(r) => r.validate(config, &mut diagnostics),
            Err(d) => diagnostics.extend(d),
        }
        diagnostics
    }

    /// Upgrades a stored state (JSON) to the current schema version.
    pub fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw_json: &[u8],
    ) -> StateResult {
        let mut diagnostics = Diagnostics::new();
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => return StateResult::failed(d),
        };
        let schema = resource.schema();
        let ty = schema.block.implied_type();
        if version > schema.version {
            diagnostics.error(
                "State written by a newer provider",
                format!(
                    "The state of this {type_name} has schema version {version}, but this \
                     provider only knows up to {}. Upgrade the provider.",
                    schema.version
                ),
            );
            return StateResult::failed(diagnostics);
        }
        if version == schema.version {
            return match tfplugin_cty::json::decode(raw_json, &ty) {
                Ok(state) => StateResult { state, diagnostics },
                Err(e) => {
                    diagnostics.error("Invalid stored state", e.to_string());
                    StateResult::failed(diagnostics)
                }
            };
        }
        let raw: serde_json::Value = match serde_json::from_slice(raw_json) {
            Ok(v) => v,
            Err(e) => {
                diagnostics.error("Invalid stored state", e.to_string());
                return StateResult::failed(diagnostics);
            }
        };
        let state = resource.upgrade_state(version, &raw, &mut diagnostics);
        StateResult { state, diagnostics }
    }

    pub async fn read_resource(&self, type_name: &str, state: &Value) -> StateResult {
        let mut diagnostics = Diagnostics::new();
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => {
                return StateResult {
                    state: state.clone(),
                    diagnostics: d,
                };
            }
        };
        if state.is_null() {
            return StateResult {
                state: Value::Null,
                diagnostics,
            };
        }
        let new_state = resource
            .read(&self.context(), state, &mut diagnostics)
            .await;
        StateResult {
            state: new_state,
            diagnostics,
        }
    }

    pub fn plan_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        proposed: &Value,
        config: &Value,
    ) -> (PlannedChange, Diagnostics) {
        let mut diagnostics = Diagnostics::new();
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => {
                let unchanged = PlannedChange {
                    planned: proposed.clone(),
                    requires_replace: Vec::new(),
                };
                return (unchanged, d);
            }
        };
        let schema = resource.schema();
        let mut change = plan::plan(&schema.block, prior, proposed, config);
        if !change.planned.is_null() {
            resource.validate(config, &mut diagnostics);
            let mut ctx = PlanContext {
                prior,
                config,
                planned: &mut change.planned,
                requires_replace: &mut change.requires_replace,
                diagnostics: &mut diagnostics,
            };
            resource.modify_plan(&mut ctx);
            change.requires_replace.sort();
            change.requires_replace.dedup();
        }
        (change, diagnostics)
    }

    pub async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: &Value,
        planned: &Value,
    ) -> StateResult {
        let mut diagnostics = Diagnostics::new();
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => {
                return StateResult {
                    state: prior.clone(),
                    diagnostics: d,
                };
            }
        };
        let ctx = self.context();
        if planned.is_null() {
            resource.delete(&ctx, prior, &mut diagnostics).await;
            let state = if diagnostics.has_error() {
                prior.clone()
            } else {
                Value::Null
            };
            return StateResult { state, diagnostics };
        }
        let state = if prior.is_null() {
            resource.create(&ctx, planned, &mut diagnostics).await
        } else {
            resource
                .update(&ctx, prior, planned, &mut diagnostics)
                .await
        };
        if !diagnostics.has_error() {
            let problems = plan::inconsistencies(planned, &state);
            if !problems.is_empty() {
                diagnostics.error(
                    "Provider produced an inconsistent result (provider bug)",
                    format!(
                        "{type_name} returned a state that breaks its own plan: {}. Please \
                         report this to the provider's maintainers.",
                        problems.join("; ")
                    ),
                );
            }
        }
        StateResult { state, diagnostics }
    }

    pub async fn import_resource_state(&self, type_name: &str, id: &str) -> StateResult {
        let mut diagnostics = Diagnostics::new();
        let resource = match self.resource(type_name) {
            Ok(r) => r,
            Err(d) => return StateResult::failed(d),
        };
        let state = resource.import(&self.context(), id, &mut diagnostics).await;
        StateResult { state, diagnostics }
    }

    /// Terraform's Stop (Ctrl-C): every in-flight and later operation sees the cancellation.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl StateResult {
    fn failed(diagnostics: Diagnostics) -> Self {
        Self {
            state: Value::Null,
            diagnostics,
        }
    }
}
