//! Terraform's JSON `DynamicValue` encoding (go-cty `cty/json`), also used for
//! `UpgradeResourceState.raw_state.json`.
//!
//! The input is parsed by a small parser of our own rather than serde_json so that numbers keep
//! every digit (cty numbers are arbitrary precision) and errors carry byte offsets.

use std::collections::BTreeMap;

use crate::codec::{MAX_DEPTH, snippet, write_json_string};
use crate::error::{DecodeError, EncodeError};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::types::Type;
use crate::value::{Target, Value, check, error_at};

/// Decodes JSON `bytes` as a value of type `ty`. Empty (or all-whitespace) input is null.
/// As in cty, a missing object attribute is null and an attribute outside the type is an error;
/// strings holding numbers or bools are accepted where those are expected, and numbers and
/// bools where strings are.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, DecodeError> {
    let mut parser = Parser { buf: bytes, pos: 0 };
    parser.skip_ws();
    if parser.pos == bytes.len() {
        return Ok(Value::Null);
    }
    let node = parser.node(0)?;
    parser.skip_ws();
    if parser.pos != bytes.len() {
        return Err(DecodeError::new(
            Path::root(),
            parser.pos,
            "unexpected text after the JSON value".to_owned(),
        ));
    }
    Converter { path: Vec::new() }.value(&node, ty)
}

/// Encodes `value` as type `ty`. Fails on unknowns and infinities, which JSON cannot carry.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, EncodeError> {
    check(value, ty, &mut Vec::new(), Target::Json)?;
    let mut out = String::new();
    write_value(value, ty, &mut out, &mut Vec::new())?;
    Ok(out.into_bytes())
}

fn write_value(
    v: &Value,
    ty: &Type,
    out: &mut String,
    path: &mut Vec<PathStep>,
) -> Result<(), EncodeError> {
    match (v, ty) {
        (Value::Null, _) => out.push_str("null"),
        (Value::Dynamic(inner_ty, inner), Type::Dynamic) => {
            // cty writes "value" before "type".
            out.push_str("{\"value\":");
            write_value(inner, inner_ty, out, path)?;
            out.push_str(",\"type\":");
            inner_ty.write_json(out);
            out.push('}');
        }
        (Value::Bool(b), Type::Bool) => out.push_str(if *b { "true" } else { "false" }),
        (Value::Number(n), Type::Number) if !n.is_infinite() => out.push_str(n.as_str()),
        (Value::String(s), Type::String) => write_json_string(s, out),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                write_value(item, et, out, path)?;
                path.pop();
            }
            out.push(']');
        }
        (Value::Tuple(items), Type::Tuple(etys)) => {
            out.push('[');
            for (i, (item, et)) in items.iter().zip(etys).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                write_value(item, et, out, path)?;
                path.pop();
            }
            out.push(']');
        }
        (Value::Map(entries), Type::Map(et)) => {
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                path.push(PathStep::Key(k.clone()));
                write_value(item, et, out, path)?;
                path.pop();
            }
            out.push('}');
        }
        (Value::Object(attrs), Type::Object(atys)) => {
            out.push('{');
            for (i, (name, aty)) in atys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(name, out);
                out.push(':');
                path.push(PathStep::Attribute(name.clone()));
                write_value(attrs.get(name).unwrap_or(&Value::Null), aty, out, path)?;
                path.pop();
            }
            out.push('}');
        }
        // `check` already rejected everything else; keep a real error regardless.
        _ => {
            return Err(error_at(
                path,
                format!("cannot encode a {} as {ty} in JSON", v.kind_name()),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsing: JSON text into a tree that remembers where each node started.

struct Node {
    at: usize,
    kind: NodeKind,
}

enum NodeKind {
    Null,
    Bool(bool),
    /// The number's text, exactly as written.
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Members in input order: (offset of the key, key, value).
    Object(Vec<(usize, String, Node)>),
}

impl NodeKind {
    fn describe(&self) -> &'static str {
        match self {
            NodeKind::Null => "JSON null",
            NodeKind::Bool(_) => "JSON boolean",
            NodeKind::Number(_) => "JSON number",
            NodeKind::String(_) => "JSON string",
            NodeKind::Array(_) => "JSON array",
            NodeKind::Object(_) => "JSON object",
        }
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(at: usize, message: String) -> DecodeError {
        DecodeError::new(Path::root(), at, message)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.buf.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.buf.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, DecodeError> {
        self.skip_ws();
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(Self::err(
                at,
                format!("JSON is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        let Some(&b) = self.buf.get(self.pos) else {
            return Err(Self::err(at, "unexpected end of JSON input".to_owned()));
        };
        let kind = match b {
            b'n' => self.literal("null", NodeKind::Null)?,
            b't' => self.literal("true", NodeKind::Bool(true))?,
            b'f' => self.literal("false", NodeKind::Bool(false))?,
            b'"' => NodeKind::String(self.string()?),
            b'-' | b'0'..=b'9' => NodeKind::Number(self.number()?),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if !self.eat(b']') {
                    loop {
                        items.push(self.node(depth + 1)?);
                        self.skip_ws();
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(Self::err(
                                self.pos,
                                "expected ',' or ']' in JSON array".to_owned(),
                            ));
                        }
                    }
                }
                NodeKind::Array(items)
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_ws();
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        let key_at = self.pos;
                        if self.buf.get(self.pos) != Some(&b'"') {
                            return Err(Self::err(
                                key_at,
                                "expected a string key in JSON object".to_owned(),
                            ));
                        }
                        let key = self.string()?;
                        self.skip_ws();
                        if !self.eat(b':') {
                            return Err(Self::err(
                                self.pos,
                                "expected ':' after JSON object key".to_owned(),
                            ));
                        }
                        let value = self.node(depth + 1)?;
                        members.push((key_at, key, value));
                        self.skip_ws();
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return Err(Self::err(
                                self.pos,
                                "expected ',' or '}' in JSON object".to_owned(),
                            ));
                        }
                    }
                }
                NodeKind::Object(members)
            }
            other => {
                return Err(Self::err(
                    at,
                    format!("unexpected character {:?} in JSON", char::from(other)),
                ));
            }
        };
        Ok(Node { at, kind })
    }

    fn literal(&mut self, word: &str, kind: NodeKind) -> Result<NodeKind, DecodeError> {
        if self.buf.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(Self::err(self.pos, "invalid JSON literal".to_owned()))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.buf.get(self.pos) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<String, DecodeError> {
        let start = self.pos;
        self.eat(b'-');
        let int_start = self.pos;
        let int_digits = self.digits();
        if int_digits == 0 || (int_digits > 1 && self.buf.get(int_start) == Some(&b'0')) {
            return Err(Self::err(start, "invalid JSON number".to_owned()));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(Self::err(start, "invalid JSON number".to_owned()));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return Err(Self::err(start, "invalid JSON number".to_owned()));
            }
        }
        let text = self.buf.get(start..self.pos).unwrap_or_default();
        // Only ASCII digits, signs, '.', 'e' were consumed.
        Ok(String::from_utf8_lossy(text).into_owned())
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let at = self.pos;
        let text = self
            .buf
            .get(self.pos..self.pos + 4)
            .and_then(|b| std::str::from_utf8(b).ok())
            .ok_or_else(|| Self::err(at, "truncated \\u escape in JSON string".to_owned()))?;
        let v = u32::from_str_radix(text, 16)
            .map_err(|_| Self::err(at, "invalid \\u escape in JSON string".to_owned()))?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(Self::err(start, "unterminated JSON string".to_owned()));
            };
            self.pos += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let esc_at = self.pos - 1;
                    let Some(&e) = self.buf.get(self.pos) else {
                        return Err(Self::err(start, "unterminated JSON string".to_owned()));
                    };
                    self.pos += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{08}',
                        b'f' => '\u{0c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&hi) {
                                if !(self.eat(b'\\') && self.eat(b'u')) {
                                    return Err(Self::err(
                                        esc_at,
                                        "unpaired surrogate in JSON string".to_owned(),
                                    ));
                                }
                                let lo = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return Err(Self::err(
                                        esc_at,
                                        "unpaired surrogate in JSON string".to_owned(),
                                    ));
                                }
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| {
                                Self::err(esc_at, "unpaired surrogate in JSON string".to_owned())
                            })?
                        }
                        _ => {
                            return Err(Self::err(
                                esc_at,
                                "invalid escape in JSON string".to_owned(),
                            ));
                        }
                    };
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                }
                0x00..=0x1f => {
                    return Err(Self::err(
                        self.pos - 1,
                        "control character in JSON string".to_owned(),
                    ));
                }
                _ => out.push(b),
            }
        }
        String::from_utf8(out)
            .map_err(|_| Self::err(start, "JSON string is not valid UTF-8".to_owned()))
    }
}

// ---------------------------------------------------------------------------------------------
// Schema-directed conversion of the parsed tree.

struct Converter {
    path: Vec<PathStep>,
}

impl Converter {
    fn err(&self, at: usize, message: String) -> DecodeError {
        DecodeError::new(Path(self.path.clone()), at, message)
    }

    fn mismatch(&self, node: &Node, expected: &str) -> DecodeError {
        self.err(
            node.at,
            format!("expected {expected}, found {}", node.kind.describe()),
        )
    }

    fn value(&mut self, node: &Node, ty: &Type) -> Result<Value, DecodeError> {
        if let NodeKind::Null = node.kind {
            return Ok(Value::Null);
        }
        match (ty, &node.kind) {
            (Type::Dynamic, NodeKind::Object(members)) => self.dynamic(node, members),
            (Type::Bool, NodeKind::Bool(b)) => Ok(Value::Bool(*b)),
            (Type::Bool, NodeKind::String(s)) => match s.as_str() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(self.err(node.at, format!("{} is not a bool", snippet(s)))),
            },
            (Type::Number, NodeKind::Number(text) | NodeKind::String(text)) => {
                match Number::parse(text) {
                    // JSON has no spelling for infinity, so none is accepted from a string
                    // either: the value could never be written back.
                    Some(n) if !n.is_infinite() => Ok(Value::Number(n)),
                    _ => Err(self.err(
                        node.at,
                        format!("{} is not a valid finite number", snippet(text)),
                    )),
                }
            }
            (Type::String, NodeKind::String(s) | NodeKind::Number(s)) => {
                Ok(Value::String(s.clone()))
            }
            (Type::String, NodeKind::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::List(et), NodeKind::Array(items)) => self.sequence(items, et).map(Value::List),
            (Type::Set(et), NodeKind::Array(items)) => self.sequence(items, et).map(Value::set),
            (Type::Tuple(etys), NodeKind::Array(items)) => {
                if items.len() != etys.len() {
                    return Err(self.err(
                        node.at,
                        format!(
                            "expected a tuple of {} elements, found an array of {}",
                            etys.len(),
                            items.len()
                        ),
                    ));
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, (item, et)) in items.iter().zip(etys).enumerate() {
                    self.path
                        .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
                    out.push(self.value(item, et)?);
                    self.path.pop();
                }
                Ok(Value::Tuple(out))
            }
            (Type::Map(et), NodeKind::Object(members)) => {
                let mut entries = BTreeMap::new();
                for (_, key, item) in members {
                    self.path.push(PathStep::Key(key.clone()));
                    let v = self.value(item, et)?;
                    self.path.pop();
                    entries.insert(key.clone(), v);
                }
                Ok(Value::Map(entries))
            }
            (Type::Object(atys), NodeKind::Object(members)) => {
                let mut attrs = BTreeMap::new();
                for (key_at, key, item) in members {
                    let Some(aty) = atys.get(key) else {
                        return Err(self.err(
                            *key_at,
                            format!("unsupported attribute {key:?}: not in the object type"),
                        ));
                    };
                    if attrs.contains_key(key) {
                        return Err(self.err(*key_at, format!("duplicate attribute {key:?}")));
                    }
                    self.path.push(PathStep::Attribute(key.clone()));
                    let v = self.value(item, aty)?;
                    self.path.pop();
                    attrs.insert(key.clone(), v);
                }
                for name in atys.keys() {
                    if !attrs.contains_key(name) {
                        attrs.insert(name.clone(), Value::Null);
                    }
                }
                Ok(Value::Object(attrs))
            }
            (Type::Dynamic, _) => Err(self.mismatch(node, "a {\"type\", \"value\"} JSON object")),
            (Type::List(_) | Type::Set(_) | Type::Tuple(_), _) => {
                Err(self.mismatch(node, "JSON array"))
            }
            (Type::Map(_) | Type::Object(_), _) => Err(self.mismatch(node, "JSON object")),
            (Type::Bool, _) => Err(self.mismatch(node, "bool")),
            (Type::Number, _) => Err(self.mismatch(node, "number")),
            (Type::String, _) => Err(self.mismatch(node, "string")),
        }
    }

    fn sequence(&mut self, items: &[Node], et: &Type) -> Result<Vec<Value>, DecodeError> {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            self.path
                .push(PathStep::Index(i64::try_from(i).unwrap_or(i64::MAX)));
            out.push(self.value(item, et)?);
            self.path.pop();
        }
        Ok(out)
    }

    fn dynamic(
        &mut self,
        node: &Node,
        members: &[(usize, String, Node)],
    ) -> Result<Value, DecodeError> {
        let mut type_node = None;
        let mut value_node = None;
        for (key_at, key, item) in members {
            match key.as_str() {
                "type" => type_node = Some(item),
                "value" => value_node = Some(item),
                other => {
                    return Err(self.err(
                        *key_at,
                        format!("invalid key {other:?} in a dynamic value (expected \"type\" and \"value\")"),
                    ));
                }
            }
        }
        let Some(type_node) = type_node else {
            return Err(self.err(node.at, "dynamic value has no \"type\"".to_owned()));
        };
        let Some(value_node) = value_node else {
            return Err(self.err(node.at, "dynamic value has no \"value\"".to_owned()));
        };
        let ty = Type::from_json(&to_serde(type_node))
            .map_err(|e| self.err(type_node.at, e.to_string()))?;
        let inner = self.value(value_node, &ty)?;
        Ok(if ty == Type::Dynamic {
            inner
        } else {
            Value::Dynamic(Box::new(ty), Box::new(inner))
        })
    }
}

/// Converts a parsed node to serde_json, for [`Type::from_json`]. Depth is already bounded by
/// the parser.
fn to_serde(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.kind {
        NodeKind::Null => J::Null,
        NodeKind::Bool(b) => J::Bool(*b),
        NodeKind::Number(text) => serde_json::from_str(text).unwrap_or(J::Null),
        NodeKind::String(s) => J::String(s.clone()),
        NodeKind::Array(items) => J::Array(items.iter().map(to_serde).collect()),
        NodeKind::Object(members) => J::Object(
            members
                .iter()
                .map(|(_, k, v)| (k.clone(), to_serde(v)))
                .collect(),
        ),
    }
}
