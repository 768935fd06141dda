//! Property test: whatever the configuration and prior state, the planned state obeys the
//! rules Terraform checks ("Provider produced invalid plan", Terraform's
//! internal/plans/objchange/plan_valid.go). Random
//! configurations of `immutable_fleet` (nulls, unknowns, any values of the right type) and
//! random prior states go through the protocol-free planner, with Terraform's own
//! ProposedNewState merge in between.

use std::collections::BTreeMap;

use proptest::prelude::*;
use terraform_provider_immutable::framework::{
    Attribute, Block, FrameworkServer, Nesting, Resource,
};
use terraform_provider_immutable::resources::fleet::Fleet;
use tfplugin_cty::{Type, Value};

/// A value of `ty` that may be null or (when `allow_unknown`) unknown.
fn value_of(ty: &Type, allow_unknown: bool) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::String => prop_oneof![
            Just(Value::string("web")),
            Just(Value::string("ami-12c6146b")),
            Just(Value::string("t3.micro")),
            Just(Value::string("10m")),
            "[a-z0-9-]{0,12}".prop_map(Value::string),
        ]
        .boxed(),
        Type::Number => (-2i64..8).prop_map(Value::number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Set(_) => prop::collection::vec("subnet-[0-9a-f]{4}", 0..3)
            .prop_map(|v| Value::set(v.into_iter().map(Value::string).collect()))
            .boxed(),
        Type::List(element) if **element == Type::Number => prop::collection::vec(-2i64..101, 0..3)
            .prop_map(|v| Value::list(v.into_iter().map(Value::number).collect()))
            .boxed(),
        Type::List(_) => prop::collection::vec("[A-Z][a-z]{0,8}", 0..3)
            .prop_map(|v| Value::list(v.into_iter().map(Value::string).collect()))
            .boxed(),
        Type::Map(_) => prop::collection::btree_map("[a-z]{1,4}", "[a-z]{0,4}", 0..3)
            .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| (k, Value::string(v))).collect()))
            .boxed(),
        other => panic!("no generator for {other:?}"),
    };
    if allow_unknown {
        prop_oneof![3 => known, 1 => Just(Value::Null), 1 => Just(Value::unknown())].boxed()
    } else {
        prop_oneof![3 => known, 1 => Just(Value::Null)].boxed()
    }
}

/// A configuration: computed-only attributes are null, the rest random.
fn config_of(block: &Block) -> BoxedStrategy<Value> {
    let mut fields: Vec<(String, BoxedStrategy<Value>)> = block
        .attributes
        .iter()
        .map(|a: &Attribute| {
            let strategy = if a.computed && !a.optional {
                Just(Value::Null).boxed()
            } else {
                value_of(&a.ty, true)
            };
            (a.name.clone(), strategy)
        })
        .collect();
    for nested in &block.blocks {
        let inner = config_of(&nested.block);
        let strategy = match nested.nesting {
            Nesting::Single => prop_oneof![Just(Value::Null), inner].boxed(),
            // Terraform sends a repeatable block left out as an empty collection.
            Nesting::Set => prop::collection::vec(inner, 0..3)
                .prop_map(Value::set)
                .boxed(),
            Nesting::List => prop::collection::vec(inner, 0..3)
                .prop_map(Value::list)
                .boxed(),
            other => panic!("generator covers single, list and set blocks, not {other:?}"),
        };
        fields.push((nested.name.clone(), strategy));
    }
    object(fields)
}

/// A prior state: every attribute known (or null), as a previous apply would have left it.
fn state_of(block: &Block) -> BoxedStrategy<Value> {
    let mut fields: Vec<(String, BoxedStrategy<Value>)> = block
        .attributes
        .iter()
        .map(|a| (a.name.clone(), value_of(&a.ty, false)))
        .collect();
    for nested in &block.blocks {
        let inner = state_of(&nested.block);
        let strategy = match nested.nesting {
            Nesting::Set => prop::collection::vec(inner, 0..3)
                .prop_map(Value::set)
                .boxed(),
            Nesting::List => prop::collection::vec(inner, 0..3)
                .prop_map(Value::list)
                .boxed(),
            _ => prop_oneof![Just(Value::Null), inner].boxed(),
        };
        fields.push((nested.name.clone(), strategy));
    }
    object(fields)
}

fn object(fields: Vec<(String, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let (names, strategies): (Vec<String>, Vec<BoxedStrategy<Value>>) = fields.into_iter().unzip();
    strategies
        .prop_map(move |values| Value::Object(names.iter().cloned().zip(values).collect()))
        .boxed()
}

/// Terraform's `ProposedNew(prior, config)` (objchange.go) for attributes and single blocks.
fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() {
        return Value::Null;
    }
    let get = |v: &Value, name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    let mut out = BTreeMap::new();
    for a in &block.attributes {
        let c = get(config, &a.name);
        let value = if a.computed && c.is_null() {
            get(prior, &a.name)
        } else {
            c
        };
        out.insert(a.name.clone(), value);
    }
    for nested in &block.blocks {
        let c = get(config, &nested.name);
        let p = get(prior, &nested.name);
        let value = match nested.nesting {
            Nesting::Set => proposed_new_set(&nested.block, &p, &c),
            Nesting::List => {
                let priors = p.elements().unwrap_or(&[]);
                Value::list(
                    c.elements()
                        .unwrap_or(&[])
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            proposed_new(&nested.block, priors.get(i).unwrap_or(&Value::Null), item)
                        })
                        .collect(),
                )
            }
            _ => proposed_new(&nested.block, &p, &c),
        };
        out.insert(nested.name.clone(), value);
    }
    Value::Object(out)
}

/// `ProposedNew` for a set block: each configured element takes the computed values of a
/// prior element that agrees with it on every attribute that is not computed.
fn proposed_new_set(block: &Block, prior: &Value, config: &Value) -> Value {
    let get = |v: &Value, name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    let priors = prior.elements().unwrap_or(&[]);
    let items = config
        .elements()
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            let matching = priors.iter().find(|p| {
                block
                    .attributes
                    .iter()
                    .filter(|a| !a.computed)
                    .all(|a| get(p, &a.name) == get(c, &a.name))
            });
            proposed_new(block, matching.unwrap_or(&Value::Null), c)
        })
        .collect();
    Value::set(items)
}

/// The checks of Terraform's `AssertPlanValid` that apply to this schema.
fn assert_plan_valid(
    block: &Block,
    path: &str,
    prior: &Value,
    config: &Value,
    planned: &Value,
) -> Result<(), String> {
    if config.is_null() != planned.is_null() {
        return Err(format!(
            "{path}: planned block presence differs from the configuration"
        ));
    }
    if config.is_null() {
        return Ok(());
    }
    let get = |v: &Value, name: &str| v.get(name).cloned().unwrap_or(Value::Null);
    for a in &block.attributes {
        let (c, p, pr) = (
            get(config, &a.name),
            get(planned, &a.name),
            get(prior, &a.name),
        );
        let at = format!("{path}{}", a.name);
        if c.is_unknown() && !p.is_unknown() {
            return Err(format!(
                "{at}: configuration is unknown but the plan is not"
            ));
        }
        if !c.is_null() && !c.is_unknown() && p != c {
            return Err(format!("{at}: planned {p:?} but configured {c:?}"));
        }
        if c.is_null() && !a.computed && !p.is_null() {
            return Err(format!(
                "{at}: not computed, null in configuration, planned {p:?}"
            ));
        }
        // Terraform lets a provider plan any value for a computed-only attribute
        // (objchange's assertPlannedValueValid); ours may only clear one (`leftovers`, which
        // every apply empties), so that a no-op plan never shows a diff.
        let cleared_computed_only = !a.optional && p.is_null();
        if c.is_null()
            && a.computed
            && !p.is_unknown()
            && !pr.is_null()
            && p != pr
            && a.default.is_none()
            && !cleared_computed_only
        {
            return Err(format!(
                "{at}: computed value changed from {pr:?} to {p:?} without being unknown"
            ));
        }
    }
    for nested in &block.blocks {
        let (c, p) = (get(config, &nested.name), get(planned, &nested.name));
        if nested.nesting == Nesting::Set {
            // Set elements cannot be matched to their configuration: Terraform checks the
            // count only (plan_valid.go, NestingSet).
            let count = |v: &Value| v.elements().map_or(0, <[Value]>::len);
            if count(&c) != count(&p) {
                return Err(format!(
                    "{path}{}: {} planned elements for {} configured",
                    nested.name,
                    count(&p),
                    count(&c)
                ));
            }
            continue;
        }
        if nested.nesting == Nesting::List {
            let (configs, planned_items) =
                (c.elements().unwrap_or(&[]), p.elements().unwrap_or(&[]));
            if configs.len() != planned_items.len() {
                return Err(format!(
                    "{path}{}: {} planned elements for {} configured",
                    nested.name,
                    planned_items.len(),
                    configs.len()
                ));
            }
            let prior_value = get(prior, &nested.name);
            let priors = prior_value.elements().unwrap_or(&[]);
            for (i, (ci, pi)) in configs.iter().zip(planned_items).enumerate() {
                assert_plan_valid(
                    &nested.block,
                    &format!("{path}{}[{i}].", nested.name),
                    priors.get(i).unwrap_or(&Value::Null),
                    ci,
                    pi,
                )?;
            }
            continue;
        }
        assert_plan_valid(
            &nested.block,
            &format!("{path}{}.", nested.name),
            &get(prior, &nested.name),
            &c,
            &p,
        )?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn planned_states_obey_terraforms_rules(
        config in config_of(&Fleet.schema().block),
        prior in prop_oneof![Just(Value::Null), state_of(&Fleet.schema().block)],
    ) {
        let schema = Fleet.schema();
        let server = FrameworkServer::new(std::sync::Arc::new(
            terraform_provider_immutable::provider::ImmutableProvider::default(),
        ));
        let proposed = proposed_new(&schema.block, &prior, &config);
        let (change, _diagnostics) = server.plan_resource_change("immutable_fleet", &prior, &proposed, &config);
        let ty = schema.block.implied_type();
        prop_assert!(change.planned.conforms_to(&ty).is_ok(), "planned value does not conform: {:?}", change.planned);
        if let Err(problem) = assert_plan_valid(&schema.block, "", &prior, &config, &change.planned) {
            return Err(TestCaseError::fail(problem));
        }
        if prior.is_null() {
            prop_assert!(change.requires_replace.is_empty(), "requires_replace on create");
        }
    }
}
