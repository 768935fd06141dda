//! Small, typed accessors over cty object values, so resources read attributes by name
//! instead of matching on enum variants.

use std::collections::BTreeMap;

use tfplugin_cty::{Number, Value};

static NULL: Value = Value::Null;

/// Read access to the attributes of an object value. Missing attributes read as null.
pub trait ObjectExt {
    fn attr(&self, name: &str) -> &Value;
    fn string(&self, name: &str) -> Option<&str>;
    fn int(&self, name: &str) -> Option<i64>;
    fn strings(&self, name: &str) -> Option<Vec<String>>;
    fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>>;
}

impl ObjectExt for Value {
    fn attr(&self, name: &str) -> &Value {
        self.get(name).unwrap_or(&NULL)
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.attr(name).as_str()
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.attr(name).as_i64()
    }

    fn strings(&self, name: &str) -> Option<Vec<String>> {
        let items = self.attr(name).elements()?;
        Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    }

    fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>> {
        match self.attr(name) {
            Value::Map(m) => Some(
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect(),
            ),
            _ => None,
        }
    }
}

/// Sets `name` on an object value; a no-op on anything else.
pub fn set_attr(object: &mut Value, name: &str, value: Value) {
    if let Value::Object(attrs) = object {
        attrs.insert(name.to_owned(), value);
    }
}

/// The attribute's value inside an object, for in-place edits.
pub fn attr_mut<'a>(object: &'a mut Value, name: &str) -> Option<&'a mut Value> {
    match object {
        Value::Object(attrs) => attrs.get_mut(name),
        _ => None,
    }
}

pub fn string_set<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Value {
    Value::set(items.into_iter().map(|s| Value::String(s.into())).collect())
}

pub fn string_map<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(
    items: I,
) -> Value {
    Value::Map(
        items
            .into_iter()
            .map(|(k, v)| (k.into(), Value::String(v.into())))
            .collect(),
    )
}

pub fn int(i: i64) -> Value {
    Value::Number(Number::from_i64(i))
}

pub fn opt_string(s: Option<impl Into<String>>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.into()))
}
