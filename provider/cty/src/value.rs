//! cty values: null, unknown (optionally refined) and known values of every type kind.

use std::collections::BTreeMap;

use crate::error::EncodeError;
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::Type;

/// What is known about an unknown value (cty "refinements", Terraform ≥ 1.6). All fields unset
/// (the `Default`) is a wholly unknown value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Refinements {
    /// The final value is definitely not null.
    pub not_null: bool,
    /// String values only: the final string starts with this.
    pub string_prefix: Option<String>,
    /// Number values only: lower bound and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Number values only: upper bound and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// List, set and map values only: inclusive minimum length.
    pub length_min: Option<u64>,
    /// List, set and map values only: inclusive maximum length.
    pub length_max: Option<u64>,
}

impl Refinements {
    /// Only "definitely not null".
    pub fn not_null() -> Refinements {
        Refinements {
            not_null: true,
            ..Refinements::default()
        }
    }

    /// True when nothing is refined.
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value. Null and unknown are untyped here: the type comes from the schema, which every
/// codec call takes alongside the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Always sorted and deduplicated (build it with [`Value::set`]), so `==` is set equality.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    /// A value in a `dynamic` position together with its concrete type. A null or wholly
    /// unknown value in a dynamic position is plain `Null` / `Unknown` instead.
    Dynamic(Box<Type>, Box<Value>),
}

impl Value {
    /// A wholly unknown value.
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    /// An unknown value that will definitely not be null.
    pub fn unknown_not_null() -> Value {
        Value::Unknown(Refinements::not_null())
    }

    /// A set: sorts and removes duplicates (cty sets hold each distinct value once).
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort();
        items.dedup();
        Value::Set(items)
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn number(i: i64) -> Value {
        Value::Number(Number::from_i64(i))
    }

    pub fn bool(b: bool) -> Value {
        Value::Bool(b)
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(items)
    }

    pub fn map<I: IntoIterator<Item = (K, Value)>, K: Into<String>>(entries: I) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn object<I: IntoIterator<Item = (K, Value)>, K: Into<String>>(attrs: I) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A known value in a `dynamic` position, tagged with its concrete type.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(Box::new(ty), Box::new(value))
    }

    /// Null of any type (null is untyped in this model; kept for symmetry with cty).
    pub fn null_of(_ty: &Type) -> Value {
        Value::Null
    }

    /// Top level only (a `Dynamic` wrapping a null is not itself null).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Top level only.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when no `Unknown` appears anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            Value::Dynamic(_, inner) => inner.is_wholly_known(),
        }
    }

    /// The value inside a `Dynamic` wrapper, or `self`. The accessors below look through the
    /// wrapper already.
    pub fn unwrap_dynamic(&self) -> &Value {
        match self {
            Value::Dynamic(_, inner) => inner.unwrap_dynamic(),
            other => other,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// A number that is an integer within `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number()?.as_i64()
    }

    /// An object attribute.
    pub fn get(&self, attr: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(attrs) => attrs.get(attr),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Entries of a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Attributes of an object.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// Follows a path: attributes into objects, keys into maps, indexes into lists, tuples and
    /// (by sorted position) sets.
    pub fn get_path(&self, path: &Path) -> Option<&Value> {
        path.steps()
            .iter()
            .try_fold(self, |v, step| match (v.unwrap_dynamic(), step) {
                (Value::Object(attrs), PathStep::Attribute(name)) => attrs.get(name),
                (Value::Map(entries), PathStep::Key(k)) => entries.get(k),
                (
                    Value::List(items) | Value::Tuple(items) | Value::Set(items),
                    PathStep::Index(i),
                ) => items.get(usize::try_from(*i).ok()?),
                _ => None,
            })
    }

    /// Checks that the value can be encoded as `ty` (the same checks the msgpack encoder makes):
    /// kinds match, objects have no attributes outside the type, tuples have the right length,
    /// refinements suit the type, and `dynamic` positions hold `Null`, a plain `Unknown` or a
    /// `Dynamic` wrapper. Missing object attributes are fine (they encode as null).
    pub fn conforms_to(&self, ty: &Type) -> Result<(), EncodeError> {
        check(self, ty, &mut Vec::new(), Target::Msgpack)
    }

    /// A short noun for messages.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "unknown value",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Dynamic(..) => "dynamic value",
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::number(i)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// Which encoder the conformance check is for: JSON additionally cannot carry unknowns or
/// infinities.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Msgpack,
    Json,
}

pub(crate) fn error_at(path: &[PathStep], message: String) -> EncodeError {
    EncodeError::new(Path(path.to_vec()), message)
}

/// The conformance walk shared by `conforms_to` and both encoders.
pub(crate) fn check(
    v: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
    target: Target,
) -> Result<(), EncodeError> {
    match (v, ty) {
        (Value::Null, _) | (Value::Bool(_), Type::Bool) | (Value::String(_), Type::String) => {
            Ok(())
        }
        (Value::Unknown(_), _) if target == Target::Json => Err(error_at(
            path,
            "unknown values cannot be encoded as JSON".to_owned(),
        )),
        (Value::Unknown(r), _) => check_refinements(r, ty, path),
        (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
            if **inner_ty == Type::Dynamic {
                return Err(error_at(
                    path,
                    "a dynamic value must name a concrete type, not dynamic".to_owned(),
                ));
            }
            check(inner, inner_ty, path, target)
        }
        (_, Type::Dynamic) => Err(error_at(
            path,
            format!(
                "a {} in a dynamic position must be wrapped as Value::Dynamic(type, value)",
                v.kind_name()
            ),
        )),
        (Value::Number(n), Type::Number) => {
            if target == Target::Json && n.is_infinite() {
                Err(error_at(
                    path,
                    format!("JSON cannot represent the number {n}"),
                ))
            } else {
                Ok(())
            }
        }
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                check(item, et, path, target)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Map(entries), Type::Map(et)) => {
            for (k, item) in entries {
                path.push(PathStep::Key(k.clone()));
                check(item, et, path, target)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Object(attrs), Type::Object(atys)) => {
            for (name, item) in attrs {
                let Some(aty) = atys.get(name) else {
                    return Err(error_at(
                        path,
                        format!("unsupported attribute {name:?}: not in the object type"),
                    ));
                };
                path.push(PathStep::Attribute(name.clone()));
                check(item, aty, path, target)?;
                path.pop();
            }
            Ok(())
        }
        (Value::Tuple(items), Type::Tuple(etys)) => {
            if items.len() != etys.len() {
                return Err(error_at(
                    path,
                    format!(
                        "expected a tuple of {} elements, found {}",
                        etys.len(),
                        items.len()
                    ),
                ));
            }
            for (i, (item, et)) in items.iter().zip(etys).enumerate() {
                path.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                check(item, et, path, target)?;
                path.pop();
            }
            Ok(())
        }
        _ => Err(error_at(
            path,
            format!("expected {ty}, found {}", v.kind_name()),
        )),
    }
}

fn check_refinements(r: &Refinements, ty: &Type, path: &[PathStep]) -> Result<(), EncodeError> {
    if *ty == Type::Dynamic && !r.is_empty() {
        return Err(error_at(
            path,
            "an unknown value of dynamic type cannot carry refinements".to_owned(),
        ));
    }
    if r.string_prefix.is_some() && *ty != Type::String {
        return Err(error_at(
            path,
            format!("a string prefix refinement does not apply to {ty}"),
        ));
    }
    if (r.number_lower.is_some() || r.number_upper.is_some()) && *ty != Type::Number {
        return Err(error_at(
            path,
            format!("a number bound refinement does not apply to {ty}"),
        ));
    }
    if (r.length_min.is_some() || r.length_max.is_some()) && !ty.is_collection() {
        return Err(error_at(
            path,
            format!("a length refinement does not apply to {ty}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn sets_are_normalised() {
        let a = Value::set(vec![
            Value::string("b"),
            Value::string("a"),
            Value::string("b"),
        ]);
        let b = Value::set(vec![Value::string("a"), Value::string("b")]);
        assert_eq!(a, b);
        assert_eq!(a.elements().unwrap().len(), 2);
        let nums = Value::set(vec![Value::number(10), Value::number(9), Value::number(-1)]);
        assert_eq!(
            nums.elements().unwrap(),
            &[Value::number(-1), Value::number(9), Value::number(10)]
        );
    }

    #[test]
    fn accessors() {
        let v = Value::object([
            ("name", Value::string("web")),
            ("count", Value::number(3)),
            ("on", Value::Bool(true)),
            ("ids", Value::list(vec![Value::string("a")])),
            ("tags", Value::map([("env", Value::string("prod"))])),
            ("any", Value::dynamic(Type::String, Value::string("x"))),
            ("later", Value::unknown()),
        ]);
        assert_eq!(v.get("name").and_then(Value::as_str), Some("web"));
        assert_eq!(v.get("count").and_then(Value::as_i64), Some(3));
        assert_eq!(v.get("on").and_then(Value::as_bool), Some(true));
        assert_eq!(v.get("any").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("missing"), None);
        assert!(!v.is_wholly_known());
        assert!(v.get("later").unwrap().is_unknown());
        let p = Path::root().attr("tags").key("env");
        assert_eq!(v.get_path(&p).and_then(Value::as_str), Some("prod"));
        let p = Path::root().attr("ids").index(0);
        assert_eq!(v.get_path(&p).and_then(Value::as_str), Some("a"));
        assert_eq!(v.get_path(&Path::root().attr("ids").index(1)), None);
        assert_eq!(v.get_path(&Path::root().attr("ids").index(-1)), None);
    }

    #[test]
    fn conformance_reports_paths() {
        let ty = Type::object([("name", Type::String), ("tags", Type::map(Type::String))]);
        assert!(
            Value::object([("name", Value::string("x"))])
                .conforms_to(&ty)
                .is_ok()
        );
        let err = Value::object([("tags", Value::map([("env", Value::number(1))]))])
            .conforms_to(&ty)
            .unwrap_err();
        assert_eq!(err.path().to_string(), r#"tags["env"]"#);
        assert_eq!(err.message(), "expected string, found number");
        let err = Value::object([("bogus", Value::Null)])
            .conforms_to(&ty)
            .unwrap_err();
        assert!(err.message().contains("\"bogus\""), "{err}");
        let err = Value::string("x").conforms_to(&Type::Dynamic).unwrap_err();
        assert!(err.message().contains("Value::Dynamic"), "{err}");
        let err = Value::Unknown(Refinements {
            string_prefix: Some("a".into()),
            ..Refinements::default()
        })
        .conforms_to(&Type::Number)
        .unwrap_err();
        assert!(err.message().contains("prefix"), "{err}");
        assert!(
            Value::unknown_not_null()
                .conforms_to(&Type::Dynamic)
                .is_err()
        );
        assert!(Value::unknown().conforms_to(&Type::Dynamic).is_ok());
        assert!(
            Value::Tuple(vec![])
                .conforms_to(&Type::Tuple(vec![Type::Bool]))
                .is_err()
        );
    }
}
