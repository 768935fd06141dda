//! The generic planning pipeline every resource goes through before its own `modify_plan`.
//!
//! Terraform checks each planned state against strict rules (Terraform's
//! internal/plans/objchange/plan_valid.go): a value must equal the configuration, or the prior
//! state when both are set; only computed attributes may
//! differ from a null configuration; unknowns in the configuration stay unknown. The steps
//! below follow terraform-plugin-framework's order for the same reasons:
//! defaults → computed-and-unset becomes unknown (only when something changes) → modifiers
//! (`UseStateForUnknown`) → `RequiresReplace` paths.

use tfplugin_cty::{Path, Value};

use super::plan_modifier::PlanModifier;
use super::schema::{Block, Nesting};
use super::value::{ObjectExt, attr_mut};

/// The result of planning one resource instance.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedChange {
    pub planned: Value,
    /// Attribute paths whose change forces a replacement; sorted, no duplicates.
    pub requires_replace: Vec<Path>,
}

/// Plans `proposed` (Terraform's merge of prior state and configuration) against `block`.
pub fn plan(block: &Block, prior: &Value, proposed: &Value, config: &Value) -> PlannedChange {
    if proposed.is_null() {
        // Destroy: nothing to plan.
        return PlannedChange {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let creating = prior.is_null();
    let mut planned = proposed.clone();
    apply_defaults(block, config, &mut planned);
    if creating || planned != *prior {
        mark_computed_nulls_unknown(block, config, &mut planned);
    }
    let mut requires_replace = Vec::new();
    if !creating {
        apply_modifiers(
            block,
            &Path::root(),
            prior,
            config,
            &mut planned,
            &mut requires_replace,
        );
    }
    requires_replace.sort();
    requires_replace.dedup();
    PlannedChange {
        planned,
        requires_replace,
    }
}

/// Visits each nested-block object of `planned` paired with its configuration object.
/// Set-nested blocks are skipped: matching set elements to configuration needs Terraform's
/// heuristics, and no resource here uses them.
fn for_each_nested(
    block: &Block,
    config: &Value,
    planned: &mut Value,
    mut f: impl FnMut(&Block, &Value, &mut Value),
) {
    for nested in &block.blocks {
        let config_value = config.attr(&nested.name);
        let Some(planned_value) = attr_mut(planned, &nested.name) else {
            continue;
        };
        match (nested.nesting, planned_value) {
            (Nesting::Single | Nesting::Group, object @ Value::Object(_)) => {
                f(&nested.block, config_value, object);
            }
            (Nesting::List, Value::List(items)) => {
                let configs = config_value.elements().unwrap_or(&[]);
                for (i, item) in items.iter_mut().enumerate() {
                    let c = configs.get(i).unwrap_or(&Value::Null);
                    f(&nested.block, c, item);
                }
            }
            (Nesting::Map, Value::Map(items)) => {
                for (key, item) in items.iter_mut() {
                    let c = match config_value {
                        Value::Map(m) => m.get(key).unwrap_or(&Value::Null),
                        _ => &Value::Null,
                    };
                    f(&nested.block, c, item);
                }
            }
            _ => {}
        }
    }
}

fn apply_defaults(block: &Block, config: &Value, planned: &mut Value) {
    for a in &block.attributes {
        if let Some(default) = &a.default
            && config.attr(&a.name).is_null()
            && let Some(slot) = attr_mut(planned, &a.name)
        {
            *slot = default.clone();
        }
    }
    for_each_nested(block, config, planned, apply_defaults);
}

fn mark_computed_nulls_unknown(block: &Block, config: &Value, planned: &mut Value) {
    for a in &block.attributes {
        if a.computed
            && a.default.is_none()
            && config.attr(&a.name).is_null()
            && let Some(slot) = attr_mut(planned, &a.name)
        {
            *slot = Value::unknown();
        }
    }
    for_each_nested(block, config, planned, mark_computed_nulls_unknown);
}

fn apply_modifiers(
    block: &Block,
    path: &Path,
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    requires_replace: &mut Vec<Path>,
) {
    for a in &block.attributes {
        let prior_value = prior.attr(&a.name);
        let config_value = config.attr(&a.name);
        let Some(slot) = attr_mut(planned, &a.name) else {
            continue;
        };
        if a.has_modifier(PlanModifier::UseStateForUnknown)
            && slot.is_unknown()
            && !config_value.is_unknown()
            && !prior_value.is_null()
        {
            *slot = prior_value.clone();
        }
        if a.has_modifier(PlanModifier::RequiresReplace) && *slot != *prior_value {
            requires_replace.push(path.attr(&a.name));
        }
    }
    for nested in &block.blocks {
        if nested.nesting != Nesting::Single && nested.nesting != Nesting::Group {
            continue;
        }
        let prior_value = prior.attr(&nested.name);
        let config_value = config.attr(&nested.name);
        if let Some(slot @ Value::Object(_)) = attr_mut(planned, &nested.name) {
            apply_modifiers(
                &nested.block,
                &path.attr(&nested.name),
                prior_value,
                config_value,
                slot,
                requires_replace,
            );
        }
    }
}

/// Checks a new state returned by apply against the planned state the way Terraform does
/// ("Provider produced inconsistent result after apply"): every known planned value must be
/// kept, and no unknown may remain. Returns the paths that break the rule.
pub fn inconsistencies(planned: &Value, new_state: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check_consistent(&Path::root(), planned, new_state, &mut out);
    out
}

fn check_consistent(path: &Path, planned: &Value, actual: &Value, out: &mut Vec<String>) {
    if !actual.is_wholly_known() {
        out.push(format!("{path}: still unknown after apply"));
        return;
    }
    if planned.is_unknown() {
        return;
    }
    match (planned, actual) {
        (Value::Object(p), Value::Object(a)) => {
            for (name, pv) in p {
                let av = a.get(name).unwrap_or(&Value::Null);
                check_consistent(&path.attr(name), pv, av, out);
            }
        }
        (Value::Map(p), Value::Map(a)) if p.len() == a.len() => {
            for (key, pv) in p {
                let av = a.get(key).unwrap_or(&Value::Null);
                check_consistent(&path.key(key), pv, av, out);
            }
        }
        (Value::List(p), Value::List(a)) | (Value::Tuple(p), Value::Tuple(a))
            if p.len() == a.len() =>
        {
            for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                check_consistent(
                    &path.index(i64::try_from(i).unwrap_or(i64::MAX)),
                    pv,
                    av,
                    out,
                );
            }
        }
        _ if planned.is_wholly_known() && planned != actual => {
            // Values are not printed: the attribute may be sensitive.
            out.push(format!(
                "{path}: applied value differs from the planned value"
            ));
        }
        // A partly unknown set or collection: only its kind and known parts are checked by
        // Terraform in ways we cannot mirror cheaply; accept.
        _ => {}
    }
}
