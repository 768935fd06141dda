//! Terraform's msgpack `DynamicValue` encoding (go-cty `cty/msgpack`).
//!
//! Decoding is schema-directed and never trusts the input: every length is checked against the
//! bytes that remain, nesting is capped at [`MAX_DEPTH`], and nothing panics.
//!
//! Layers, each using only those below it: `encode` and `decode` walk a value and its type;
//! `refinements` handles unknown values (one msgpack extension) both ways; `write` and `read` are
//! msgpack's primitive forms.

mod decode;
mod encode;
mod read;
mod refinements;
mod write;

use crate::error::{DecodeError, EncodeError};
use crate::types::Type;
use crate::value::{Target, Value, check};

use encode::Writer;
use read::Decoder;

pub use crate::codec::MAX_DEPTH;

/// Decodes msgpack `bytes` as a value of type `ty`. Empty input is null.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut d = Decoder {
        buf: bytes,
        pos: 0,
        path: Vec::new(),
    };
    let v = d.value(ty, 0)?;
    if d.pos != bytes.len() {
        return Err(d.err_at(
            d.pos,
            format!("{} unexpected bytes after the value", bytes.len() - d.pos),
        ));
    }
    Ok(v)
}

/// Encodes `value` as type `ty` the way cty does: objects carry every attribute of the type in
/// sorted order (null where the value lacks one), numbers are ints when they fit `i64`, float64
/// when exactly representable, decimal strings otherwise.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    check(value, ty, &mut Vec::new(), Target::Msgpack)?;
    let mut w = Writer {
        out: Vec::new(),
        path: Vec::new(),
    };
    w.value(value, ty)?;
    Ok(w.out)
}
