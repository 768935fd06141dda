//! Schemas: what a provider or resource accepts, written as a description.
//!
//! The builders keep resource files declarative:
//! `Attribute::string("image_id").required().requires_replace().describe("…")`.
//! The schema is also the source of the generated registry docs, so every attribute
//! carries a Markdown description.

use std::collections::BTreeMap;

use tfplugin_cty::{Type, Value};

use super::plan_modifier::PlanModifier;

#[derive(Debug, Clone)]
pub struct Schema {
    /// State schema version; bumped together with a state upgrader.
    pub version: i64,
    pub block: Block,
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
}

#[derive(Debug, Clone)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "mirrors the protocol's attribute flags"
)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Planned when the configuration leaves the attribute null (implies optional + computed).
    pub default: Option<Value>,
    pub plan_modifiers: Vec<PlanModifier>,
}

impl Attribute {
    pub fn new(name: &str, ty: Type) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            default: None,
            plan_modifiers: Vec::new(),
        }
    }

    pub fn string(name: &str) -> Self {
        Self::new(name, Type::String)
    }

    pub fn number(name: &str) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn bool(name: &str) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn string_set(name: &str) -> Self {
        Self::new(name, Type::set(Type::String))
    }

    pub fn string_map(name: &str) -> Self {
        Self::new(name, Type::map(Type::String))
    }

    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    #[must_use]
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    #[must_use]
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }

    #[must_use]
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Optional with a value planned when the configuration omits it.
    #[must_use]
    pub fn default(mut self, value: Value) -> Self {
        self.optional = true;
        self.computed = true;
        self.default = Some(value);
        self
    }

    #[must_use]
    pub fn describe(mut self, markdown: &str) -> Self {
        markdown.clone_into(&mut self.description);
        self
    }

    /// Any planned change to this attribute replaces the resource.
    #[must_use]
    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }

    /// Keep the prior value instead of planning "known after apply" when nothing will change it.
    #[must_use]
    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }

    pub fn has_modifier(&self, modifier: PlanModifier) -> bool {
        self.plan_modifiers.contains(&modifier)
    }
}

impl Block {
    pub fn new(description: &str) -> Self {
        Self {
            description: description.to_owned(),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    #[must_use]
    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    /// The cty object type of values conforming to this block.
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            let inner = nested.block.implied_type();
            let ty = match nested.nesting {
                Nesting::Single | Nesting::Group => inner,
                Nesting::List => Type::list(inner),
                Nesting::Set => Type::set(inner),
                Nesting::Map => Type::map(inner),
            };
            attrs.insert(nested.name.clone(), ty);
        }
        Type::Object(attrs)
    }

    pub fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Internal consistency, checked by tests: Terraform 1.0 panics or misbehaves on some
    /// invalid schemas instead of reporting them.
    pub fn validate(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        for a in &self.attributes {
            let where_ = format!("{at}{}", a.name);
            if !valid_name(&a.name) {
                problems.push(format!("{where_}: invalid name"));
            }
            let valid_flags = matches!(
                (a.required, a.optional, a.computed),
                (true, false, false) | (false, true, _) | (false, false, true)
            );
            if !valid_flags {
                problems.push(format!(
                    "{where_}: must be required, optional, optional+computed or computed"
                ));
            }
            if a.description.is_empty() {
                problems.push(format!("{where_}: missing description"));
            }
            if self.blocks.iter().any(|b| b.name == a.name) {
                problems.push(format!("{where_}: both attribute and block"));
            }
        }
        for b in &self.blocks {
            if !valid_name(&b.name) {
                problems.push(format!("{at}{}: invalid block name", b.name));
            }
            if b.nesting == Nesting::Single && (b.min_items > 1 || b.max_items > 1) {
                problems.push(format!("{at}{}: single block with min/max > 1", b.name));
            }
            if b.nesting == Nesting::Set && b.block.attributes.iter().any(|a| a.default.is_some()) {
                problems.push(format!(
                    "{at}{}: set-nested block with defaults (the planner cannot fill them)",
                    b.name
                ));
            }
            problems.extend(b.block.validate(&format!("{at}{}.", b.name)));
        }
        problems
    }
}

impl NestedBlock {
    /// An optional block that appears at most once (`health_check { … }`).
    pub fn single(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Blocks that may repeat, in order (`override { … }` twice).
    pub fn list(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::List,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Blocks that may repeat, unordered and distinct (`block_device_mapping { … }` per
    /// device). Terraform cannot match set elements to their configuration, so the planner
    /// fills no defaults inside them (`Block::validate` refuses one): make an attribute whose
    /// default the provider resolves optional + computed instead. Unset, it is unknown in the
    /// plan of a new element, the provider writes the value it used, and later plans keep it.
    pub fn set(name: &str, block: Block) -> Self {
        Self {
            name: name.to_owned(),
            nesting: Nesting::Set,
            block,
            min_items: 0,
            max_items: 0,
        }
    }

    /// Whether a change inside the block replaces the resource: any of its attributes (at
    /// any depth) is marked [`PlanModifier::RequiresReplace`].
    pub fn requires_replace(&self) -> bool {
        self.block.requires_replace()
    }
}

impl Block {
    /// Replaces null list, set and map blocks in `object` (at any depth) with empty ones:
    /// Terraform represents an absent repeatable block as an empty collection, never null.
    pub fn fill_absent_blocks(&self, object: &mut Value) {
        let Value::Object(attrs) = object else {
            return;
        };
        for nested in &self.blocks {
            let Some(value) = attrs.get_mut(&nested.name) else {
                continue;
            };
            match (nested.nesting, &mut *value) {
                (Nesting::List, Value::Null) => *value = Value::List(Vec::new()),
                (Nesting::Set, Value::Null) => *value = Value::Set(Vec::new()),
                (Nesting::Map, Value::Null) => *value = Value::Map(BTreeMap::new()),
                (Nesting::Single | Nesting::Group, inner @ Value::Object(_)) => {
                    nested.block.fill_absent_blocks(inner);
                }
                (Nesting::List | Nesting::Set, Value::List(items) | Value::Set(items)) => {
                    for item in items {
                        nested.block.fill_absent_blocks(item);
                    }
                }
                _ => {}
            }
        }
    }

    /// Whether any attribute of the block, at any depth, forces a replacement.
    pub fn requires_replace(&self) -> bool {
        self.attributes
            .iter()
            .any(|a| a.has_modifier(PlanModifier::RequiresReplace))
            || self.blocks.iter().any(NestedBlock::requires_replace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_repeatable_blocks_become_empty_and_single_ones_stay_null() {
        let inner = Block::new("i").attribute(Attribute::string("x").optional().describe("x"));
        let block = Block::new("r")
            .block(NestedBlock::set("disks", inner.clone()))
            .block(NestedBlock::list("hooks", inner.clone()))
            .block(NestedBlock::single(
                "outer",
                Block::new("o").block(NestedBlock::set("inner_disks", inner.clone())),
            ))
            .block(NestedBlock::single("metadata", inner));
        let mut state = Value::object([
            ("disks", Value::Null),
            ("hooks", Value::Null),
            ("outer", Value::object([("inner_disks", Value::Null)])),
            ("metadata", Value::Null),
        ]);
        block.fill_absent_blocks(&mut state);
        assert_eq!(
            state,
            Value::object([
                ("disks", Value::Set(Vec::new())),
                ("hooks", Value::List(Vec::new())),
                (
                    "outer",
                    Value::object([("inner_disks", Value::Set(Vec::new()))])
                ),
                ("metadata", Value::Null),
            ])
        );
    }
}
