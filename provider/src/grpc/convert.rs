//! Wire types ↔ framework types: DynamicValue ↔ `Value`, schemas, diagnostics, paths.

use tfplugin_cty::{Path, PathStep, Type, Value};
use tfplugin_proto::tfplugin5 as pb;

use crate::framework::{Block, Diagnostic, Diagnostics, Nesting, Schema, Severity};

/// Decodes what Terraform sent. Terraform always fills `msgpack`; JSON is the fallback the
/// protocol allows. An absent value is null.
pub fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
) -> Result<Value, Diagnostics> {
    let Some(dv) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !dv.msgpack.is_empty() {
        tfplugin_cty::msgpack::decode(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        tfplugin_cty::json::decode(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|e| {
        let mut d = Diagnostics::new();
        d.attribute_error(
            e.path().clone(),
            format!("Invalid {what} from Terraform"),
            format!("The provider could not decode the {what}: {e}"),
        );
        d
    })
}

/// Encodes a value for Terraform, always as msgpack (Terraform does not consistently accept
/// JSON responses).
pub fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostics> {
    match tfplugin_cty::msgpack::encode(value, ty) {
        Ok(msgpack) => Ok(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        Err(e) => {
            let mut d = Diagnostics::new();
            d.attribute_error(
                e.path().clone(),
                "Provider produced a value that does not match its schema (provider bug)",
                e.to_string(),
            );
            Err(d)
        }
    }
}

pub fn path(p: &Path) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .steps()
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub fn diagnostic(d: &Diagnostic) -> pb::Diagnostic {
    let severity = match d.severity {
        Severity::Error => pb::diagnostic::Severity::Error,
        Severity::Warning => pb::diagnostic::Severity::Warning,
    };
    pb::Diagnostic {
        severity: severity as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().filter(|p| !p.steps().is_empty()).map(path),
    }
}

pub fn diagnostics(ds: &Diagnostics) -> Vec<pb::Diagnostic> {
    ds.iter().map(diagnostic).collect()
}

pub fn schema(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block(&s.block)),
    }
}

fn block(b: &Block) -> pb::schema::Block {
    use pb::schema::nested_block::NestingMode;
    let markdown = pb::StringKind::Markdown as i32;
    pb::schema::Block {
        version: 0,
        attributes: b
            .attributes
            .iter()
            .map(|a| pb::schema::Attribute {
                name: a.name.clone(),
                r#type: serde_json::to_vec(&a.ty.to_json()).unwrap_or_default(),
                description: a.description.clone(),
                required: a.required,
                optional: a.optional,
                computed: a.computed,
                sensitive: a.sensitive,
                description_kind: markdown,
                ..Default::default()
            })
            .collect(),
        block_types: b
            .blocks
            .iter()
            .map(|n| pb::schema::NestedBlock {
                type_name: n.name.clone(),
                block: Some(block(&n.block)),
                nesting: match n.nesting {
                    Nesting::Single => NestingMode::Single,
                    Nesting::List => NestingMode::List,
                    Nesting::Set => NestingMode::Set,
                    Nesting::Map => NestingMode::Map,
                    Nesting::Group => NestingMode::Group,
                } as i32,
                min_items: n.min_items,
                max_items: n.max_items,
            })
            .collect(),
        description: b.description.clone(),
        description_kind: markdown,
        ..Default::default()
    }
}
