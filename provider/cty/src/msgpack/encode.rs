//! Writing a value as msgpack: the walk over the value and its type, which keeps the path for
//! error messages and leaves each msgpack form to `write` and unknowns to `refinements`.

use crate::error::EncodeError;
use crate::path::PathStep;
use crate::types::Type;
use crate::value::{Value, error_at};

use super::refinements::write_unknown;
use super::write::{ARRAY_MARKERS, MAP_MARKERS, write_bin, write_len, write_number, write_str};

/// The bytes written so far, and where in the value the writer is (for error paths).
pub(super) struct Writer {
    pub(super) out: Vec<u8>,
    pub(super) path: Vec<PathStep>,
}

impl Writer {
    fn err(&self, message: String) -> EncodeError {
        error_at(&self.path, message)
    }

    pub(super) fn value(&mut self, v: &Value, ty: &Type) -> Result<(), EncodeError> {
        match (v, ty) {
            (Value::Null, _) => self.out.push(0xc0),
            (Value::Unknown(r), _) => {
                write_unknown(&mut self.out, r).map_err(|m| self.err(m))?;
            }
            (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
                // cty wraps a typed value in a dynamic position as [type JSON as bin, value].
                self.out.push(0x92);
                write_bin(&mut self.out, inner_ty.to_json_string().as_bytes())
                    .map_err(|m| self.err(m))?;
                self.value(inner, inner_ty)?;
            }
            (Value::Bool(b), Type::Bool) => self.out.push(if *b { 0xc3 } else { 0xc2 }),
            (Value::Number(n), Type::Number) => {
                write_number(&mut self.out, n).map_err(|m| self.err(m))?;
            }
            (Value::String(s), Type::String) => {
                write_str(&mut self.out, s).map_err(|m| self.err(m))?;
            }
            (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
                write_len(&mut self.out, items.len(), ARRAY_MARKERS).map_err(|m| self.err(m))?;
                for (i, item) in items.iter().enumerate() {
                    self.path
                        .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                    self.value(item, et)?;
                    self.path.pop();
                }
            }
            (Value::Tuple(items), Type::Tuple(etys)) => {
                write_len(&mut self.out, etys.len(), ARRAY_MARKERS).map_err(|m| self.err(m))?;
                for (i, (item, et)) in items.iter().zip(etys).enumerate() {
                    self.path
                        .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                    self.value(item, et)?;
                    self.path.pop();
                }
            }
            (Value::Map(entries), Type::Map(et)) => {
                write_len(&mut self.out, entries.len(), MAP_MARKERS).map_err(|m| self.err(m))?;
                for (k, item) in entries {
                    write_str(&mut self.out, k).map_err(|m| self.err(m))?;
                    self.path.push(PathStep::Key(k.clone()));
                    self.value(item, et)?;
                    self.path.pop();
                }
            }
            (Value::Object(attrs), Type::Object(atys)) => {
                write_len(&mut self.out, atys.len(), MAP_MARKERS).map_err(|m| self.err(m))?;
                for (name, aty) in atys {
                    write_str(&mut self.out, name).map_err(|m| self.err(m))?;
                    self.path.push(PathStep::Attribute(name.clone()));
                    self.value(attrs.get(name).unwrap_or(&Value::Null), aty)?;
                    self.path.pop();
                }
            }
            // `check` already rejected every other combination; keep a real error regardless.
            _ => return Err(self.err(format!("expected {ty}, found {}", v.kind_name()))),
        }
        Ok(())
    }
}
