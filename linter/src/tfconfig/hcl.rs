//! HCL blocks to resources: declarations, resource blocks and their arguments as values.

use std::collections::HashMap;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use serde_json::{Map, Value};

use super::decl::{ArgDef, MAX_MODULE_DEPTH, MODULE_META, ModuleCall, RESOURCE_META};
use super::eval::{Eval, LocalDef, Scope, Unknown};
use crate::config_resource::{ConfigResource, UnknownValue};
use crate::position::SourceLocation;

pub(super) fn hcl_declarations<'a>(
    body: &'a Body,
    variables: &mut HashMap<String, (Option<ArgDef<'a>>, bool)>,
    locals: &mut HashMap<String, LocalDef<'a>>,
    calls: &mut Vec<ModuleCall<'a>>,
) {
    for block in body.blocks() {
        let labels: Vec<&str> = block
            .labels
            .iter()
            .map(hcl_edit::structure::BlockLabel::as_str)
            .collect();
        match (block.ident.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                let default = block
                    .body
                    .get_attribute("default")
                    .map(|a| ArgDef::Hcl(&a.value));
                let sensitive = block
                    .body
                    .get_attribute("sensitive")
                    .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if *b.value()));
                variables.insert((*name).to_owned(), (default, sensitive));
            }
            ("locals", []) => {
                for a in block.body.attributes() {
                    locals.insert(a.key.as_str().to_owned(), LocalDef::Hcl(&a.value));
                }
            }
            ("module", [name]) => calls.push(ModuleCall {
                name: (*name).to_owned(),
                source: block
                    .body
                    .get_attribute("source")
                    .and_then(|a| a.value.as_str())
                    .map(str::to_owned),
                args: block
                    .body
                    .attributes()
                    .filter(|a| !MODULE_META.contains(&a.key.as_str()))
                    .map(|a| (a.key.as_str().to_owned(), ArgDef::Hcl(&a.value)))
                    .collect(),
            }),
            _ => {}
        }
    }
}

/// The address of `type.name` in the module at `prefix`.
pub(super) fn address(prefix: &str, type_name: &str, name: &str) -> String {
    if prefix.is_empty() {
        format!("{type_name}.{name}")
    } else {
        format!("{prefix}.{type_name}.{name}")
    }
}

/// Whether `count`/`for_each` evaluates to no instance at all (`count = 0`, an empty map).
pub(super) fn no_instances(repeat: &Eval) -> bool {
    matches!(
        repeat,
        Ok(Value::Number(n)) if n.as_f64() == Some(0.0)
    ) || matches!(repeat, Ok(Value::Array(a)) if a.is_empty())
        || matches!(repeat, Ok(Value::Object(o)) if o.is_empty())
}

pub(super) fn hcl_resource(
    scope: &Scope<'_>,
    location: SourceLocation,
    block: &Block,
    prefix: &str,
) -> Option<ConfigResource> {
    let [type_name, name] = block.labels.as_slice() else {
        return None;
    };
    let (type_name, name) = (type_name.as_str(), name.as_str());
    let address = address(prefix, type_name, name);
    let mut repeated_by = None;
    for meta in ["count", "for_each"] {
        if let Some(attr) = block.body.get_attribute(meta) {
            repeated_by = Some(if meta == "count" { "count" } else { "for_each" });
            if no_instances(&scope.eval(&attr.value)) {
                tracing::info!("{address}: {meta} makes no instance; not checked");
                return None;
            }
        }
    }
    let mut value = Map::new();
    let mut unknown = Vec::new();
    hcl_body(scope, &block.body, "", &mut value, &mut unknown, 0);
    let mut create_before_destroy = Ok(false);
    let mut provisioners = Vec::new();
    for inner in block.body.blocks() {
        match inner.ident.as_str() {
            "lifecycle" => {
                if let Some(attr) = inner.body.get_attribute("create_before_destroy") {
                    create_before_destroy = match scope.eval(&attr.value) {
                        Ok(Value::Bool(b)) => Ok(b),
                        Ok(_) => Err(Unknown("create_before_destroy is not a boolean".to_owned())),
                        Err(e) => Err(e),
                    };
                }
            }
            "provisioner" => {
                if let Some(kind) = inner.labels.first() {
                    provisioners.push(kind.as_str().to_owned());
                }
            }
            _ => {}
        }
    }
    Some(ConfigResource {
        location,
        address,
        type_name: type_name.to_owned(),
        value: Value::Object(value),
        unknown,
        create_before_destroy,
        provisioners,
        repeated_by,
    })
}

pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The arguments and nested blocks of `body` into `out`, unknowns into `unknown`.
pub(super) fn hcl_body(
    scope: &Scope<'_>,
    body: &Body,
    path: &str,
    out: &mut Map<String, Value>,
    unknown: &mut Vec<UnknownValue>,
    depth: usize,
) {
    if depth > MAX_MODULE_DEPTH {
        unknown.push(UnknownValue {
            path: path.to_owned(),
            reason: "blocks nested too deeply".to_owned(),
        });
        return;
    }
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str();
                if depth == 0 && RESOURCE_META.contains(&key) {
                    continue;
                }
                argument(scope, &attr.value, &join(path, key), key, out, unknown);
            }
            Structure::Block(block) => {
                let ident = block.ident.as_str();
                if depth == 0 && matches!(ident, "lifecycle" | "provisioner" | "connection") {
                    continue;
                }
                if ident == "dynamic" {
                    let name = block.labels.first().map_or("", |l| l.as_str());
                    unknown.push(UnknownValue {
                        path: join(path, name),
                        reason: "a dynamic block".to_owned(),
                    });
                    continue;
                }
                let list = out
                    .entry(ident.to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else {
                    continue;
                };
                let index = list.len();
                let mut inner = Map::new();
                hcl_body(
                    scope,
                    &block.body,
                    &format!("{}[{index}]", join(path, ident)),
                    &mut inner,
                    unknown,
                    depth + 1,
                );
                if let Some(Value::Array(list)) = out.get_mut(ident) {
                    list.push(Value::Object(inner));
                }
            }
        }
    }
}

/// One argument: a literal object is read member by member, so that `tags = { Name =
/// var.x }` leaves the other members known; any other expression is known or not as a whole.
pub(super) fn argument(
    scope: &Scope<'_>,
    expr: &Expression,
    path: &str,
    key: &str,
    out: &mut Map<String, Value>,
    unknown: &mut Vec<UnknownValue>,
) {
    if let Expression::Object(object) = expr {
        let mut map = Map::new();
        for (k, v) in object {
            let member = match k {
                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_owned(),
                hcl_edit::expr::ObjectKey::Expression(e) => match scope.eval(e) {
                    Ok(Value::String(s)) => s,
                    Ok(other) => other.to_string(),
                    Err(Unknown(reason)) => {
                        unknown.push(UnknownValue {
                            path: format!("{path}.*"),
                            reason,
                        });
                        continue;
                    }
                },
            };
            match scope.eval(v.expr()) {
                Ok(value) => {
                    map.insert(member, value);
                }
                Err(Unknown(reason)) => unknown.push(UnknownValue {
                    path: join(path, &member),
                    reason,
                }),
            }
        }
        out.insert(key.to_owned(), Value::Object(map));
        return;
    }
    match scope.eval(expr) {
        Ok(value) => {
            out.insert(key.to_owned(), value);
        }
        Err(Unknown(reason)) => unknown.push(UnknownValue {
            path: path.to_owned(),
            reason,
        }),
    }
}
