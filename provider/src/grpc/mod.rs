//! The tfplugin5 gRPC adapter: each RPC decodes its request, calls the framework server and
//! encodes the answer. Problems travel as diagnostics in a normal response; a gRPC error is
//! reserved for transport faults (and for RPCs this provider does not implement, which the
//! generated default stubs answer with Unimplemented).

mod convert;

use std::sync::Arc;

use tfplugin_cty::{Type, Value};
use tfplugin_proto::tfplugin5 as pb;
use tfplugin_proto::tfplugin5::provider_server::Provider as ProviderRpc;
use tonic::{Request, Response, Status};

use crate::framework::{Diagnostics, FrameworkServer, Provider};

pub use convert::{decode, encode};

pub struct ProviderService {
    server: Arc<FrameworkServer>,
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self {
            server: Arc::new(FrameworkServer::new(provider)),
        }
    }

    fn resource_type(&self, type_name: &str) -> Result<Type, Diagnostics> {
        self.server
            .resource_schema(type_name)
            .map(|s| s.block.implied_type())
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

/// Encodes a state, or adds the encoding failure to `diagnostics`.
fn encode_into(
    value: &Value,
    ty: &Type,
    diagnostics: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match encode(value, ty) {
        Ok(dv) => Some(dv),
        Err(d) => {
            diagnostics.extend(d);
            None
        }
    }
}

/// This provider has no data sources; Terraform only asks when a configuration names one.
fn unknown_data_source(type_name: &str) -> Vec<pb::Diagnostic> {
    let mut diagnostics = Diagnostics::new();
    diagnostics.error(
        "Unknown data source",
        format!("This provider has no data source {type_name:?}."),
    );
    convert::diagnostics(&diagnostics)
}

#[tonic::async_trait]
impl ProviderRpc for ProviderService {
    async fn get_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> RpcResult<pb::get_provider_schema::Response> {
        let resource_schemas = self
            .server
            .resource_schemas()
            .iter()
            .map(|(name, schema)| ((*name).to_owned(), convert::schema(schema)))
            .collect();
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(convert::schema(&self.server.provider_schema())),
            resource_schemas,
            provider_meta: Some(convert::schema(&crate::framework::Schema {
                version: 0,
                block: crate::framework::Block::default(),
            })),
            server_capabilities: Some(pb::ServerCapabilities {
                plan_destroy: false,
                get_provider_schema_optional: false,
                move_resource_state: false,
                generate_resource_config: false,
            }),
            ..Default::default()
        }))
    }

    async fn prepare_provider_config(
        &self,
        request: Request<pb::prepare_provider_config::Request>,
    ) -> RpcResult<pb::prepare_provider_config::Response> {
        let request = request.into_inner();
        let ty = self.server.provider_schema().block.implied_type();
        let mut diagnostics = Diagnostics::new();
        let config = match decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => {
                diagnostics.extend(self.server.validate_provider_config(&config));
                config
            }
            Err(d) => {
                diagnostics.extend(d);
                Value::Null
            }
        };
        let prepared_config = encode_into(&config, &ty, &mut diagnostics);
        Ok(Response::new(pb::prepare_provider_config::Response {
            prepared_config,
            diagnostics: convert::diagnostics(&diagnostics),
        }))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn validate_resource_type_config(
        &self,
        request: Request<pb::validate_resource_type_config::Request>,
    ) -> RpcResult<pb::validate_resource_type_config::Response> {
        let request = request.into_inner();
        let diagnostics = match self
            .resource_type(&request.type_name)
            .and_then(|ty| decode(request.config.as_ref(), &ty, "configuration"))
        {
            Ok(config) => self
                .server
                .validate_resource_config(&request.type_name, &config),
            Err(d) => d,
        };
        Ok(Response::new(pb::validate_resource_type_config::Response {
            diagnostics: convert::diagnostics(&diagnostics),
        }))
    }

    async fn validate_data_source_config(
        &self,
        request: Request<pb::validate_data_source_config::Request>,
    ) -> RpcResult<pb::validate_data_source_config::Response> {
        Ok(Response::new(pb::validate_data_source_config::Response {
            diagnostics: unknown_data_source(&request.get_ref().type_name),
        }))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> RpcResult<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let mut diagnostics = Diagnostics::new();
        let upgraded_state = match self.resource_type(&request.type_name) {
            Ok(ty) => {
                let raw = request.raw_state.unwrap_or_default();
                if raw.json.is_empty() && !raw.flatmap.is_empty() {
                    diagnostics.error(
                        "Unsupported state format",
                        "This state was written in Terraform's pre-0.12 flatmap format, which \
                         this provider never produced. Re-import the resource.",
                    );
                    None
                } else {
                    let result = self.server.upgrade_resource_state(
                        &request.type_name,
                        request.version,
                        &raw.json,
                    );
                    diagnostics.extend(result.diagnostics);
                    encode_into(&result.state, &ty, &mut diagnostics)
                }
            }
            Err(d) => {
                diagnostics.extend(d);
                None
            }
        };
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: convert::diagnostics(&diagnostics),
        }))
    }

    async fn configure(
        &self,
        request: Request<pb::configure::Request>,
    ) -> RpcResult<pb::configure::Response> {
        let request = request.into_inner();
        tracing::info!(terraform_version = %request.terraform_version, "configuring provider");
        let ty = self.server.provider_schema().block.implied_type();
        let diagnostics = match decode(request.config.as_ref(), &ty, "provider configuration") {
            Ok(config) => self.server.configure(&config).await,
            Err(d) => d,
        };
        Ok(Response::new(pb::configure::Response {
            diagnostics: convert::diagnostics(&diagnostics),
        }))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> RpcResult<pb::read_resource::Response> {
        let request = request.into_inner();
        let mut diagnostics = Diagnostics::new();
        let mut new_state = request.current_state.clone();
        match self.resource_type(&request.type_name).and_then(|ty| {
            decode(request.current_state.as_ref(), &ty, "state").map(|state| (ty, state))
        }) {
            Ok((ty, state)) => {
                let result = self.server.read_resource(&request.type_name, &state).await;
                diagnostics.extend(result.diagnostics);
                if let Some(encoded) = encode_into(&result.state, &ty, &mut diagnostics) {
                    new_state = Some(encoded);
                }
            }
            Err(d) => diagnostics.extend(d),
        }
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: convert::diagnostics(&diagnostics),
            private: request.private,
            ..Default::default()
        }))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> RpcResult<pb::plan_resource_change::Response> {
        let request = request.into_inner();
        let mut diagnostics = Diagnostics::new();
        let mut response = pb::plan_resource_change::Response {
            planned_state: request.proposed_new_state.clone(),
            planned_private: request.prior_private.clone(),
            ..Default::default()
        };
        let decoded = self.resource_type(&request.type_name).and_then(|ty| {
            let prior = decode(request.prior_state.as_ref(), &ty, "prior state")?;
            let proposed = decode(request.proposed_new_state.as_ref(), &ty, "proposed state")?;
            let config = decode(request.config.as_ref(), &ty, "configuration")?;
            Ok((ty, prior, proposed, config))
        });
        match decoded {
            Ok((ty, prior, proposed, config)) => {
                let (change, plan_diagnostics) = self.server.plan_resource_change(
                    &request.type_name,
                    &prior,
                    &proposed,
                    &config,
                );
                diagnostics.extend(plan_diagnostics);
                if let Some(planned) = encode_into(&change.planned, &ty, &mut diagnostics) {
                    response.planned_state = Some(planned);
                }
                response.requires_replace =
                    change.requires_replace.iter().map(convert::path).collect();
            }
            Err(d) => diagnostics.extend(d),
        }
        response.diagnostics = convert::diagnostics(&diagnostics);
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> RpcResult<pb::apply_resource_change::Response> {
        let request = request.into_inner();
        let mut diagnostics = Diagnostics::new();
        let mut new_state = request.prior_state.clone();
        let decoded = self.resource_type(&request.type_name).and_then(|ty| {
            let prior = decode(request.prior_state.as_ref(), &ty, "prior state")?;
            let planned = decode(request.planned_state.as_ref(), &ty, "planned state")?;
            Ok((ty, prior, planned))
        });
        match decoded {
            Ok((ty, prior, planned)) => {
                let result = self
                    .server
                    .apply_resource_change(&request.type_name, &prior, &planned)
                    .await;
                diagnostics.extend(result.diagnostics);
                new_state = encode_into(&result.state, &ty, &mut diagnostics).or(new_state);
            }
            Err(d) => diagnostics.extend(d),
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: request.planned_private,
            diagnostics: convert::diagnostics(&diagnostics),
            ..Default::default()
        }))
    }

    #[tracing::instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> RpcResult<pb::import_resource_state::Response> {
        let request = request.into_inner();
        let mut diagnostics = Diagnostics::new();
        let mut imported_resources = Vec::new();
        match self.resource_type(&request.type_name) {
            Ok(ty) => {
                let result = self
                    .server
                    .import_resource_state(&request.type_name, &request.id)
                    .await;
                diagnostics.extend(result.diagnostics);
                if !result.state.is_null()
                    && let Some(state) = encode_into(&result.state, &ty, &mut diagnostics)
                {
                    imported_resources.push(pb::import_resource_state::ImportedResource {
                        type_name: request.type_name.clone(),
                        state: Some(state),
                        ..Default::default()
                    });
                }
            }
            Err(d) => diagnostics.extend(d),
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: convert::diagnostics(&diagnostics),
            ..Default::default()
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> RpcResult<pb::read_data_source::Response> {
        Ok(Response::new(pb::read_data_source::Response {
            diagnostics: unknown_data_source(&request.get_ref().type_name),
            ..Default::default()
        }))
    }

    async fn stop(&self, _request: Request<pb::stop::Request>) -> RpcResult<pb::stop::Response> {
        tracing::info!("Stop requested: cancelling in-flight operations");
        self.server.stop();
        Ok(Response::new(pb::stop::Response::default()))
    }
}
