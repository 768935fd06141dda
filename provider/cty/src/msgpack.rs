//! Terraform's msgpack `DynamicValue` encoding (go-cty `cty/msgpack`).
//!
//! Decoding is schema-directed and never trusts the input: every length is checked against the
//! bytes that remain, nesting is capped at [`MAX_DEPTH`], and nothing panics.

use std::collections::BTreeMap;

use crate::error::{DecodeError, EncodeError};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::Type;
use crate::value::{Refinements, Target, Value, check, error_at};

/// Containers nested deeper than this are rejected while decoding.
pub const MAX_DEPTH: usize = 128;

/// cty's extension type for an unknown value that carries refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
/// cty refuses larger refinement payloads as abusive; so do we, both ways.
const MAX_REFINEMENT_PAYLOAD: usize = 1024;
/// cty keeps at most this many bytes of a string-prefix refinement.
const MAX_STRING_PREFIX: usize = 256;
/// cty's encoding of a wholly unknown value: fixext1, type 0, one zero byte.
const PLAIN_UNKNOWN: [u8; 3] = [0xd4, 0x00, 0x00];

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_LOWER: i64 = 3;
const KEY_NUMBER_UPPER: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

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

// ---------------------------------------------------------------------------------------------
// Encoding

struct Writer {
    out: Vec<u8>,
    path: Vec<PathStep>,
}

impl Writer {
    fn err(&self, message: String) -> EncodeError {
        error_at(&self.path, message)
    }

    fn value(&mut self, v: &Value, ty: &Type) -> Result<(), EncodeError> {
        match (v, ty) {
            (Value::Null, _) => self.out.push(0xc0),
            (Value::Unknown(r), _) => self.unknown(r)?,
            (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
                // cty wraps a typed value in a dynamic position as [type JSON as bin, value].
                self.out.push(0x92);
                write_bin(&mut self.out, inner_ty.to_json_string().as_bytes())
                    .map_err(|m| self.err(m))?;
                self.value(inner, inner_ty)?;
            }
            (Value::Bool(b), Type::Bool) => self.out.push(if *b { 0xc3 } else { 0xc2 }),
            (Value::Number(n), Type::Number) => self.number(n).map_err(|m| self.err(m))?,
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

    fn number(&mut self, n: &Number) -> Result<(), String> {
        if let Some(i) = n.as_i64() {
            write_int(&mut self.out, i);
        } else if n.is_infinite() {
            write_f64(
                &mut self.out,
                if n.is_negative() {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                },
            );
        } else if let Some(f) = n.as_exact_f64() {
            write_f64(&mut self.out, f);
        } else {
            write_str(&mut self.out, n.as_str())?;
        }
        Ok(())
    }

    fn unknown(&mut self, r: &Refinements) -> Result<(), EncodeError> {
        if r.is_empty() {
            self.out.extend_from_slice(&PLAIN_UNKNOWN);
            return Ok(());
        }
        let mut body = Vec::new();
        let mut entries: u8 = 0;
        let mut sub = Writer {
            out: Vec::new(),
            path: Vec::new(),
        };
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
            )
            .map_err(|m| self.err(m))?;
        }
        for (key, bound) in [
            (KEY_NUMBER_LOWER, &r.number_lower),
            (KEY_NUMBER_UPPER, &r.number_upper),
        ] {
            if let Some((n, inclusive)) = bound {
                entries += 1;
                write_int(&mut body, key);
                body.push(0x92);
                sub.out.clear();
                sub.number(n).map_err(|m| self.err(m))?;
                body.extend_from_slice(&sub.out);
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
            return Err(self.err(format!(
                "unknown-value refinements take {} bytes; Terraform accepts at most {MAX_REFINEMENT_PAYLOAD}",
                payload.len()
            )));
        }
        write_ext_header(&mut self.out, REFINED_UNKNOWN_EXT, payload.len());
        self.out.extend_from_slice(&payload);
        Ok(())
    }
}

/// A string for an error message, cut short so hostile input cannot bloat the error.
pub(crate) fn snippet(s: &str) -> String {
    const MAX: usize = 40;
    if s.len() <= MAX {
        format!("{s:?}")
    } else {
        format!("{:?}…", truncate_at_char_boundary(s, MAX))
    }
}

fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

/// Markers for (fix, 16-bit, 32-bit) lengths.
type LenMarkers = (u8, u8, u8);
const ARRAY_MARKERS: LenMarkers = (0x90, 0xdc, 0xdd);
const MAP_MARKERS: LenMarkers = (0x80, 0xde, 0xdf);

fn write_len(out: &mut Vec<u8>, len: usize, (fix, m16, m32): LenMarkers) -> Result<(), String> {
    if len < 16 {
        // len < 16 fits the fix marker's low nibble.
        out.push(fix | u8::try_from(len).unwrap_or(0));
    } else if let Ok(l) = u16::try_from(len) {
        out.push(m16);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(m32);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!(
            "{len} elements exceed msgpack's 32-bit length limit"
        ));
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), String> {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | u8::try_from(len).unwrap_or(0));
    } else if let Ok(l) = u8::try_from(len) {
        out.push(0xd9);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xda);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0xdb);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!(
            "a string of {len} bytes exceeds msgpack's 32-bit length limit"
        ));
    }
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) -> Result<(), String> {
    let len = b.len();
    if let Ok(l) = u8::try_from(len) {
        out.push(0xc4);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xc5);
        out.extend_from_slice(&l.to_be_bytes());
    } else if let Ok(l) = u32::try_from(len) {
        out.push(0xc6);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        return Err(format!("{len} bytes exceed msgpack's 32-bit length limit"));
    }
    out.extend_from_slice(b);
    Ok(())
}

/// The most compact integer encoding, as go-cty's encoder chooses it (non-negative values use
/// the unsigned forms).
fn write_int(out: &mut Vec<u8>, i: i64) {
    if let Ok(u) = u64::try_from(i) {
        write_uint(out, u);
    } else if i >= -32 {
        out.extend_from_slice(&i8::try_from(i).unwrap_or(0).to_be_bytes());
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xd0);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xd1);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xd2);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u < 128 {
        out.push(u8::try_from(u).unwrap_or(0));
    } else if let Ok(v) = u8::try_from(u) {
        out.push(0xcc);
        out.push(v);
    } else if let Ok(v) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_be_bytes());
}

fn write_ext_header(out: &mut Vec<u8>, kind: i8, len: usize) {
    let fixed = match len {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    if let Some(marker) = fixed {
        out.push(marker);
    } else if let Ok(l) = u8::try_from(len) {
        out.push(0xc7);
        out.push(l);
    } else if let Ok(l) = u16::try_from(len) {
        out.push(0xc8);
        out.extend_from_slice(&l.to_be_bytes());
    } else {
        // Callers cap the payload at 1 KiB, far below the 32-bit limit.
        out.push(0xc9);
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
    }
    out.extend_from_slice(&kind.to_be_bytes());
}

// ---------------------------------------------------------------------------------------------
// Decoding

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    path: Vec<PathStep>,
}

/// A located extension value: its type and the byte range of its payload.
struct Ext {
    kind: i8,
    start: usize,
    end: usize,
}

fn is_ext(marker: u8) -> bool {
    matches!(marker, 0xc7..=0xc9 | 0xd4..=0xd8)
}

/// What a marker byte introduces, for "found ..." messages.
fn describe(marker: u8) -> &'static str {
    match marker {
        0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => "msgpack int",
        0x80..=0x8f | 0xde | 0xdf => "msgpack map",
        0x90..=0x9f | 0xdc | 0xdd => "msgpack array",
        0xa0..=0xbf | 0xd9..=0xdb => "msgpack str",
        0xc0 => "msgpack nil",
        0xc1 => "reserved byte 0xc1",
        0xc2 | 0xc3 => "msgpack bool",
        0xc4..=0xc6 => "msgpack bin",
        0xc7..=0xc9 | 0xd4..=0xd8 => "msgpack ext",
        0xca | 0xcb => "msgpack float",
    }
}

impl<'a> Decoder<'a> {
    fn err_at(&self, offset: usize, message: String) -> DecodeError {
        DecodeError::new(Path(self.path.clone()), offset, message)
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self, expected: &str) -> Result<u8, DecodeError> {
        self.buf.get(self.pos).copied().ok_or_else(|| {
            self.err_at(
                self.pos,
                format!("unexpected end of input, expected {expected}"),
            )
        })
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.buf.len())
            .ok_or_else(|| {
                self.err_at(
                    self.pos,
                    format!(
                        "{what} needs {n} bytes but only {} remain",
                        self.remaining()
                    ),
                )
            })?;
        let bytes = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(bytes)
    }

    fn be<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn be_len<const N: usize>(&mut self, what: &str) -> Result<usize, DecodeError> {
        let bytes: [u8; N] = self.be(what)?;
        let len = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        usize::try_from(len).map_err(|_| self.err_at(self.pos, format!("{what} is too long")))
    }

    fn mismatch(&self, at: usize, marker: u8, expected: &str) -> DecodeError {
        self.err_at(
            at,
            format!("expected {expected}, found {}", describe(marker)),
        )
    }

    fn array_len(&mut self, expected: &str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        match m {
            0x90..=0x9f => Ok(usize::from(m & 0x0f)),
            0xdc => self.be_len::<2>("array length"),
            0xdd => self.be_len::<4>("array length"),
            _ => Err(self.mismatch(at, m, expected)),
        }
    }

    fn map_len(&mut self, expected: &str) -> Result<usize, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        match m {
            0x80..=0x8f => Ok(usize::from(m & 0x0f)),
            0xde => self.be_len::<2>("map length"),
            0xdf => self.be_len::<4>("map length"),
            _ => Err(self.mismatch(at, m, expected)),
        }
    }

    /// The bytes of a str or bin item.
    fn raw_bytes(&mut self, expected: &str) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        let len = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 | 0xc4 => self.be_len::<1>("string length")?,
            0xda | 0xc5 => self.be_len::<2>("string length")?,
            0xdb | 0xc6 => self.be_len::<4>("string length")?,
            _ => {
                self.pos = at;
                return Err(self.mismatch(at, m, expected));
            }
        };
        self.take(len, "string")
    }

    fn string(&mut self, expected: &str) -> Result<String, DecodeError> {
        let at = self.pos;
        let bytes = self.raw_bytes(expected)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| self.err_at(at, format!("{expected} is not valid UTF-8")))
    }

    fn boolean(&mut self, expected: &str) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.peek(expected)? {
            0xc2 => {
                self.pos += 1;
                Ok(false)
            }
            0xc3 => {
                self.pos += 1;
                Ok(true)
            }
            m => Err(self.mismatch(at, m, expected)),
        }
    }

    /// Any msgpack integer, widened to i128 so both i64 and u64 fit.
    fn integer(&mut self, expected: &str) -> Result<i128, DecodeError> {
        let at = self.pos;
        let m = self.peek(expected)?;
        self.pos += 1;
        Ok(match m {
            0x00..=0x7f => i128::from(m),
            0xe0..=0xff => i128::from(i8::from_be_bytes([m])),
            0xcc => i128::from(u8::from_be_bytes(self.be("uint8")?)),
            0xcd => i128::from(u16::from_be_bytes(self.be("uint16")?)),
            0xce => i128::from(u32::from_be_bytes(self.be("uint32")?)),
            0xcf => i128::from(u64::from_be_bytes(self.be("uint64")?)),
            0xd0 => i128::from(i8::from_be_bytes(self.be("int8")?)),
            0xd1 => i128::from(i16::from_be_bytes(self.be("int16")?)),
            0xd2 => i128::from(i32::from_be_bytes(self.be("int32")?)),
            0xd3 => i128::from(i64::from_be_bytes(self.be("int64")?)),
            _ => {
                self.pos = at;
                return Err(self.mismatch(at, m, expected));
            }
        })
    }

    fn number(&mut self) -> Result<Number, DecodeError> {
        let at = self.pos;
        let m = self.peek("number")?;
        match m {
            0x00..=0x7f | 0xcc..=0xd3 | 0xe0..=0xff => {
                let i = self.integer("number")?;
                Ok(match i64::try_from(i) {
                    Ok(i) => Number::from_i64(i),
                    // Only uint64 values above i64::MAX get here.
                    Err(_) => Number::from_u64(u64::try_from(i).unwrap_or(u64::MAX)),
                })
            }
            0xca | 0xcb => {
                self.pos += 1;
                let f = if m == 0xca {
                    f64::from(f32::from_be_bytes(self.be("float32")?))
                } else {
                    f64::from_be_bytes(self.be("float64")?)
                };
                Number::from_f64(f).ok_or_else(|| self.err_at(at, "NaN is not a number".to_owned()))
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                let text = self.string("number")?;
                Number::parse(&text).ok_or_else(|| {
                    self.err_at(at, format!("{} is not a valid number", snippet(&text)))
                })
            }
            _ => Err(self.mismatch(at, m, "number")),
        }
    }

    fn ext(&mut self) -> Result<Ext, DecodeError> {
        let at = self.pos;
        let m = self.peek("ext")?;
        self.pos += 1;
        let len = match m {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.be_len::<1>("ext length")?,
            0xc8 => self.be_len::<2>("ext length")?,
            0xc9 => self.be_len::<4>("ext length")?,
            _ => return Err(self.mismatch(at, m, "ext")),
        };
        let kind = i8::from_be_bytes(self.be("ext type")?);
        let start = self.pos;
        self.take(len, "ext payload")?;
        Ok(Ext {
            kind,
            start,
            end: self.pos,
        })
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, DecodeError> {
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

    fn unknown(
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

    /// Skips one msgpack item of any kind.
    fn skip(&mut self, depth: usize) -> Result<(), DecodeError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err_at(
                at,
                format!("value is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let m = self.peek("a msgpack item")?;
        match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => self.pos += 1,
            0xcc..=0xd3 => {
                self.integer("integer")?;
            }
            0xca => {
                self.pos += 1;
                self.take(4, "float32")?;
            }
            0xcb => {
                self.pos += 1;
                self.take(8, "float64")?;
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                self.raw_bytes("string")?;
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                self.ext()?;
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let n = self.array_len("array")?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                }
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let n = self.map_len("map")?;
                for _ in 0..n {
                    self.skip(depth + 1)?;
                    self.skip(depth + 1)?;
                }
            }
            0xc1 => {
                return Err(self.err_at(at, "reserved byte 0xc1 is not valid msgpack".to_owned()));
            }
        }
        Ok(())
    }
}
