//! Generates the tonic/prost code for Terraform's protocol 5 and go-plugin's
//! helper services. Clients are generated too: the provider's in-process
//! tests drive the Provider service through them, and one feature set keeps
//! this crate compiled once instead of twice.

use std::path::PathBuf;

const PROTOS: [&str; 4] = [
    "proto/tfplugin5.proto",
    "proto/grpc_controller.proto",
    "proto/grpc_stdio.proto",
    "proto/grpc_broker.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Explicit per-file triggers: without any, cargo reruns this script on
    // every change in the package.
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    // Vendored protoc and its well-known-type includes, so no system protoc
    // is needed; passed through the config rather than the PROTOC env var.
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let well_known: PathBuf = protoc_bin_vendored::include_path()?;

    let includes = [PathBuf::from("proto"), well_known];
    let protos = PROTOS.map(PathBuf::from);

    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Every RPC the provider does not override answers Unimplemented,
        // which Terraform treats as "not supported" for optional RPCs.
        .generate_default_stubs(true)
        // tfplugin5 uses proto3 `optional`; older bundled protoc needs the flag.
        .protoc_arg("--experimental_allow_proto3_optional")
        .emit_rerun_if_changed(false)
        .compile_with_config(config, &protos, &includes)?;
    Ok(())
}
