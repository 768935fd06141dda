//! The codec tests, one test binary: golden bytes and text for each wire format
//! (`msgpack.rs`, `json.rs`) and property tests over both (`properties.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod json;
mod msgpack;
mod properties;

use tfplugin_cty::{Number, Value};

/// A number value from its decimal text.
fn num(s: &str) -> Value {
    Value::Number(Number::parse(s).unwrap())
}
