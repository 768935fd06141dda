//! The contracts a provider and its resources implement, free of any protocol types.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use tfplugin_cty::{Path, Value};
use tokio_util::sync::CancellationToken;

use super::diagnostics::Diagnostics;
use super::schema::Schema;

/// Whatever `Provider::configure` builds (API clients); handed to every resource call.
pub type ProviderData = Arc<dyn Any + Send + Sync>;

/// Per-call context of a resource operation.
#[derive(Clone)]
pub struct Context {
    provider_data: Option<ProviderData>,
    /// Cancelled when Terraform calls Stop (Ctrl-C): long waits must give up promptly.
    pub stop: CancellationToken,
}

impl Context {
    pub fn new(provider_data: Option<ProviderData>, stop: CancellationToken) -> Self {
        Self {
            provider_data,
            stop,
        }
    }

    /// The configured provider data, or an error diagnostic when Configure has not run.
    pub fn data<T: Any + Send + Sync>(&self) -> Result<Arc<T>, Diagnostics> {
        self.provider_data
            .clone()
            .and_then(|d| d.downcast::<T>().ok())
            .ok_or_else(|| {
                let mut diags = Diagnostics::new();
                diags.error(
                    "Provider not configured",
                    "The provider was used before Terraform configured it. This is a bug in \
                     the provider or in the client calling it.",
                );
                diags
            })
    }
}

/// Inputs and outputs of `Resource::modify_plan`, after the generic pipeline ran.
pub struct PlanContext<'a> {
    pub prior: &'a Value,
    pub config: &'a Value,
    pub planned: &'a mut Value,
    pub requires_replace: &'a mut Vec<Path>,
    pub diagnostics: &'a mut Diagnostics,
}

impl PlanContext<'_> {
    pub fn creating(&self) -> bool {
        self.prior.is_null()
    }
}

#[async_trait]
pub trait Resource: Send + Sync {
    /// Full type name, e.g. `immutable_fleet`.
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks the configuration (which may hold unknowns) and reports problems by path.
    fn validate(&self, _config: &Value, _diagnostics: &mut Diagnostics) {}

    /// Resource-specific planning after defaults, unknown-marking and modifiers.
    fn modify_plan(&self, _plan: &mut PlanContext<'_>) {}

    /// Creates the object. On failure, return `Value::Null` together with error diagnostics
    /// only if nothing was left behind; otherwise return the partial state.
    async fn create(&self, ctx: &Context, planned: &Value, diagnostics: &mut Diagnostics) -> Value;

    /// Refreshes the state from the real world; `Value::Null` means it is gone.
    async fn read(&self, ctx: &Context, state: &Value, diagnostics: &mut Diagnostics) -> Value;

    /// Applies an in-place change; returns the new state (the prior one on failure).
    async fn update(
        &self,
        ctx: &Context,
        prior: &Value,
        planned: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Value;

    async fn delete(&self, ctx: &Context, prior: &Value, diagnostics: &mut Diagnostics);

    /// Builds a full state from an import ID; `Value::Null` plus diagnostics on failure.
    async fn import(&self, _ctx: &Context, _id: &str, diagnostics: &mut Diagnostics) -> Value {
        diagnostics.error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        );
        Value::Null
    }

    /// Rewrites a state stored under an older schema version (as JSON) to the current one.
    ///
    /// Every change to a resource's schema bumps `Schema::version`. Called only with
    /// `from_version` below the current version: the framework decodes current-version states
    /// itself, refuses newer ones, and checks that the result fits the current schema and is
    /// wholly known.
    ///
    /// The default handles additive changes: it decodes `raw` against the current schema, so
    /// attributes added since `from_version` come out null (list and set blocks empty). A state that does not decode (an
    /// attribute removed or renamed, a type changed) is an error diagnostic naming the
    /// resource type, both versions and the offending attribute. Override this only for such
    /// non-additive changes (CHANGELOG.md, "Versioning").
    fn upgrade_state(
        &self,
        from_version: i64,
        raw: &serde_json::Value,
        diagnostics: &mut Diagnostics,
    ) -> Value {
        let schema = self.schema();
        let ty = schema.block.implied_type();
        match tfplugin_cty::json::decode(raw.to_string().as_bytes(), &ty) {
            Ok(mut state) => {
                // A block added since is absent, not null: an empty list or set.
                schema.block.fill_absent_blocks(&mut state);
                state
            }
            Err(e) => {
                // The byte offset is left out: it points into re-serialised JSON, not the
                // stored state.
                let at = if e.path().is_root() {
                    String::new()
                } else {
                    format!("at {}: ", e.path())
                };
                diagnostics.error(
                    "Unsupported state version",
                    format!(
                        "{} has no upgrader from schema version {from_version} to {}, and the \
                         stored state does not decode against the current schema ({at}{}). \
                         Only added attributes upgrade without one; this change needs an \
                         upgrader in the provider.",
                        self.type_name(),
                        schema.version,
                        e.message()
                    ),
                );
                Value::Null
            }
        }
    }
}

#[async_trait]
pub trait Provider: Send + Sync {
    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value, _diagnostics: &mut Diagnostics) {}

    /// Builds the clients resources use. May see unknown values during plan.
    async fn configure(
        &self,
        config: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<ProviderData>;

    fn resources(&self) -> Vec<Arc<dyn Resource>>;
}
