//! What the files of a module declare, before evaluation: module calls and their arguments.

use hcl_edit::expr::Expression;
use serde_json::Value;

pub(super) const MAX_MODULE_DEPTH: usize = 32;

/// Arguments of a resource block that are Terraform's, not the provider's.
pub(super) const RESOURCE_META: &[&str] = &["count", "for_each", "depends_on", "provider"];
/// Arguments of a module block that are not input variables.
pub(super) const MODULE_META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// A module call found in a file.
pub(super) struct ModuleCall<'a> {
    pub(super) name: String,
    pub(super) source: Option<String>,
    pub(super) args: Vec<(String, ArgDef<'a>)>,
}

#[derive(Clone, Copy)]
pub(super) enum ArgDef<'a> {
    Hcl(&'a Expression),
    Json(&'a Value),
}
