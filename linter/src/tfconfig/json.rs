//! `*.tf.json` files: Terraform's JSON syntax, where every block level is an object (or an
//! array of objects) and strings are templates.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use miette::{NamedSource, SourceSpan};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::decl::{ArgDef, MODULE_META, ModuleCall};
use super::eval::{LocalDef, Scope, Unknown};
use super::hcl::{address, no_instances};
use crate::config_resource::{ConfigResource, UnknownValue};
use crate::position::LineIndex;
use crate::position::SourceLocation;
use crate::source::{SourceError, block_location};

/// Parses a JSON file, with a located diagnostic when it is not JSON.
pub fn parse(path: &Path, text: &str) -> Result<Value, SourceError> {
    serde_json::from_str(text).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        let offset = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            + column.saturating_sub(1);
        SourceError::Parse {
            path: path.to_owned(),
            line,
            column,
            message: e.to_string(),
            source_code: NamedSource::new(path.display().to_string(), text.to_owned()),
            span: SourceSpan::new(offset.min(text.len()).into(), 0),
        }
    })
}

/// The objects of a block level: an object, or each object of an array.
fn objects(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Object(map) => vec![map],
        Value::Array(list) => list.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    }
}

/// `(label, body)` pairs of a labelled level (`{"web": {…}}`).
fn labelled(value: &Value) -> Vec<(&str, &Value)> {
    objects(value)
        .into_iter()
        .flat_map(|map| map.iter().map(|(k, v)| (k.as_str(), v)))
        .filter(|(k, _)| *k != "//")
        .collect()
}

pub(super) fn declarations<'a>(
    file: &'a Value,
    variables: &mut HashMap<String, (Option<ArgDef<'a>>, bool)>,
    locals: &mut HashMap<String, LocalDef<'a>>,
    calls: &mut Vec<ModuleCall<'a>>,
) {
    for top in objects(file) {
        if let Some(vars) = top.get("variable") {
            for (name, body) in labelled(vars) {
                let default = body.get("default").map(ArgDef::Json);
                let sensitive = body.get("sensitive") == Some(&Value::Bool(true));
                variables.insert(name.to_owned(), (default, sensitive));
            }
        }
        if let Some(defs) = top.get("locals") {
            for (name, value) in labelled(defs) {
                locals.insert(name.to_owned(), LocalDef::Json(value));
            }
        }
        if let Some(modules) = top.get("module") {
            for (name, body) in labelled(modules) {
                let Some(body) = body.as_object() else {
                    continue;
                };
                calls.push(ModuleCall {
                    name: name.to_owned(),
                    source: body
                        .get("source")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    args: body
                        .iter()
                        .filter(|(k, _)| !MODULE_META.contains(&k.as_str()) && k.as_str() != "//")
                        .map(|(k, v)| (k.clone(), ArgDef::Json(v)))
                        .collect(),
                });
            }
        }
    }
}

type RawMap<'t> = HashMap<Cow<'t, str>, &'t RawValue>;

/// Byte offsets of each resource body (`type` → `name` → offset), read without building
/// values: JSON has no positions otherwise.
fn resource_offsets(text: &str) -> HashMap<(String, String), usize> {
    let base = text.as_ptr().addr();
    let mut out = HashMap::new();
    let Ok(top) = serde_json::from_str::<RawMap<'_>>(text) else {
        return out;
    };
    let Some(resources) = top
        .get("resource")
        .and_then(|raw| serde_json::from_str::<RawMap<'_>>(raw.get()).ok())
    else {
        return out;
    };
    for (type_name, raw) in resources {
        let Ok(names) = serde_json::from_str::<RawMap<'_>>(raw.get()) else {
            continue;
        };
        for (name, body) in names {
            let offset = body.get().as_ptr().addr() - base;
            // Point at the `"name"` key just before the body when it is there (a bounded
            // look back: searching the whole prefix would cost the file's size per resource).
            let key = format!("\"{name}\"");
            let from = offset.saturating_sub(key.len() + 64);
            let at = memchr::memmem::rfind(&text.as_bytes()[from..offset], key.as_bytes())
                .map_or(offset, |i| from + i);
            out.insert((type_name.to_string(), name.to_string()), at);
        }
    }
    out
}

/// The resources of a file, with their locations.
pub(super) fn resources(
    scope: &Scope<'_>,
    file: &Path,
    text: &str,
    value: &Value,
    prefix: &str,
) -> Vec<(Option<ConfigResource>, SourceLocation)> {
    let offsets = resource_offsets(text);
    let lines = LineIndex::new(text);
    let mut out = Vec::new();
    for top in objects(value) {
        let Some(resources) = top.get("resource") else {
            continue;
        };
        for (type_name, names) in labelled(resources) {
            for (name, body) in labelled(names) {
                let offset = offsets
                    .get(&(type_name.to_owned(), name.to_owned()))
                    .copied()
                    .unwrap_or(0);
                let location = block_location(&lines, file, text, offset);
                // A body may also be written as an array of one object.
                for body in objects(body) {
                    let resource = resource(scope, type_name, name, body, prefix, location.clone());
                    out.push((resource, location.clone()));
                }
            }
        }
    }
    out
}

fn resource(
    scope: &Scope<'_>,
    type_name: &str,
    name: &str,
    body: &Map<String, Value>,
    prefix: &str,
    location: SourceLocation,
) -> Option<ConfigResource> {
    let address = address(prefix, type_name, name);
    let mut repeated_by = None;
    let mut value = Map::new();
    let mut unknown = Vec::new();
    let mut create_before_destroy = Ok(false);
    let mut provisioners = Vec::new();
    for (key, v) in body {
        match key.as_str() {
            "//" | "depends_on" | "provider" | "connection" => {}
            meta @ ("count" | "for_each") => {
                repeated_by = Some(if meta == "count" { "count" } else { "for_each" });
                if no_instances(&scope.json(v, 0)) {
                    tracing::info!("{address}: {meta} makes no instance; not checked");
                    return None;
                }
            }
            "lifecycle" => {
                for lifecycle in objects(v) {
                    if let Some(cbd) = lifecycle.get("create_before_destroy") {
                        create_before_destroy = match scope.json(cbd, 0) {
                            Ok(Value::Bool(b)) => Ok(b),
                            Ok(_) => {
                                Err(Unknown("create_before_destroy is not a boolean".to_owned()))
                            }
                            Err(e) => Err(e),
                        };
                    }
                }
            }
            "provisioner" => {
                provisioners.extend(labelled(v).into_iter().map(|(kind, _)| kind.to_owned()));
            }
            "dynamic" => {
                for (block, _) in labelled(v) {
                    unknown.push(UnknownValue {
                        path: block.to_owned(),
                        reason: "a dynamic block".to_owned(),
                    });
                }
            }
            _ => match scope.json(v, 0) {
                Ok(known) => {
                    value.insert(key.clone(), known);
                }
                Err(Unknown(reason)) => unknown.push(UnknownValue {
                    path: key.clone(),
                    reason,
                }),
            },
        }
    }
    Some(ConfigResource {
        address,
        type_name: type_name.to_owned(),
        location,
        value: Value::Object(value),
        unknown,
        create_before_destroy,
        provisioners,
        repeated_by,
    })
}
