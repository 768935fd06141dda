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
    drop_absent_single_blocks(block, config, &mut planned);
    apply_defaults(block, prior, config, &mut planned);
    if creating || planned != *prior {
        mark_computed_nulls_unknown(block, prior, config, &mut planned);
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

/// Visits each nested-block object of `planned` paired with its prior and configuration
/// objects. A set element cannot be matched to its configuration, so it stands in for it:
/// Terraform proposes set elements from the configuration, and a null in one is null in the
/// configuration (or a computed value Terraform did not carry over from the prior state). An
/// element the prior state holds as it is, is unchanged and not visited. Set blocks have no
/// defaults (`Block::validate`), so only `mark_computed_nulls_unknown` acts on them.
fn for_each_nested(
    block: &Block,
    prior: &Value,
    config: &Value,
    planned: &mut Value,
    mut f: impl FnMut(&Block, &Value, &Value, &mut Value),
) {
    for nested in &block.blocks {
        let prior_value = prior.attr(&nested.name);
        let config_value = config.attr(&nested.name);
        let Some(planned_value) = attr_mut(planned, &nested.name) else {
            continue;
        };
        match (nested.nesting, planned_value) {
            (Nesting::Single | Nesting::Group, object @ Value::Object(_)) => {
                f(&nested.block, prior_value, config_value, object);
            }
            (Nesting::List, Value::List(items)) => {
                let priors = prior_value.elements().unwrap_or(&[]);
                let configs = config_value.elements().unwrap_or(&[]);
                for (i, item) in items.iter_mut().enumerate() {
                    let p = priors.get(i).unwrap_or(&Value::Null);
                    let c = configs.get(i).unwrap_or(&Value::Null);
                    f(&nested.block, p, c, item);
                }
            }
            (Nesting::Set, Value::Set(items)) => {
                let priors = prior_value.elements().unwrap_or(&[]);
                for item in items.iter_mut() {
                    if priors.contains(item) {
                        continue;
                    }
                    let as_configured = item.clone();
                    f(&nested.block, &Value::Null, &as_configured, item);
                }
                // Elements changed in place (only nulls became unknown, so none collide):
                // keep the set in cty's order.
                items.sort();
            }
            (Nesting::Map, Value::Map(items)) => {
                for (key, item) in items.iter_mut() {
                    let p = match prior_value {
                        Value::Map(m) => m.get(key).unwrap_or(&Value::Null),
                        _ => &Value::Null,
                    };
                    let c = match config_value {
                        Value::Map(m) => m.get(key).unwrap_or(&Value::Null),
                        _ => &Value::Null,
                    };
                    f(&nested.block, p, c, item);
                }
            }
            _ => {}
        }
    }
}

/// Plans a single block the configuration leaves out as absent. Terraform's proposed value
/// carries the prior block over (objchange's `proposedNew` returns the prior object for a
/// null configuration), and then refuses the plan: "planned for existence but config wants
/// absence".
fn drop_absent_single_blocks(block: &Block, config: &Value, planned: &mut Value) {
    for nested in &block.blocks {
        if !matches!(nested.nesting, Nesting::Single | Nesting::Group) {
            continue;
        }
        let config_value = config.attr(&nested.name);
        let Some(slot) = attr_mut(planned, &nested.name) else {
            continue;
        };
        if config_value.is_null() {
            *slot = Value::Null;
        } else if slot.as_object().is_some() {
            drop_absent_single_blocks(&nested.block, config_value, slot);
        }
    }
}

fn apply_defaults(block: &Block, prior: &Value, config: &Value, planned: &mut Value) {
    for a in &block.attributes {
        if let Some(default) = &a.default
            && config.attr(&a.name).is_null()
            && let Some(slot) = attr_mut(planned, &a.name)
        {
            *slot = default.clone();
        }
    }
    for_each_nested(block, prior, config, planned, apply_defaults);
}

fn mark_computed_nulls_unknown(block: &Block, prior: &Value, config: &Value, planned: &mut Value) {
    for a in &block.attributes {
        if a.computed
            && a.default.is_none()
            && config.attr(&a.name).is_null()
            && let Some(slot) = attr_mut(planned, &a.name)
        {
            *slot = Value::unknown();
        }
    }
    for_each_nested(block, prior, config, planned, mark_computed_nulls_unknown);
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
        let prior_value = prior.attr(&nested.name);
        let config_value = config.attr(&nested.name);
        let Some(slot) = attr_mut(planned, &nested.name) else {
            continue;
        };
        let block_path = path.attr(&nested.name);
        match (nested.nesting, &mut *slot) {
            (Nesting::Single | Nesting::Group, Value::Object(_)) => apply_modifiers(
                &nested.block,
                &block_path,
                prior_value,
                config_value,
                slot,
                requires_replace,
            ),
            // Elements of lists, sets and maps cannot be matched to their prior selves
            // reliably, and a removed single block has no attributes left to compare: the
            // block as a whole replaces the resource when it changed and any attribute in it
            // would.
            _ => {
                if nested.requires_replace() && *slot != *prior_value {
                    requires_replace.push(block_path);
                }
            }
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

#[cfg(test)]
mod tests {
    use tfplugin_cty::Value;

    use super::*;
    use crate::framework::schema::{Attribute, NestedBlock};

    /// A resource with a replacing set block, a replacing single block and an in-place list
    /// block.
    fn block() -> Block {
        Block::new("test")
            .attribute(Attribute::string("name").required().describe("n"))
            .block(NestedBlock::set(
                "disk",
                Block::new("d")
                    .attribute(
                        Attribute::string("device")
                            .required()
                            .requires_replace()
                            .describe("d"),
                    )
                    .attribute(Attribute::number("size").optional().describe("s"))
                    .attribute(
                        Attribute::string("kind")
                            .optional()
                            .computed()
                            .requires_replace()
                            .describe("k"),
                    ),
            ))
            .block(NestedBlock::single(
                "metadata",
                Block::new("m").attribute(
                    Attribute::string("tokens")
                        .default(Value::string("required"))
                        .requires_replace()
                        .describe("t"),
                ),
            ))
            .block(NestedBlock::list(
                "hook",
                Block::new("h").attribute(Attribute::string("name").required().describe("n")),
            ))
    }

    fn object(disks: &[&str], metadata: Value, hooks: &[&str]) -> Value {
        let disk = |d: &&str| {
            Value::object([
                ("device", Value::string(*d)),
                ("size", Value::Null),
                ("kind", Value::Null),
            ])
        };
        let hook = |h: &&str| Value::object([("name", Value::string(*h))]);
        Value::object([
            ("name", Value::string("x")),
            ("disk", Value::set(disks.iter().map(disk).collect())),
            ("metadata", metadata),
            ("hook", Value::list(hooks.iter().map(hook).collect())),
        ])
    }

    fn replaced(prior: &Value, config: &Value) -> Vec<String> {
        plan(&block(), prior, config, config)
            .requires_replace
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_changed_set_block_with_replacing_attributes_replaces_as_a_whole() {
        let prior = object(&["/dev/xvda"], Value::Null, &[]);
        assert_eq!(
            replaced(&prior, &object(&["/dev/xvdb"], Value::Null, &[])),
            ["disk"]
        );
        assert!(replaced(&prior, &object(&["/dev/xvda"], Value::Null, &[])).is_empty());
    }

    #[test]
    fn a_computed_attribute_of_an_unchanged_set_element_stays_as_it_was() {
        // An imported disk whose kind AWS left unset, and a rename: nothing to replace.
        let prior = object(&["/dev/xvda"], Value::Null, &[]);
        let mut config = prior.clone();
        if let Value::Object(attrs) = &mut config {
            attrs.insert("name".to_owned(), Value::string("y"));
        }
        let planned = plan(&block(), &prior, &config, &config);
        assert!(planned.requires_replace.is_empty());
        assert_eq!(planned.planned.attr("disk"), prior.attr("disk"));
        // A new disk's unset computed attribute is known only after apply.
        let grown = object(&["/dev/xvda", "/dev/xvdb"], Value::Null, &[]);
        let planned = plan(&block(), &prior, &grown, &grown);
        let disks = planned
            .planned
            .attr("disk")
            .elements()
            .unwrap_or(&[])
            .to_vec();
        let kind = |device: &str| {
            disks
                .iter()
                .find(|d| d.attr("device").as_str() == Some(device))
                .map(|d| d.attr("kind").clone())
        };
        assert_eq!(kind("/dev/xvda"), Some(Value::Null));
        assert_eq!(kind("/dev/xvdb"), Some(Value::unknown()));
        assert_eq!(
            planned
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["disk"]
        );
    }

    #[test]
    fn an_in_place_list_block_never_replaces() {
        let prior = object(&[], Value::Null, &["a"]);
        assert!(replaced(&prior, &object(&[], Value::Null, &["a", "b"])).is_empty());
    }

    #[test]
    fn adding_or_removing_a_replacing_single_block_replaces() {
        let written = Value::object([("tokens", Value::string("optional"))]);
        let none = object(&[], Value::Null, &[]);
        let some = object(&[], written, &[]);
        assert_eq!(replaced(&none, &some), ["metadata.tokens"]);
        assert_eq!(replaced(&some, &none), ["metadata"]);
    }

    #[test]
    fn a_single_block_left_out_of_the_configuration_is_planned_absent() {
        let written = Value::object([("tokens", Value::string("optional"))]);
        let prior = object(&[], written, &[]);
        let config = object(&[], Value::Null, &[]);
        // What Terraform proposes: the prior block carried over.
        let proposed = prior.clone();
        let planned = plan(&block(), &prior, &proposed, &config);
        assert_eq!(planned.planned.attr("metadata"), &Value::Null);
        assert_eq!(
            planned
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["metadata"]
        );
    }

    #[test]
    fn a_set_block_with_defaults_is_an_invalid_schema() {
        let with_default = Block::new("r").block(NestedBlock::set(
            "disk",
            Block::new("d").attribute(
                Attribute::string("kind")
                    .default(Value::string("gp3"))
                    .describe("k"),
            ),
        ));
        assert!(
            with_default
                .validate("")
                .iter()
                .any(|p| p.contains("set-nested block with defaults")),
            "{:?}",
            with_default.validate("")
        );
    }
}
