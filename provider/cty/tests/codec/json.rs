//! JSON golden text derived from go-cty's encoder (cty/json/marshal.go), cty's lenient decoding,
//! and the errors for JSON that does not fit the type.

use tfplugin_cty::{Number, Type, Value, json};

use super::num;

fn json_str(v: &Value, ty: &Type) -> String {
    String::from_utf8(json::encode(v, ty).unwrap()).unwrap()
}

#[test]
fn json_encoding_matches_cty() {
    let ty = Type::object([
        ("b", Type::String),
        ("a", Type::Number),
        ("l", Type::list(Type::Bool)),
        ("m", Type::map(Type::Number)),
        ("t", Type::Tuple(vec![Type::String, Type::Number])),
        ("d", Type::Dynamic),
        ("s", Type::set(Type::String)),
    ]);
    let v = Value::object([
        ("b", Value::string("q\"\\\n\u{1}é")),
        ("a", num("0.1")),
        ("l", Value::list(vec![Value::Bool(true), Value::Null])),
        (
            "m",
            Value::map([("z", num("12345678901234567890.5")), ("y", num("-1e-3"))]),
        ),
        (
            "t",
            Value::tuple(vec![Value::string("x"), Value::number(2)]),
        ),
        (
            "d",
            Value::dynamic(
                Type::list(Type::String),
                Value::list(vec![Value::string("v")]),
            ),
        ),
    ]);
    let text = json_str(&v, &ty);
    assert_eq!(
        text,
        r#"{"a":0.1,"b":"q\"\\\n\u0001é","d":{"value":["v"],"type":["list","string"]},"l":[true,null],"m":{"y":-0.001,"z":12345678901234567890.5},"s":null,"t":["x",2]}"#
    );
    let back = json::decode(text.as_bytes(), &ty).unwrap();
    let mut expected = v.as_object().unwrap().clone();
    expected.insert("s".into(), Value::Null);
    assert_eq!(back, Value::Object(expected));
}

#[test]
fn json_decoding_is_lenient_like_cty() {
    let ty = Type::object([("n", Type::Number), ("s", Type::String), ("b", Type::Bool)]);
    let v = json::decode(br#" {"n":"42","s":1.50,"b":"true"} "#, &ty).unwrap();
    assert_eq!(
        v,
        Value::object([
            ("n", Value::number(42)),
            ("s", Value::string("1.50")),
            ("b", Value::Bool(true))
        ])
    );
    let v = json::decode(br#"{"s":true}"#, &ty).unwrap();
    assert_eq!(v.get("s"), Some(&Value::string("true")));
    assert_eq!(v.get("n"), Some(&Value::Null), "missing attribute is null");
    assert_eq!(json::decode(b"", &ty).unwrap(), Value::Null);
    assert_eq!(json::decode(b" null ", &ty).unwrap(), Value::Null);
    // Dynamic: keys in any order, "value" first as cty writes it.
    assert_eq!(
        json::decode(br#"{"type":"string","value":"x"}"#, &Type::Dynamic).unwrap(),
        Value::dynamic(Type::String, Value::string("x"))
    );
    assert_eq!(
        json::decode(
            br#"{"value":null,"type":["list","number"]}"#,
            &Type::Dynamic
        )
        .unwrap(),
        Value::dynamic(Type::list(Type::Number), Value::Null)
    );
    // Unicode escapes, including a surrogate pair.
    assert_eq!(
        json::decode(br#""\u00e9\ud83d\ude00\/""#, &Type::String).unwrap(),
        Value::string("é😀/")
    );
    // Numbers keep every digit.
    assert_eq!(
        json::decode(
            b"123456789012345678901234567890.000000000000000000001",
            &Type::Number
        )
        .unwrap(),
        num("123456789012345678901234567890.000000000000000000001")
    );
}

#[test]
fn json_errors() {
    let ty = Type::object([("a", Type::String)]);
    let err = json::decode(br#"{"a":"x","zz":1}"#, &ty).unwrap_err();
    assert!(err.to_string().contains("\"zz\""), "{err}");
    assert_eq!(err.offset(), 9);
    let err = json::decode(br#"{"a":[1]}"#, &ty).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at a (byte 5): expected string, found JSON array"
    );
    for (input, ty) in [
        (&br#"{"a":"x"} x"#[..], Type::object([("a", Type::String)])),
        (b"[1,]", Type::list(Type::Number)),
        (b"01", Type::Number),
        (b"1.", Type::Number),
        (b"\"Infinity\"", Type::Number),
        (b"\"abc", Type::String),
        (b"\"\\ud800\"", Type::String),
        (b"\"\\x\"", Type::String),
        (b"{\"type\":\"string\"}", Type::Dynamic),
        (
            b"{\"type\":\"string\",\"value\":\"x\",\"extra\":1}",
            Type::Dynamic,
        ),
        (b"\"x\"", Type::Dynamic),
        (b"[1]", Type::Tuple(vec![Type::Number, Type::Number])),
        (b"tru", Type::Bool),
        (b"\"yes\"", Type::Bool),
    ] {
        assert!(
            json::decode(input, &ty).is_err(),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    let deep = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
    let err = json::decode(deep.as_bytes(), &Type::Dynamic).unwrap_err();
    assert!(err.message().contains("nested"), "{err}");

    assert!(json::encode(&Value::unknown(), &Type::String).is_err());
    let err = json::encode(&Value::object([("a", Value::unknown())]), &ty).unwrap_err();
    assert_eq!(err.path().to_string(), "a");
    assert!(json::encode(&Value::Number(Number::infinity(false)), &Type::Number).is_err());
}
