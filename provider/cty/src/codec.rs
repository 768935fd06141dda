//! What the wire formats (`json`, `msgpack`) and the type model's JSON spelling (`types`) have in
//! common: the nesting limit for decoding, JSON string literals, and short quoted excerpts of
//! input for error messages.
//!
//! It imports nothing from the crate, so the value model can use it without depending on a wire
//! format and the wire formats can share it without depending on each other.

use std::fmt::Write as _;

/// Containers nested deeper than this are rejected while decoding.
// Public only so that `msgpack` can re-export it; this module itself is private.
pub const MAX_DEPTH: usize = 128;

/// Writes `s` as a JSON string literal.
pub(crate) fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
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

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub(crate) fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}
