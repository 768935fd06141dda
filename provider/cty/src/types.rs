//! cty types and their JSON spelling (the `type` bytes of a schema attribute, and the type half
//! of a dynamic value on the wire).

use std::collections::BTreeMap;
use std::fmt;

use crate::codec::write_json_string;
use crate::error::TypeError;

/// Types nested deeper than this are rejected by [`Type::from_json`], so hostile input cannot
/// exhaust the stack.
pub(crate) const MAX_TYPE_DEPTH: usize = 128;

/// A cty type. `Dynamic` is cty's `DynamicPseudoType` (the schema's `"dynamic"`): the concrete
/// type is decided at runtime and travels with the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
    Tuple(Vec<Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    pub fn object<I: IntoIterator<Item = (K, Type)>, K: Into<String>>(attrs: I) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    pub fn tuple(elements: Vec<Type>) -> Type {
        Type::Tuple(elements)
    }

    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// List, set or map: the kinds that can carry length refinements.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// Attribute types of an object type.
    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// Whether `Dynamic` appears anywhere in the type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::Bool | Type::Number | Type::String => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(attrs) => attrs.values().any(Type::has_dynamic),
            Type::Tuple(elems) => elems.iter().any(Type::has_dynamic),
        }
    }

    /// cty type JSON: `"string"`, `["list","number"]`, `["object",{"a":"string"}]`,
    /// `["tuple",["bool"]]`. Object attributes come out sorted, like cty writes them.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        let pair = |kind: &str, inner: J| J::Array(vec![J::String(kind.to_owned()), inner]);
        match self {
            Type::Bool => J::String("bool".to_owned()),
            Type::Number => J::String("number".to_owned()),
            Type::String => J::String("string".to_owned()),
            Type::Dynamic => J::String("dynamic".to_owned()),
            Type::List(t) => pair("list", t.to_json()),
            Type::Set(t) => pair("set", t.to_json()),
            Type::Map(t) => pair("map", t.to_json()),
            Type::Object(attrs) => pair(
                "object",
                J::Object(
                    attrs
                        .iter()
                        .map(|(k, t)| (k.clone(), t.to_json()))
                        .collect(),
                ),
            ),
            Type::Tuple(elems) => {
                pair("tuple", J::Array(elems.iter().map(Type::to_json).collect()))
            }
        }
    }

    /// The compact JSON text of [`Type::to_json`], as cty writes it (no whitespace, sorted
    /// attributes).
    pub fn to_json_string(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        let pair = |kind: &str, out: &mut String, inner: &dyn Fn(&mut String)| {
            out.push_str("[\"");
            out.push_str(kind);
            out.push_str("\",");
            inner(out);
            out.push(']');
        };
        match self {
            Type::Bool => out.push_str("\"bool\""),
            Type::Number => out.push_str("\"number\""),
            Type::String => out.push_str("\"string\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(t) => pair("list", out, &|o| t.write_json(o)),
            Type::Set(t) => pair("set", out, &|o| t.write_json(o)),
            Type::Map(t) => pair("map", out, &|o| t.write_json(o)),
            Type::Object(attrs) => pair("object", out, &|o| {
                o.push('{');
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    write_json_string(name, o);
                    o.push(':');
                    t.write_json(o);
                }
                o.push('}');
            }),
            Type::Tuple(elems) => pair("tuple", out, &|o| {
                o.push('[');
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    t.write_json(o);
                }
                o.push(']');
            }),
        }
    }

    /// Parses cty type JSON. An object type may carry a third element (the optional-attribute
    /// names of a type constraint); it is accepted and ignored.
    pub fn from_json(v: &serde_json::Value) -> Result<Type, TypeError> {
        from_json_at(v, 0)
    }

    /// Parses cty type JSON from its text.
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Type, TypeError> {
        // serde_json refuses nesting beyond 128 levels, so this cannot overflow the stack.
        let v: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| TypeError::new(format!("type is not valid JSON: {e}")))?;
        Type::from_json(&v)
    }
}

fn from_json_at(v: &serde_json::Value, depth: usize) -> Result<Type, TypeError> {
    use serde_json::Value as J;
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeError::new(format!(
            "type is nested more than {MAX_TYPE_DEPTH} levels deep"
        )));
    }
    match v {
        J::String(name) => match name.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(TypeError::new(format!(
                "invalid primitive type name {other:?}"
            ))),
        },
        J::Array(items) => {
            let Some((J::String(kind), args)) = items.split_first() else {
                return Err(TypeError::new(
                    "a complex type must be an array starting with its kind name".to_owned(),
                ));
            };
            let arg = args.first();
            let expect_len = |max: usize| -> Result<(), TypeError> {
                if args.is_empty() || args.len() > max {
                    Err(TypeError::new(format!(
                        "a {kind} type needs {} argument{}, found {}",
                        if max == 1 { "exactly 1" } else { "1 or 2" },
                        if max == 1 { "" } else { "s" },
                        args.len()
                    )))
                } else {
                    Ok(())
                }
            };
            match (kind.as_str(), arg) {
                ("list" | "set" | "map", Some(inner)) => {
                    expect_len(1)?;
                    let inner = Box::new(from_json_at(inner, depth + 1)?);
                    Ok(match kind.as_str() {
                        "list" => Type::List(inner),
                        "set" => Type::Set(inner),
                        _ => Type::Map(inner),
                    })
                }
                ("object", Some(J::Object(attrs))) => {
                    expect_len(2)?;
                    let mut out = BTreeMap::new();
                    for (name, t) in attrs {
                        out.insert(name.clone(), from_json_at(t, depth + 1)?);
                    }
                    Ok(Type::Object(out))
                }
                ("tuple", Some(J::Array(elems))) => {
                    expect_len(1)?;
                    let elems = elems
                        .iter()
                        .map(|t| from_json_at(t, depth + 1))
                        .collect::<Result<_, _>>()?;
                    Ok(Type::Tuple(elems))
                }
                ("object", _) => Err(TypeError::new(
                    "an object type needs a JSON object of attribute types".to_owned(),
                )),
                ("tuple", _) => Err(TypeError::new(
                    "a tuple type needs a JSON array of element types".to_owned(),
                )),
                ("list" | "set" | "map", None) => Err(TypeError::new(format!(
                    "a {kind} type needs its element type"
                ))),
                (other, _) => Err(TypeError::new(format!(
                    "invalid complex type kind {other:?}"
                ))),
            }
        }
        other => Err(TypeError::new(format!(
            "a type must be a JSON string or array, found {}",
            json_kind(other)
        ))),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Friendly names for messages: `string`, `list of number`, `object`, `tuple`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(t) => write!(f, "list of {t}"),
            Type::Set(t) => write!(f, "set of {t}"),
            Type::Map(t) => write!(f, "map of {t}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip() {
        let t = Type::object([
            ("b", Type::list(Type::Number)),
            ("a", Type::String),
            ("c", Type::Tuple(vec![Type::Bool, Type::Dynamic])),
            ("d", Type::map(Type::set(Type::String))),
        ]);
        let j = t.to_json();
        assert_eq!(
            j,
            json!(["object", {"a": "string", "b": ["list", "number"], "c": ["tuple", ["bool", "dynamic"]], "d": ["map", ["set", "string"]]}])
        );
        assert_eq!(
            t.to_json_string(),
            r#"["object",{"a":"string","b":["list","number"],"c":["tuple",["bool","dynamic"]],"d":["map",["set","string"]]}]"#
        );
        assert_eq!(serde_json::to_string(&j).unwrap(), t.to_json_string());
        assert_eq!(Type::from_json(&j).unwrap(), t);
    }

    #[test]
    fn object_optional_attributes_are_ignored() {
        let j = json!(["object", {"a": "string", "b": "number"}, ["b"]]);
        assert_eq!(
            Type::from_json(&j).unwrap(),
            Type::object([("a", Type::String), ("b", Type::Number)])
        );
    }

    #[test]
    fn rejects_invalid_types() {
        for bad in [
            json!("str"),
            json!(1),
            json!(null),
            json!([]),
            json!(["list"]),
            json!(["list", "string", "string"]),
            json!(["object", ["a"]]),
            json!(["tuple", "string"]),
            json!(["capsule", "x"]),
            json!([1, "string"]),
        ] {
            assert!(Type::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_deep_nesting_without_overflow() {
        let mut j = json!("string");
        for _ in 0..200 {
            j = json!(["list", j]);
        }
        let err = Type::from_json(&j).unwrap_err();
        assert!(err.to_string().contains("nested"), "{err}");
        // Dropping a deep serde_json value is serde_json's business; keep it shallow enough.
        let deep_text = "[\"list\",".repeat(300) + "\"string\"" + &"]".repeat(300);
        assert!(Type::from_json_bytes(deep_text.as_bytes()).is_err());
    }

    #[test]
    fn display_names() {
        assert_eq!(
            Type::list(Type::map(Type::String)).to_string(),
            "list of map of string"
        );
        assert_eq!(Type::object([("a", Type::Bool)]).to_string(), "object");
    }
}
