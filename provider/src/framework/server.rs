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
        if diagnostics.has_error() || state.is_null() {
            return StateResult { state, diagnostics };
        }
        // Terraform would reject a malformed result with a message naming neither the
        // resource nor the versions; say both, and that the upgrader is at fault.
        let problem = match state.conforms_to(&ty) {
            Err(e) => Some(e.to_string()),
            Ok(()) if !state.is_wholly_known() => Some("it holds unknown values".to_owned()),
            Ok(()) => None,
        };
        if let Some(problem) = problem {
            diagnostics.error(
                "Provider produced an invalid upgraded state (provider bug)",
                format!(
                    "Upgrading the state of this {type_name} from schema version {version} to {} \
                     produced a value that does not fit the schema: {problem}. Please report this \
                     to the provider's maintainers.",
                    schema.version
                ),
            );
            return StateResult::failed(diagnostics);
        }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use async_trait::async_trait;

    use super::*;
    use crate::framework::schema::{Attribute, Block};

    /// A resource at schema version 1 whose version 0 called `instance_size` `size`; with
    /// `broken`, its upgrader has a bug: it returns a string.
    struct Upgrading {
        type_name: &'static str,
        broken: bool,
    }

    /// A resource at schema version 1 that relies on the trait's default upgrader: its
    /// version 0 had no `instance_size`.
    struct Additive;

    fn schema_v1() -> Schema {
        Schema {
            version: 1,
            block: Block::new("test")
                .attribute(Attribute::string("id").computed())
                .attribute(Attribute::string("instance_size").required()),
        }
    }

    #[async_trait]
    impl Resource for Upgrading {
        fn type_name(&self) -> &'static str {
            self.type_name
        }
        fn schema(&self) -> Schema {
            schema_v1()
        }
        async fn create(&self, _: &Context, planned: &Value, _: &mut Diagnostics) -> Value {
            planned.clone()
        }
        async fn read(&self, _: &Context, state: &Value, _: &mut Diagnostics) -> Value {
            state.clone()
        }
        async fn update(
            &self,
            _: &Context,
            _: &Value,
            planned: &Value,
            _: &mut Diagnostics,
        ) -> Value {
            planned.clone()
        }
        async fn delete(&self, _: &Context, _: &Value, _: &mut Diagnostics) {}
        fn upgrade_state(
            &self,
            from_version: i64,
            raw: &serde_json::Value,
            diagnostics: &mut Diagnostics,
        ) -> Value {
            let text = |key: &str| raw[key].as_str().map_or(Value::Null, Value::string);
            if self.broken {
                Value::string("not an object")
            } else if from_version == 0 {
                Value::object([("id", text("id")), ("instance_size", text("size"))])
            } else {
                diagnostics.error("Unsupported state version", from_version.to_string());
                Value::Null
            }
        }
    }

    #[async_trait]
    impl Resource for Additive {
        fn type_name(&self) -> &'static str {
            "test_additive"
        }
        fn schema(&self) -> Schema {
            schema_v1()
        }
        async fn create(&self, _: &Context, planned: &Value, _: &mut Diagnostics) -> Value {
            planned.clone()
        }
        async fn read(&self, _: &Context, state: &Value, _: &mut Diagnostics) -> Value {
            state.clone()
        }
        async fn update(
            &self,
            _: &Context,
            _: &Value,
            planned: &Value,
            _: &mut Diagnostics,
        ) -> Value {
            planned.clone()
        }
        async fn delete(&self, _: &Context, _: &Value, _: &mut Diagnostics) {}
    }

    struct TestProvider;

    #[async_trait]
    impl Provider for TestProvider {
        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block::new("test provider"),
            }
        }
        async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<ProviderData> {
            None
        }
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![
                Arc::new(Upgrading {
                    type_name: "test_renamed",
                    broken: false,
                }),
                Arc::new(Upgrading {
                    type_name: "test_broken",
                    broken: true,
                }),
                Arc::new(Additive),
            ]
        }
    }

    fn server() -> FrameworkServer {
        FrameworkServer::new(Arc::new(TestProvider))
    }

    fn messages(diagnostics: &Diagnostics) -> String {
        diagnostics
            .iter()
            .map(|d| format!("{} / {}", d.summary, d.detail))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_version_0_state_is_upgraded_by_the_resource() {
        let result =
            server().upgrade_resource_state("test_renamed", 0, br#"{"id":"t-1","size":"large"}"#);
        assert!(
            result.diagnostics.is_empty(),
            "{}",
            messages(&result.diagnostics)
        );
        assert_eq!(result.state.get("id").and_then(Value::as_str), Some("t-1"));
        assert_eq!(
            result.state.get("instance_size").and_then(Value::as_str),
            Some("large")
        );
    }

    #[test]
    fn a_state_at_the_current_version_is_decoded_unchanged() {
        let result = server().upgrade_resource_state(
            "test_renamed",
            1,
            br#"{"id":"t-1","instance_size":"small"}"#,
        );
        assert!(
            result.diagnostics.is_empty(),
            "{}",
            messages(&result.diagnostics)
        );
        assert_eq!(
            result.state.get("instance_size").and_then(Value::as_str),
            Some("small")
        );
    }

    #[test]
    fn a_state_from_a_newer_schema_is_refused_naming_resource_and_versions() {
        let result = server().upgrade_resource_state("test_renamed", 2, br#"{"id":"t-1"}"#);
        assert!(result.state.is_null());
        let text = messages(&result.diagnostics);
        assert!(result.diagnostics.has_error(), "{text}");
        assert!(text.contains("State written by a newer provider"), "{text}");
        assert!(
            text.contains("test_renamed")
                && text.contains("schema version 2")
                && text.contains("up to 1"),
            "{text}"
        );
    }

    #[test]
    fn an_upgrader_result_that_does_not_fit_the_schema_is_a_provider_bug() {
        let result = server().upgrade_resource_state("test_broken", 0, br#"{"id":"t-1"}"#);
        assert!(result.state.is_null());
        let text = messages(&result.diagnostics);
        assert!(
            text.contains("invalid upgraded state (provider bug)"),
            "{text}"
        );
        assert!(
            text.contains("test_broken") && text.contains("from schema version 0 to 1"),
            "{text}"
        );
    }

    #[test]
    fn the_default_upgrader_decodes_an_older_state_with_added_attributes_as_null() {
        let result = server().upgrade_resource_state("test_additive", 0, br#"{"id":"t-1"}"#);
        assert!(
            result.diagnostics.is_empty(),
            "{}",
            messages(&result.diagnostics)
        );
        assert_eq!(
            result.state,
            Value::object([("id", Value::string("t-1")), ("instance_size", Value::Null)])
        );
    }

    #[test]
    fn the_default_upgrader_refuses_an_attribute_the_schema_lacks_by_name() {
        let result =
            server().upgrade_resource_state("test_additive", 0, br#"{"id":"t-1","size":"large"}"#);
        assert!(result.state.is_null());
        let text = messages(&result.diagnostics);
        assert!(result.diagnostics.has_error(), "{text}");
        assert!(
            text.contains("test_additive has no upgrader from schema version 0 to 1"),
            "{text}"
        );
        assert!(text.contains(r#"unsupported attribute "size""#), "{text}");
        assert!(text.contains("needs an upgrader"), "{text}");
    }

    #[test]
    fn the_default_upgrader_refuses_a_changed_type_by_path() {
        let result = server().upgrade_resource_state(
            "test_additive",
            0,
            br#"{"id":"t-1","instance_size":["large"]}"#,
        );
        assert!(result.state.is_null());
        let text = messages(&result.diagnostics);
        assert!(result.diagnostics.has_error(), "{text}");
        assert!(
            text.contains("test_additive has no upgrader from schema version 0 to 1"),
            "{text}"
        );
        assert!(text.contains("at instance_size: expected string"), "{text}");
    }

    #[test]
    fn the_default_upgrader_still_refuses_a_newer_state() {
        let result = server().upgrade_resource_state("test_additive", 2, br#"{"id":"t-1"}"#);
        assert!(result.state.is_null());
        let text = messages(&result.diagnostics);
        assert!(text.contains("State written by a newer provider"), "{text}");
        assert!(
            text.contains("test_additive")
                && text.contains("schema version 2")
                && text.contains("up to 1"),
            "{text}"
        );
    }
}
