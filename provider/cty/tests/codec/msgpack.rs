//! msgpack golden bytes derived from go-cty's encoder (cty/msgpack/marshal.go, unknown.go,
//! dynamic.go), checked in both directions, then decoding errors and hostile input.

use std::collections::BTreeMap;

use tfplugin_cty::{Number, Path, PathStep, Refinements, Type, Value, msgpack};

use super::num;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Encodes and checks the bytes, then decodes those bytes and checks the value comes back.
fn golden(value: &Value, ty: &Type, expected_hex: &str) {
    let expected = hex(expected_hex);
    let bytes = msgpack::encode(value, ty).unwrap();
    assert_eq!(bytes, expected, "encoding of {value:?} as {ty}");
    assert_eq!(
        &msgpack::decode(&expected, ty).unwrap(),
        value,
        "decoding {expected_hex}"
    );
}

#[test]
fn msgpack_primitives() {
    golden(&Value::Null, &Type::String, "c0");
    golden(&Value::Bool(true), &Type::Bool, "c3");
    golden(&Value::Bool(false), &Type::Bool, "c2");
    golden(&Value::string("hello"), &Type::String, "a5 68656c6c6f");
    golden(&Value::string(""), &Type::String, "a0");
    let long = "x".repeat(40);
    golden(
        &Value::string(long.clone()),
        &Type::String,
        &format!("d9 28 {}", "78".repeat(40)),
    );
}

#[test]
fn msgpack_numbers_follow_cty() {
    // Exact int64 → the most compact int.
    golden(&Value::number(1), &Type::Number, "01");
    golden(&Value::number(0), &Type::Number, "00");
    golden(&Value::number(-1), &Type::Number, "ff");
    golden(&Value::number(-32), &Type::Number, "e0");
    golden(&Value::number(-33), &Type::Number, "d0 df");
    golden(&Value::number(200), &Type::Number, "cc c8");
    golden(&Value::number(65535), &Type::Number, "cd ffff");
    golden(&Value::number(70000), &Type::Number, "ce 00011170");
    golden(&Value::number(-40000), &Type::Number, "d2 ffff63c0");
    golden(
        &Value::number(i64::MAX),
        &Type::Number,
        "cf 7fffffffffffffff",
    );
    golden(
        &Value::number(i64::MIN),
        &Type::Number,
        "d3 8000000000000000",
    );
    // Exact non-integer float64 → float64.
    golden(&num("0.5"), &Type::Number, "cb 3fe0000000000000");
    golden(&num("-2.25"), &Type::Number, "cb c002000000000000");
    // Not exactly a float64 (cty's 512-bit big.Float from config text) → decimal string.
    golden(&num("0.1"), &Type::Number, "a3 302e31");
    golden(
        &num("1e30"),
        &Type::Number,
        &format!("bf 31{}", "30".repeat(30)),
    );
    golden(
        &num("18446744073709551615"),
        &Type::Number,
        "b4 3138343436373434303733373039353531363135",
    );
    // Beyond int64 but exactly a float64: go-cty's marshal.go checks big.Float.Float64() for
    // exactness before falling back to a string, so 2^63 goes out as float64.
    golden(
        &num("9223372036854775808"),
        &Type::Number,
        "cb 43e0000000000000",
    );
    // Infinities → float64.
    golden(
        &Value::Number(Number::infinity(false)),
        &Type::Number,
        "cb 7ff0000000000000",
    );
    golden(
        &Value::Number(Number::infinity(true)),
        &Type::Number,
        "cb fff0000000000000",
    );
}

#[test]
fn msgpack_number_decoding_accepts_every_numeric_form() {
    let t = Type::Number;
    assert_eq!(
        msgpack::decode(&hex("d0 9c"), &t).unwrap(),
        Value::number(-100)
    );
    assert_eq!(
        msgpack::decode(&hex("d1 fc18"), &t).unwrap(),
        Value::number(-1000)
    );
    assert_eq!(
        msgpack::decode(&hex("cf ffffffffffffffff"), &t).unwrap(),
        Value::Number(Number::from_u64(u64::MAX))
    );
    assert_eq!(
        msgpack::decode(&hex("ca 3fc00000"), &t).unwrap(),
        num("1.5")
    );
    assert_eq!(
        msgpack::decode(&hex("cb 4059000000000000"), &t).unwrap(),
        Value::number(100)
    );
    assert_eq!(
        msgpack::decode(&hex("a4 312e3530"), &t).unwrap(),
        num("1.5")
    );
    assert_eq!(
        msgpack::decode(&hex("c4 03 316532"), &t).unwrap(),
        Value::number(100)
    );
    // A float that arrived as float64 is kept exactly and written back as the same float64.
    let point_one = hex("cb 3fb999999999999a");
    let v = msgpack::decode(&point_one, &t).unwrap();
    assert_eq!(msgpack::encode(&v, &t).unwrap(), point_one);
    assert!(
        msgpack::decode(&hex("cb 7ff8000000000000"), &t).is_err(),
        "NaN"
    );
    assert!(
        msgpack::decode(&hex("a3 616263"), &t).is_err(),
        "not a number"
    );
    assert!(
        msgpack::decode(&hex("c3"), &t).is_err(),
        "bool is not a number"
    );
}

#[test]
fn msgpack_unknowns() {
    golden(&Value::unknown(), &Type::String, "d4 00 00");
    golden(&Value::unknown(), &Type::list(Type::String), "d4 00 00");
    golden(&Value::unknown(), &Type::Dynamic, "d4 00 00");
    // Any extension type other than 12 decodes as a wholly unknown value, whatever its length.
    for input in [
        "c7 00 00",
        "d4 05 ff",
        "d5 00 0000",
        "c7 03 07 010203",
        "d6 07 00000000",
    ] {
        assert_eq!(
            msgpack::decode(&hex(input), &Type::String).unwrap(),
            Value::unknown(),
            "{input}"
        );
    }
}

#[test]
fn msgpack_refined_unknowns() {
    golden(
        &Value::unknown_not_null(),
        &Type::String,
        "c7 03 0c 81 01 c2",
    );
    golden(
        &Value::Unknown(Refinements {
            not_null: true,
            string_prefix: Some("foo-".into()),
            ..Refinements::default()
        }),
        &Type::String,
        "c7 09 0c 82 01 c2 02 a4 666f6f2d",
    );
    // A 4-byte payload uses fixext4, as the Go encoder does.
    golden(
        &Value::Unknown(Refinements {
            string_prefix: Some("a".into()),
            ..Refinements::default()
        }),
        &Type::String,
        "d6 0c 81 02 a1 61",
    );
    golden(
        &Value::Unknown(Refinements {
            number_lower: Some((Number::zero(), true)),
            number_upper: Some((Number::from_i64(10), false)),
            ..Refinements::default()
        }),
        &Type::Number,
        "c7 09 0c 82 03 92 00 c3 04 92 0a c2",
    );
    golden(
        &Value::Unknown(Refinements {
            not_null: true,
            length_min: Some(1),
            length_max: Some(300),
            ..Refinements::default()
        }),
        &Type::set(Type::String),
        "c7 09 0c 83 01 c2 05 01 06 cd 012c",
    );
}

#[test]
fn msgpack_refinement_decoding_edge_cases() {
    let s = Type::String;
    // Nullness true means definitely null.
    assert_eq!(
        msgpack::decode(&hex("c7 03 0c 81 01 c3"), &s).unwrap(),
        Value::Null
    );
    // Unknown keys are skipped, including nested ones.
    assert_eq!(
        msgpack::decode(&hex("c7 0a 0c 82 09 92 a1 78 81 01 02 01 c2"), &s).unwrap(),
        Value::unknown_not_null()
    );
    // An empty refinement map is a plain unknown; so is an ext 12 with a one-byte payload.
    assert_eq!(
        msgpack::decode(&hex("d5 0c 80 00"), &s).unwrap(),
        Value::unknown()
    );
    assert_eq!(
        msgpack::decode(&hex("d4 0c 00"), &s).unwrap(),
        Value::unknown()
    );
    // Refinements are ignored on dynamic unknowns, as cty does.
    assert_eq!(
        msgpack::decode(&hex("c7 03 0c 81 01 c2"), &Type::Dynamic).unwrap(),
        Value::unknown()
    );
    // Infinite bounds (what some cty versions write for "unbounded") decode fine.
    assert_eq!(
        msgpack::decode(
            &hex("c7 0d 0c 81 03 92 cb fff0000000000000 c2"),
            &Type::Number
        )
        .unwrap(),
        Value::Unknown(Refinements {
            number_lower: Some((Number::infinity(true), false)),
            ..Refinements::default()
        })
    );
    // Malformed payloads are errors, not plain unknowns.
    for (input, ty, why) in [
        ("d5 0c c3 c3", Type::String, "payload is not a map"),
        (
            "c7 03 0c 81 a1 78",
            Type::String,
            "non-integer key (and truncated)",
        ),
        ("c7 04 0c 81 a1 78 01", Type::String, "non-integer key"),
        ("c7 03 0c 81 01 01", Type::String, "nullness is not a bool"),
        (
            "c7 04 0c 81 02 a1 61",
            Type::Number,
            "string prefix on a number",
        ),
        (
            "c7 05 0c 81 03 92 00 c3",
            Type::String,
            "number bound on a string",
        ),
        ("c7 03 0c 81 05 01", Type::String, "length on a string"),
        ("c7 04 0c 81 03 91 00", Type::Number, "bound is not a pair"),
        (
            "c7 03 0c 81 05 ff",
            Type::list(Type::Bool),
            "negative length",
        ),
        (
            "c7 03 0c 82 01 c2",
            Type::String,
            "map claims more entries than present",
        ),
        ("c7 04 0c 81 02 a1 ff", Type::String, "prefix is not UTF-8"),
    ] {
        let err = msgpack::decode(&hex(input), &ty);
        assert!(err.is_err(), "{why}: {input} decoded as {err:?}");
    }
    let mut oversize = hex("c9 00000401 0c");
    oversize.extend(std::iter::repeat_n(0u8, 0x401));
    assert!(
        msgpack::decode(&oversize, &s).is_err(),
        "payload over 1 KiB"
    );
}

#[test]
fn msgpack_string_prefix_refinement_is_truncated_to_256_bytes() {
    let prefix = format!("{}é", "a".repeat(255)); // 257 bytes; 'é' straddles the limit
    let v = Value::Unknown(Refinements {
        string_prefix: Some(prefix),
        ..Refinements::default()
    });
    let decoded =
        msgpack::decode(&msgpack::encode(&v, &Type::String).unwrap(), &Type::String).unwrap();
    assert_eq!(
        decoded,
        Value::Unknown(Refinements {
            string_prefix: Some("a".repeat(255)),
            ..Refinements::default()
        })
    );
}

#[test]
fn msgpack_collections() {
    golden(
        &Value::list(vec![Value::string("a")]),
        &Type::list(Type::String),
        "91 a1 61",
    );
    golden(&Value::list(vec![]), &Type::list(Type::String), "90");
    golden(
        &Value::list(vec![Value::Null, Value::unknown()]),
        &Type::list(Type::String),
        "92 c0 d400 00",
    );
    golden(
        &Value::set(vec![Value::number(2), Value::number(1)]),
        &Type::set(Type::Number),
        "92 01 02",
    );
    golden(
        &Value::map([("k", Value::number(1)), ("a", Value::number(2))]),
        &Type::map(Type::Number),
        "82 a1 61 02 a1 6b 01",
    );
    golden(
        &Value::tuple(vec![Value::Bool(true), Value::string("x")]),
        &Type::Tuple(vec![Type::Bool, Type::String]),
        "92 c3 a1 78",
    );
    let items: Vec<Value> = (0..16).map(Value::number).collect();
    let bytes = msgpack::encode(&Value::list(items.clone()), &Type::list(Type::Number)).unwrap();
    assert_eq!(&bytes[..3], &[0xdc, 0x00, 0x10]);
    assert_eq!(
        msgpack::decode(&bytes, &Type::list(Type::Number)).unwrap(),
        Value::list(items)
    );
}

#[test]
fn msgpack_sets_are_deduplicated_on_decode() {
    let v = msgpack::decode(&hex("93 a1 62 a1 61 a1 62"), &Type::set(Type::String)).unwrap();
    assert_eq!(v, Value::set(vec![Value::string("a"), Value::string("b")]));
    assert_eq!(v.elements().unwrap().len(), 2);
}

#[test]
fn msgpack_objects_write_every_attribute_sorted() {
    let ty = Type::object([
        ("b", Type::String),
        ("a", Type::String),
        ("c", Type::Number),
    ]);
    let v = Value::object([("b", Value::string("x")), ("c", Value::number(1))]);
    let bytes = msgpack::encode(&v, &ty).unwrap();
    assert_eq!(bytes, hex("83 a1 61 c0 a1 62 a1 78 a1 63 01"));
    assert_eq!(
        msgpack::decode(&bytes, &ty).unwrap(),
        Value::object([
            ("a", Value::Null),
            ("b", Value::string("x")),
            ("c", Value::number(1)),
        ])
    );
    // Key order on the wire is free; a missing attribute decodes as null.
    assert_eq!(
        msgpack::decode(&hex("82 a1 63 01 a1 62 a1 78"), &ty).unwrap(),
        Value::object([
            ("a", Value::Null),
            ("b", Value::string("x")),
            ("c", Value::number(1)),
        ])
    );
    golden(
        &Value::object([("a", Value::Null)]),
        &Type::object([("a", Type::Bool)]),
        "81 a1 61 c0",
    );
    golden(
        &Value::Object(BTreeMap::new()),
        &Type::Object(BTreeMap::new()),
        "80",
    );
}

#[test]
fn msgpack_dynamic_values() {
    // [bin(type JSON), value], like go-cty's dynamic.go.
    golden(
        &Value::dynamic(Type::String, Value::string("x")),
        &Type::Dynamic,
        "92 c4 08 22737472696e6722 a1 78",
    );
    golden(&Value::Null, &Type::Dynamic, "c0");
    golden(&Value::unknown(), &Type::Dynamic, "d4 00 00");
    // A typed null or unknown in a dynamic position keeps its type.
    golden(
        &Value::dynamic(Type::Number, Value::Null),
        &Type::Dynamic,
        "92 c4 08 226e756d62657222 c0",
    );
    golden(
        &Value::dynamic(Type::list(Type::Bool), Value::list(vec![Value::Bool(true)])),
        &Type::Dynamic,
        "92 c4 0f 5b226c697374222c22626f6f6c225d 91 c3",
    );
    // The type may also come as a str.
    assert_eq!(
        msgpack::decode(&hex("92 a8 22737472696e6722 a1 78"), &Type::Dynamic).unwrap(),
        Value::dynamic(Type::String, Value::string("x"))
    );
    // Nested inside an object.
    let ty = Type::object([("any", Type::Dynamic)]);
    let v = Value::object([(
        "any",
        Value::dynamic(
            Type::object([("n", Type::Number)]),
            Value::object([("n", Value::number(3))]),
        ),
    )]);
    let bytes = msgpack::encode(&v, &ty).unwrap();
    assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), v);
    // Errors: wrong arity, bad type JSON, value not matching the named type.
    for input in [
        "91 c4 08 22737472696e6722",
        "92 c4 03 626164 c0",
        "92 c4 08 22737472696e6722 c3",
        "a1 78",
    ] {
        assert!(
            msgpack::decode(&hex(input), &Type::Dynamic).is_err(),
            "{input}"
        );
    }
}

#[test]
fn msgpack_decode_errors_say_where() {
    let ty = Type::object([(
        "health_check",
        Type::object([("timeout", Type::String), ("path", Type::String)]),
    )]);
    let bytes = hex("81 ac 6865616c74685f636865636b 82 a4 70617468 a1 2f a7 74696d656f7574 05");
    let err = msgpack::decode(&bytes, &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at health_check.timeout (byte 30): expected string, found msgpack int"
    );
    assert_eq!(
        err.path(),
        &Path(vec![
            PathStep::Attribute("health_check".into()),
            PathStep::Attribute("timeout".into())
        ])
    );
    assert_eq!(err.offset(), 30);

    let err = msgpack::decode(
        &hex("81 a5 626f677573 c0"),
        &Type::object([("a", Type::String)]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"bogus\""), "{err}");
    let err = msgpack::decode(&hex("92 a1 61 a1 61"), &Type::object([("a", Type::String)]));
    assert!(err.is_err(), "wrong container kind");
    let err = msgpack::decode(
        &hex("82 a1 61 c0 a1 61 c0"),
        &Type::object([("a", Type::String)]),
    )
    .unwrap_err();
    assert!(err.message().contains("duplicate"), "{err}");
    let err = msgpack::decode(&hex("91 a1 61 c0"), &Type::list(Type::String)).unwrap_err();
    assert!(err.message().contains("unexpected bytes after"), "{err}");
    let err = msgpack::decode(&hex("92 a1 61"), &Type::list(Type::String)).unwrap_err();
    assert_eq!(err.path().to_string(), "[1]");
    let err = msgpack::decode(&hex("81 a1 6b 01"), &Type::map(Type::String)).unwrap_err();
    assert_eq!(err.path().to_string(), r#"["k"]"#);
    assert!(
        msgpack::decode(
            &hex("91 01"),
            &Type::Tuple(vec![Type::Number, Type::Number])
        )
        .is_err()
    );
    assert!(
        msgpack::decode(&hex("a2 ff fe"), &Type::String).is_err(),
        "invalid UTF-8"
    );
    assert!(
        msgpack::decode(&hex("c1"), &Type::String).is_err(),
        "reserved byte"
    );
}

#[test]
fn msgpack_empty_input_is_null() {
    assert_eq!(
        msgpack::decode(&[], &Type::object([("a", Type::String)])).unwrap(),
        Value::Null
    );
    assert_eq!(msgpack::decode(&[], &Type::Dynamic).unwrap(), Value::Null);
}

#[test]
fn msgpack_hostile_lengths_and_depth_fail_cleanly() {
    // A 4-billion element array with no data must not allocate 4 billion slots.
    let err = msgpack::decode(&hex("dd ffffffff"), &Type::list(Type::String)).unwrap_err();
    assert!(err.message().contains("end of input"), "{err}");
    assert!(msgpack::decode(&hex("df ffffffff"), &Type::map(Type::String)).is_err());
    assert!(msgpack::decode(&hex("db ffffffff 61"), &Type::String).is_err());
    assert!(msgpack::decode(&hex("c9 ffffffff 00"), &Type::String).is_err());

    // Deep nesting through a deep type.
    let mut ty = Type::String;
    for _ in 0..300 {
        ty = Type::list(ty);
    }
    let mut bytes = vec![0x91; 300];
    bytes.push(0xa0);
    let err = msgpack::decode(&bytes, &ty).unwrap_err();
    assert!(err.message().contains("nested"), "{err}");

    // Deep nesting through dynamic wrappers naming "dynamic" (the type is tiny, the value deep).
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend(hex("92 c4 09 2264796e616d696322"));
    }
    bytes.push(0xc0);
    let err = msgpack::decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(err.message().contains("nested"), "{err}");

    // Deep type JSON inside a dynamic value.
    let deep_type = format!("{}\"string\"{}", "[\"list\",".repeat(200), "]".repeat(200));
    let mut bytes = hex("92 c5");
    bytes.extend(u16::try_from(deep_type.len()).unwrap().to_be_bytes());
    bytes.extend(deep_type.as_bytes());
    bytes.push(0xc0);
    assert!(msgpack::decode(&bytes, &Type::Dynamic).is_err());
}

#[test]
fn msgpack_encode_rejects_nonconforming_values_with_paths() {
    let ty = Type::object([("tags", Type::map(Type::String)), ("n", Type::Number)]);
    let err = msgpack::encode(
        &Value::object([("tags", Value::map([("env", Value::Bool(true))]))]),
        &ty,
    )
    .unwrap_err();
    assert_eq!(err.path().to_string(), r#"tags["env"]"#);
    assert_eq!(
        err.to_string(),
        r#"at tags["env"]: expected string, found bool"#
    );
    let err = msgpack::encode(&Value::object([("extra", Value::Null)]), &ty).unwrap_err();
    assert!(err.message().contains("\"extra\""), "{err}");
    assert!(msgpack::encode(&Value::string("x"), &Type::Dynamic).is_err());
    assert!(msgpack::encode(&Value::dynamic(Type::Dynamic, Value::Null), &Type::Dynamic).is_err());
    assert!(msgpack::encode(&Value::unknown_not_null(), &Type::Dynamic).is_err());
    assert!(msgpack::encode(&Value::list(vec![]), &Type::set(Type::String)).is_err());
    // Oversized refinements would be refused by Terraform; refuse them here.
    let huge_bound = Number::parse(&format!("0.{}1", "3".repeat(1500))).unwrap();
    let v = Value::Unknown(Refinements {
        number_lower: Some((huge_bound, true)),
        ..Refinements::default()
    });
    assert!(msgpack::encode(&v, &Type::Number).is_err());
}
