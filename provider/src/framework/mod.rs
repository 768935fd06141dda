//! A small, protocol-free provider framework (the ideas of HashiCorp's
//! terraform-plugin-framework): schemas, plan modifiers, diagnostics with attribute paths,
//! and the resource lifecycle. Nothing here knows about gRPC or msgpack.

pub mod diagnostics;
pub mod duration;
pub mod plan;
pub mod plan_modifier;
pub mod resource;
pub mod schema;
pub mod server;
pub mod value;

pub use diagnostics::{Diagnostic, Diagnostics, Severity};
pub use plan_modifier::PlanModifier;
pub use resource::{Context, PlanContext, Provider, ProviderData, Resource};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use server::FrameworkServer;
pub use tfplugin_cty::{Path, Type, Value};
