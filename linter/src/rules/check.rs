//! What a rule is: the hooks the linter calls, and what they see besides the plan.

use crate::catalog::{Catalog, TypeInfo};
use crate::config_resource::ConfigResource;
use crate::finding::Finding;
use crate::plan::{Mode, Plan, ResourceChange};
use crate::registry::RuleInfo;

/// What rules see besides the plan.
pub struct Context<'c> {
    pub catalog: &'c Catalog,
    /// `--strict`: any update of an instance-bearing resource is a finding.
    pub strict: bool,
}

impl Context<'_> {
    /// The catalogue entry of a managed resource, if it is catalogued.
    pub fn type_info(&self, rc: &ResourceChange<'_>) -> Option<&TypeInfo> {
        if rc.mode == Mode::Managed {
            self.catalog.get(&rc.type_name)
        } else {
            None
        }
    }
}

/// A check. Each hook defaults to doing nothing.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;

    /// Called for every entry of `resource_changes`.
    fn check_change(&self, _ctx: &Context<'_>, _rc: &ResourceChange<'_>, _out: &mut Vec<Finding>) {}

    /// Called for every entry of `resource_drift`.
    fn check_drift(&self, _ctx: &Context<'_>, _rc: &ResourceChange<'_>, _out: &mut Vec<Finding>) {}

    /// Called once per plan, for rules that read `configuration`.
    fn check_plan(&self, _ctx: &Context<'_>, _plan: &Plan<'_>, _out: &mut Vec<Finding>) {}

    /// Called for every `resource` block in configuration mode (`immutable-lint DIR`), for
    /// rules that have a configuration form (their docs say which).
    fn check_config(
        &self,
        _ctx: &Context<'_>,
        _resource: &ConfigResource,
        _out: &mut Vec<Finding>,
    ) {
    }
}
