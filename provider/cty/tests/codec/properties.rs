//! Property tests for both wire formats: random values round-trip, and random or damaged bytes
//! never make a decoder panic. The golden-byte tests
//! are in `msgpack.rs` and `json.rs`.

use proptest::prelude::*;
use tfplugin_cty::{Number, Refinements, Type, Value, json, msgpack};

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number(infinities: bool) -> BoxedStrategy<Number> {
    let finite = prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        any::<f64>().prop_filter_map("finite", |f| f
            .is_finite()
            .then(|| Number::from_f64(f))
            .flatten()),
        "-?[0-9]{1,25}(\\.[0-9]{1,25})?(e-?[0-9]{1,2})?"
            .prop_filter_map("parses", |s| Number::parse(&s)),
    ];
    if infinities {
        prop_oneof![8 => finite, 1 => any::<bool>().prop_map(Number::infinity)].boxed()
    } else {
        finite.boxed()
    }
}

#[derive(Clone, Copy)]
struct Gen {
    unknowns: bool,
    infinities: bool,
    /// How many more dynamic values may nest, to keep generation finite.
    dynamic_budget: u32,
}

fn arb_refinements(ty: &Type, g: Gen) -> BoxedStrategy<Refinements> {
    if *ty == Type::Dynamic {
        return Just(Refinements::default()).boxed();
    }
    let prefix = if *ty == Type::String {
        prop::option::of(".{0,12}").boxed()
    } else {
        Just(None).boxed()
    };
    let bound = if *ty == Type::Number {
        prop::option::of((arb_number(g.infinities), any::<bool>())).boxed()
    } else {
        Just(None).boxed()
    };
    let length = if ty.is_collection() {
        prop::option::of(any::<u64>()).boxed()
    } else {
        Just(None).boxed()
    };
    (
        any::<bool>(),
        prefix,
        bound.clone(),
        bound,
        length.clone(),
        length,
    )
        .prop_map(
            |(not_null, string_prefix, number_lower, number_upper, length_min, length_max)| {
                Refinements {
                    not_null,
                    string_prefix,
                    number_lower,
                    number_upper,
                    length_min,
                    length_max,
                }
            },
        )
        .boxed()
}

fn arb_value(ty: &Type, g: Gen) -> BoxedStrategy<Value> {
    let known: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number(g.infinities).prop_map(Value::Number).boxed(),
        Type::String => ".{0,12}".prop_map(Value::String).boxed(),
        Type::List(et) => prop::collection::vec(arb_value(et, g), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, g), 0..4)
            .prop_map(Value::set)
            .boxed(),
        Type::Map(et) => prop::collection::btree_map(".{0,4}", arb_value(et, g), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(atys) => atys
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, g).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|attrs| Value::Object(attrs.into_iter().collect()))
            .boxed(),
        Type::Tuple(etys) => etys
            .iter()
            .map(|t| arb_value(t, g))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic if g.dynamic_budget == 0 => Just(Value::Null).boxed(),
        Type::Dynamic => {
            let inner = Gen {
                dynamic_budget: g.dynamic_budget - 1,
                ..g
            };
            arb_type()
                .prop_filter("concrete type", |t| *t != Type::Dynamic)
                .prop_flat_map(move |t| {
                    arb_value(&t, inner).prop_map(move |v| Value::dynamic(t.clone(), v))
                })
                .boxed()
        }
    };
    if g.unknowns {
        prop_oneof![
            1 => Just(Value::Null),
            1 => arb_refinements(ty, g).prop_map(Value::Unknown),
            4 => known,
        ]
        .boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 4 => known].boxed()
    }
}

fn typed_value(unknowns: bool, infinities: bool) -> impl Strategy<Value = (Type, Value)> {
    let g = Gen {
        unknowns,
        infinities,
        dynamic_budget: 2,
    };
    arb_type().prop_flat_map(move |t| {
        let values = arb_value(&t, g);
        (Just(t), values)
    })
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

/// Byte strings that look like msgpack: valid encodings, then damaged.
fn mangled_msgpack() -> impl Strategy<Value = (Type, Vec<u8>)> {
    (
        typed_value(true, true),
        any::<prop::sample::Index>(),
        any::<u8>(),
        0..4u8,
    )
        .prop_map(|((t, v), at, byte, how)| {
            let mut bytes = msgpack::encode(&v, &t).unwrap_or_default();
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => bytes.truncate(i),
                    2 => bytes.insert(i, byte),
                    _ => {
                        bytes.remove(i);
                    }
                }
            }
            (t, bytes)
        })
}

proptest! {
    // PROPTEST_CASES raises the count for a longer local run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_values_conform((t, v) in typed_value(true, true)) {
        prop_assert!(v.conforms_to(&t).is_ok(), "{:?}", v.conforms_to(&t));
    }

    #[test]
    fn msgpack_round_trips((t, v) in typed_value(true, true)) {
        let bytes = msgpack::encode(&v, &t).unwrap();
        let back = msgpack::decode(&bytes, &t).unwrap();
        prop_assert_eq!(&back, &v);
        // Re-encoding is stable.
        prop_assert_eq!(msgpack::encode(&back, &t).unwrap(), bytes);
    }

    #[test]
    fn json_round_trips((t, v) in typed_value(false, false)) {
        let bytes = json::encode(&v, &t).unwrap();
        let back = json::decode(&bytes, &t).unwrap();
        prop_assert_eq!(&back, &v);
    }

    #[test]
    fn json_encoding_is_valid_json((t, v) in typed_value(false, false)) {
        let bytes = json::encode(&v, &t).unwrap();
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(), "{}", String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn type_json_round_trips(t in arb_type()) {
        prop_assert_eq!(&Type::from_json(&t.to_json()).unwrap(), &t);
        prop_assert_eq!(&Type::from_json_bytes(t.to_json_string().as_bytes()).unwrap(), &t);
    }

    #[test]
    fn number_text_round_trips(n in arb_number(true)) {
        prop_assert_eq!(Number::parse(n.as_str()), Some(n.clone()));
        if let Some(f) = n.as_exact_f64() {
            prop_assert_eq!(Number::from_f64(f), Some(n));
        }
    }

    #[test]
    fn number_order_matches_f64(a in any::<f64>(), b in any::<f64>()) {
        if let (Some(na), Some(nb)) = (Number::from_f64(a), Number::from_f64(b)) {
            prop_assert_eq!(na.cmp(&nb), a.partial_cmp(&b).unwrap());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(t in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = msgpack::decode(&bytes, &t) {
            // Whatever decodes conforms to the type.
            prop_assert!(v.conforms_to(&t).is_ok(), "{:?}", v.conforms_to(&t));
        }
        let _ = json::decode(&bytes, &t);
    }

    #[test]
    fn mangled_msgpack_never_panics_and_decoded_values_re_encode((t, bytes) in mangled_msgpack()) {
        if let Ok(v) = msgpack::decode(&bytes, &t) {
            prop_assert!(v.conforms_to(&t).is_ok(), "{:?}", v.conforms_to(&t));
            // Re-encoding may only fail on refinement payloads grown past 1 KiB.
            if let (Ok(again), true) = (msgpack::encode(&v, &t), longest_prefix(&v) <= 256) {
                prop_assert_eq!(msgpack::decode(&again, &t).unwrap(), v);
            }
        }
    }

    #[test]
    fn mangled_json_never_panics((t, v) in typed_value(false, false), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = json::encode(&v, &t).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(v) = json::decode(&bytes, &t) {
            prop_assert!(v.conforms_to(&t).is_ok());
            prop_assert!(json::encode(&v, &t).is_ok());
        }
    }
}
