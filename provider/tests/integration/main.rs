//! In-process gRPC tests of every tfplugin5 RPC the provider implements: a real tonic server
//! on a loopback port, the generated client, and moto (one server for this test binary) as
//! AWS. Terraform itself is exercised end to end in the `e2e` crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::unused_self,
    clippy::default_trait_access
)]

mod docs;
mod fixture;
mod group_reader;
mod lifecycle;
mod parking_and_alarms;
mod plan_validity;
mod planning;
mod schema_and_validation;
mod tick_reader;
