//! Reading a value of a given type from msgpack: the type says which msgpack form to expect at
//! each position (a null or an unknown may stand anywhere). Primitive forms come from `read`,
//! unknowns and their refinements from `refinements`.

use std::collections::BTreeMap;

use crate::codec::MAX_DEPTH;
use crate::error::DecodeError;
use crate::path::PathStep;
use crate::types::Type;
use crate::value::Value;

use super::read::{Decoder, is_ext};

impl Decoder<'_> {
    /// One value of type `ty`, which may be null or unknown whatever the type.
    pub(super) fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err_at(
                at,
                format!("value is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let Some(&m) = self.buf.get(self.pos) else {
            return Err(self.err_at(at, format!("unexpected end of input, expected {ty}")));
        };
        if is_ext(m) {
            let ext = self.ext()?;
            return self.unknown(ty, &ext, at, depth);
        }
        if m == 0xc0 {
            self.pos += 1;
            return Ok(Value::Null);
        }
        match ty {
            Type::Bool => self.boolean("bool").map(Value::Bool),
            Type::Number => self.number().map(Value::Number),
            Type::String => self.string("string").map(Value::String),
            Type::List(et) => self
                .sequence(et, depth, "list (msgpack array)")
                .map(Value::List),
            Type::Set(et) => self
                .sequence(et, depth, "set (msgpack array)")
                .map(Value::set),
            Type::Tuple(etys) => self.tuple(etys, depth),
            Type::Map(et) => self.map(et, depth),
            Type::Object(atys) => self.object(atys, depth),
            Type::Dynamic => self.dynamic(depth),
        }
    }

    fn sequence(
        &mut self,
        et: &Type,
        depth: usize,
        expected: &str,
    ) -> Result<Vec<Value>, DecodeError> {
        let n = self.array_len(expected)?;
        // Every element takes at least one byte, so the input bounds the allocation.
        let mut items = Vec::with_capacity(n.min(self.remaining()));
        for i in 0..n {
            self.path
                .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            items.push(self.value(et, depth + 1)?);
            self.path.pop();
        }
        Ok(items)
    }

    fn tuple(&mut self, etys: &[Type], depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        let n = self.array_len("tuple (msgpack array)")?;
        if n != etys.len() {
            return Err(self.err_at(
                at,
                format!(
                    "expected a tuple of {} elements, found an array of {n}",
                    etys.len()
                ),
            ));
        }
        let mut items = Vec::with_capacity(n);
        for (i, et) in etys.iter().enumerate() {
            self.path
                .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            items.push(self.value(et, depth + 1)?);
            self.path.pop();
        }
        Ok(Value::Tuple(items))
    }

    fn map(&mut self, et: &Type, depth: usize) -> Result<Value, DecodeError> {
        let n = self.map_len("map (msgpack map)")?;
        let mut entries = BTreeMap::new();
        for _ in 0..n {
            let key = self.string("map key (msgpack str)")?;
            self.path.push(PathStep::Key(key.clone()));
            let v = self.value(et, depth + 1)?;
            self.path.pop();
            // A repeated key keeps the last value, as cty does.
            entries.insert(key, v);
        }
        Ok(Value::Map(entries))
    }

    fn object(
        &mut self,
        atys: &BTreeMap<String, Type>,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let n = self.map_len("object (msgpack map)")?;
        let mut attrs = BTreeMap::new();
        for _ in 0..n {
            let key_at = self.pos;
            let key = self.string("attribute name (msgpack str)")?;
            let Some(aty) = atys.get(&key) else {
                return Err(self.err_at(
                    key_at,
                    format!("unsupported attribute {key:?}: not in the object type"),
                ));
            };
            if attrs.contains_key(&key) {
                return Err(self.err_at(key_at, format!("duplicate attribute {key:?}")));
            }
            self.path.push(PathStep::Attribute(key.clone()));
            let v = self.value(aty, depth + 1)?;
            self.path.pop();
            attrs.insert(key, v);
        }
        for name in atys.keys() {
            if !attrs.contains_key(name) {
                attrs.insert(name.clone(), Value::Null);
            }
        }
        Ok(Value::Object(attrs))
    }

    fn dynamic(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        let n = self.array_len("dynamic value ([type, value] msgpack array)")?;
        if n != 2 {
            return Err(self.err_at(
                at,
                format!("a dynamic value must be a [type, value] array, found {n} elements"),
            ));
        }
        let type_at = self.pos;
        let type_json = self.raw_bytes("type JSON (msgpack bin or str)")?;
        let ty =
            Type::from_json_bytes(type_json).map_err(|e| self.err_at(type_at, e.to_string()))?;
        let inner = self.value(&ty, depth + 1)?;
        Ok(if ty == Type::Dynamic {
            // A wrapper naming "dynamic" adds nothing; keep the inner dynamic value as is.
            inner
        } else {
            Value::Dynamic(Box::new(ty), Box::new(inner))
        })
    }
}
