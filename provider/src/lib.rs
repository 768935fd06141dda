//! `terraform-provider-immutable`: a Terraform/OpenTofu provider (plugin protocol 5) whose
//! `immutable_fleet` is replaced, never changed in place, behind a health gate.
//!
//! Layers, outermost first: `grpc` (wire adapter: protobuf and msgpack in, framework calls
//! out), `framework` (protocol-free schemas, planning, diagnostics), `resources` (what each
//! resource means), `aws` (SDK clients and errors). The go-plugin transport lives in the
//! `tfplugin-server` crate.

pub mod aws;
pub mod docs;
pub mod framework;
pub mod grpc;
pub mod provider;
pub mod resources;

use std::sync::Arc;

/// The provider's gRPC service, ready for `tfplugin_server::serve`.
pub fn provider_service() -> grpc::ProviderService {
    grpc::ProviderService::new(Arc::new(provider::ImmutableProvider::default()))
}
