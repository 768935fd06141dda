//! Unknown values as msgpack, both ways: the plain unknown, and cty's extension 12 whose payload
//! is a map of refinements (not null, string prefix, number bounds, collection length bounds).

use crate::codec::truncate_at_char_boundary;
use crate::error::DecodeError;
use crate::types::Type;
use crate::value::{Refinements, Value};

use super::read::{Decoder, Ext};
use super::write::{write_ext_header, write_int, write_number, write_str, write_uint};

/// cty's extension type for an unknown value that carries refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// cty refuses larger refinement payloads as abusive; so do we, both ways.
const MAX_REFINEMENT_PAYLOAD: usize = 1024;
/// cty keeps at most this many bytes of a string-prefix refinement.
const MAX_STRING_PREFIX: usize = 256;
/// cty's encoding of a wholly unknown value: fixext1, type 0, one zero byte.
const PLAIN_UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

/// Keys of the refinement map, as cty numbers them.
const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_LOWER: i64 = 3;
const KEY_NUMBER_UPPER: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

/// Writes an unknown: the plain form when it has no refinements, extension 12 otherwise.
pub(super) fn write_unknown(out: &mut Vec<u8>, r: &Refinements) -> Result<(), String> {
    if r.is_empty() {
        out.extend_from_slice(&PLAIN_UNKNOWN);
        return Ok(());
    }
    let mut body = Vec::new();
    let mut entries: u8 = 0;
    if r.not_null {
        entries += 1;
        write_int(&mut body, KEY_NULLNESS);
        body.push(0xc2);
    }
    if let Some(prefix) = &r.string_prefix {
        entries += 1;
        write_int(&mut body, KEY_STRING_PREFIX);
        write_str(
            &mut body,
            truncate_at_char_boundary(prefix, MAX_STRING_PREFIX),
        )?;
    }
    for (key, bound) in [
        (KEY_NUMBER_LOWER, &r.number_lower),
        (KEY_NUMBER_UPPER, &r.number_upper),
    ] {
        if let Some((n, inclusive)) = bound {
            entries += 1;
            write_int(&mut body, key);
            body.push(0x92);
            write_number(&mut body, n)?;
            body.push(if *inclusive { 0xc3 } else { 0xc2 });
        }
    }
    for (key, bound) in [
        (KEY_LENGTH_MIN, r.length_min),
        (KEY_LENGTH_MAX, r.length_max),
    ] {
        if let Some(len) = bound {
            entries += 1;
            write_int(&mut body, key);
            write_uint(&mut body, len);
        }
    }
    // At most six entries: a fixmap header.
    let mut payload = Vec::with_capacity(body.len() + 1);
    payload.push(0x80 | entries);
    payload.extend_from_slice(&body);
    if payload.len() > MAX_REFINEMENT_PAYLOAD {
        return Err(format!(
            "unknown-value refinements take {} bytes; Terraform accepts at most {MAX_REFINEMENT_PAYLOAD}",
            payload.len()
        ));
    }
    write_ext_header(out, REFINED_UNKNOWN_EXT, payload.len());
    out.extend_from_slice(&payload);
    Ok(())
}

impl Decoder<'_> {
    /// The value of the extension `ext` found at `at`: an unknown whose refinements must suit
    /// `ty`, or null when a refinement says the value is definitely null.
    pub(super) fn unknown(
        &mut self,
        ty: &Type,
        ext: &Ext,
        at: usize,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let len = ext.end - ext.start;
        // Any extension is an unknown; only type 12 with a real payload carries refinements.
        // cty treats a payload of at most one byte as "no refinements".
        if ext.kind != REFINED_UNKNOWN_EXT || len <= 1 {
            return Ok(Value::unknown());
        }
        if len > MAX_REFINEMENT_PAYLOAD {
            return Err(self.err_at(
                at,
                format!("unknown-value refinements of {len} bytes exceed the {MAX_REFINEMENT_PAYLOAD}-byte limit"),
            ));
        }
        let mut sub = Decoder {
            buf: self.buf.get(..ext.end).unwrap_or_default(),
            pos: ext.start,
            path: self.path.clone(),
        };
        sub.refinements(ty, depth)
    }

    fn refinements(&mut self, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
        let n = self.map_len("refinement map")?;
        if *ty == Type::Dynamic {
            // cty ignores refinements on dynamic unknowns (they are not defined yet).
            return Ok(Value::unknown());
        }
        let mut r = Refinements::default();
        let mut definitely_null = false;
        for _ in 0..n {
            let key_at = self.pos;
            let key = self.integer("integer refinement key")?;
            let value_at = self.pos;
            let wrong_type = |d: &Self, what: &str| {
                d.err_at(
                    key_at,
                    format!("a {what} refinement does not apply to {ty}"),
                )
            };
            match i64::try_from(key).unwrap_or(i64::MAX) {
                KEY_NULLNESS => {
                    if self.boolean("nullness refinement (bool)")? {
                        definitely_null = true;
                    } else {
                        r.not_null = true;
                    }
                }
                KEY_STRING_PREFIX => {
                    if *ty != Type::String {
                        return Err(wrong_type(self, "string prefix"));
                    }
                    r.string_prefix = Some(self.string("string prefix refinement")?);
                }
                k @ (KEY_NUMBER_LOWER | KEY_NUMBER_UPPER) => {
                    if *ty != Type::Number {
                        return Err(wrong_type(self, "number bound"));
                    }
                    let n = self.array_len("number bound refinement ([number, bool])")?;
                    if n != 2 {
                        return Err(self.err_at(
                            value_at,
                            format!("a number bound refinement must be [number, bool], found {n} elements"),
                        ));
                    }
                    let bound = self.number()?;
                    let inclusive = self.boolean("number bound inclusiveness (bool)")?;
                    if k == KEY_NUMBER_LOWER {
                        r.number_lower = Some((bound, inclusive));
                    } else {
                        r.number_upper = Some((bound, inclusive));
                    }
                }
                k @ (KEY_LENGTH_MIN | KEY_LENGTH_MAX) => {
                    if !ty.is_collection() {
                        return Err(wrong_type(self, "length"));
                    }
                    let len = self.integer("length refinement (integer)")?;
                    let len = u64::try_from(len).map_err(|_| {
                        self.err_at(value_at, format!("length refinement {len} is negative"))
                    })?;
                    if k == KEY_LENGTH_MIN {
                        r.length_min = Some(len);
                    } else {
                        r.length_max = Some(len);
                    }
                }
                // Future refinement kinds: skip, as the protocol asks.
                _ => self.skip(depth + 1)?,
            }
        }
        // Bytes after the map are ignored, as cty does (room for future extensions).
        Ok(if definitely_null {
            Value::Null
        } else {
            Value::Unknown(r)
        })
    }
}
