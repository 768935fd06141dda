//! Generated gRPC types and service traits for the Terraform plugin protocol
//! 5 (`tfplugin5`) and go-plugin's controller, stdio and broker services
//! (`plugin`). Nothing but generated code lives here; conversions belong to
//! the provider crate.

/// Terraform plugin protocol 5 (`/tfplugin5.Provider/*`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin's `plugin` package: `GRPCController`, `GRPCStdio`, `GRPCBroker`.
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod plugin {
    tonic::include_proto!("plugin");
}
