//! Decodes arbitrary bytes as msgpack (and JSON) against a type derived from the input's first
//! bytes. Decoding must never panic; whatever decodes must conform to the type and survive
//! re-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin_cty::{Type, Value, json, msgpack};

/// Builds a small type from the front of `data`, consuming what it reads.
fn take_type(data: &mut &[u8], depth: u32) -> Type {
    let Some((&b, rest)) = data.split_first() else {
        return Type::String;
    };
    *data = rest;
    let kinds = if depth >= 4 { 4 } else { 9 };
    match b % kinds {
        0 => Type::Bool,
        1 => Type::Number,
        2 => Type::String,
        3 => Type::Dynamic,
        4 => Type::list(take_type(data, depth + 1)),
        5 => Type::set(take_type(data, depth + 1)),
        6 => Type::map(take_type(data, depth + 1)),
        7 => {
            let count = (b / 9) % 4;
            Type::object(
                ["a", "b", "c"]
                    .into_iter()
                    .take(usize::from(count))
                    .map(|name| (name, take_type(data, depth + 1)))
                    .collect::<Vec<_>>(),
            )
        }
        _ => Type::Tuple(
            (0..(b / 9) % 3)
                .map(|_| take_type(data, depth + 1))
                .collect(),
        ),
    }
}

fn longest_prefix(v: &Value) -> usize {
    match v {
        Value::Unknown(r) => r.string_prefix.as_ref().map_or(0, String::len),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().map(longest_prefix).max().unwrap_or(0)
        }
        Value::Map(entries) | Value::Object(entries) => {
            entries.values().map(longest_prefix).max().unwrap_or(0)
        }
        Value::Dynamic(_, inner) => longest_prefix(inner),
        _ => 0,
    }
}

fuzz_target!(|input: &[u8]| {
    let mut data = input;
    let ty = take_type(&mut data, 0);

    if let Ok(value) = msgpack::decode(data, &ty) {
        assert!(
            value.conforms_to(&ty).is_ok(),
            "decoded value does not conform"
        );
        // Re-encoding may only fail when refinements grow past Terraform's 1 KiB limit.
        if let Ok(bytes) = msgpack::encode(&value, &ty) {
            let again = msgpack::decode(&bytes, &ty);
            assert!(again.is_ok(), "re-encoded value does not decode: {again:?}");
            if longest_prefix(&value) <= 256 {
                assert_eq!(again.ok(), Some(value), "round trip changed the value");
            }
        }
    }

    if let Ok(value) = json::decode(data, &ty) {
        assert!(
            json::encode(&value, &ty).is_ok(),
            "decoded JSON does not re-encode"
        );
    }
});
