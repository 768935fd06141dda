//! GetSchema, PrepareProviderConfig, ValidateResourceTypeConfig, UpgradeResourceState and the
//! RPCs this provider does not implement.

use tfplugin_cty::Value;
use tfplugin_proto::tfplugin5 as pb;

use crate::fixture::{diagnostic_path, fixture};

#[test]
fn schema_describes_the_fleet_with_replace_and_in_place_attributes() {
    let f = fixture();
    let schema =
        f.call(|mut c| async move { c.get_schema(pb::get_provider_schema::Request {}).await });
    assert!(schema.diagnostics.is_empty());
    let fleet = schema.resource_schemas["immutable_fleet"]
        .block
        .as_ref()
        .unwrap();
    let attr = |name: &str| {
        fleet
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert!(attr("image_id").required);
    assert!(attr("user_data").sensitive);
    assert!(attr("desired_capacity").optional && attr("desired_capacity").computed);
    assert!(attr("id").computed && !attr("id").optional);
    assert_eq!(attr("subnet_ids").r#type, br#"["set","string"]"#);
    for a in &fleet.attributes {
        assert!(!a.description.is_empty(), "{} has no description", a.name);
    }
    let health = fleet
        .block_types
        .iter()
        .find(|b| b.type_name == "health_check")
        .unwrap();
    assert_eq!(
        health.nesting,
        pb::schema::nested_block::NestingMode::Single as i32
    );
    let provider = schema.provider.unwrap().block.unwrap();
    assert!(
        provider
            .attributes
            .iter()
            .any(|a| a.name == "region" && a.optional)
    );
    assert!(
        provider
            .block_types
            .iter()
            .any(|b| b.type_name == "endpoints")
    );
}

#[test]
fn framework_schemas_are_internally_valid() {
    use terraform_provider_immutable::framework::Provider;
    let provider = terraform_provider_immutable::provider::ImmutableProvider::default();
    assert_eq!(provider.schema().block.validate(""), Vec::<String>::new());
    for resource in provider.resources() {
        assert_eq!(
            resource.schema().block.validate(""),
            Vec::<String>::new(),
            "{}",
            resource.type_name()
        );
    }
}

fn validate(config: &Value) -> Vec<pb::Diagnostic> {
    let f = fixture();
    let request = pb::validate_resource_type_config::Request {
        type_name: "immutable_fleet".into(),
        config: Some(f.dv(config)),
        client_capabilities: None,
    };
    f.call(|mut c| async move { c.validate_resource_type_config(request).await })
        .diagnostics
}

#[test]
fn a_valid_configuration_has_no_diagnostics() {
    let f = fixture();
    assert!(validate(&f.fleet_config("valid", &[])).is_empty());
}

#[test]
fn capacity_errors_point_at_the_attribute() {
    let f = fixture();
    let diags = validate(&f.fleet_config(
        "bad",
        &[
            ("min_size", Value::number(5)),
            ("max_size", Value::number(2)),
        ],
    ));
    let paths: Vec<String> = diags.iter().map(diagnostic_path).collect();
    assert!(paths.contains(&"min_size".to_owned()), "{diags:#?}");
    assert!(
        paths.contains(&"desired_capacity".to_owned()),
        "desired 2 < min 5: {diags:#?}"
    );
}

#[test]
fn bad_image_subnets_and_health_check_are_reported_by_path() {
    let f = fixture();
    let config = f.fleet_config(
        "bad",
        &[
            ("image_id", Value::string("ubuntu-latest")),
            ("subnet_ids", Value::set(vec![])),
            (
                "health_check",
                f.health_check(&[
                    ("timeout", Value::string("ten minutes")),
                    ("min_healthy_percent", Value::number(150)),
                    ("type", Value::string("HTTP")),
                ]),
            ),
        ],
    );
    let diags = validate(&config);
    let paths: Vec<String> = diags.iter().map(diagnostic_path).collect();
    for expected in [
        "image_id",
        "subnet_ids",
        "health_check.timeout",
        "health_check.min_healthy_percent",
        "health_check.type",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "no diagnostic at {expected}: {paths:?}"
        );
    }
    assert!(
        diags
            .iter()
            .all(|d| d.severity == pb::diagnostic::Severity::Error as i32)
    );
}

/// The timeout counts from the launch: a bake window as long as the timeout never completes.
/// Unset attributes take their defaults (timeout 10m), so `healthy_for = "15m"` alone is wrong too.
#[test]
fn a_bake_window_not_shorter_than_the_timeout_is_rejected_at_healthy_for() {
    let f = fixture();
    let cases = [
        (vec![("timeout", "15s"), ("healthy_for", "30s")], true),
        (vec![("timeout", "1m"), ("healthy_for", "1m")], true),
        (vec![("healthy_for", "15m")], true),
        (vec![("timeout", "1m"), ("healthy_for", "30s")], false),
        (vec![("healthy_for", "2m")], false),
    ];
    for (attrs, rejected) in cases {
        let values: Vec<(&str, Value)> =
            attrs.iter().map(|(k, v)| (*k, Value::string(*v))).collect();
        let config = f.fleet_config("bake", &[("health_check", f.health_check(&values))]);
        let diags = validate(&config);
        let at_healthy_for = diags
            .iter()
            .any(|d| diagnostic_path(d) == "health_check.healthy_for");
        assert_eq!(at_healthy_for, rejected, "{attrs:?}: {diags:#?}");
        if rejected {
            assert!(
                diags
                    .iter()
                    .any(|d| d.detail.contains("must be shorter than timeout")),
                "{diags:#?}"
            );
        }
    }
}

/// A user tag under `immutable:` would be filtered out by every refresh (a perpetual diff)
/// and `immutable:state` would overwrite the marker that keeps a serving generation from
/// being removed as a leftover; `aws:` keys AWS rejects at apply.
#[test]
fn reserved_tag_keys_are_rejected_by_path() {
    let f = fixture();
    let tags = |keys: &[&str]| {
        Value::Map(
            keys.iter()
                .map(|k| ((*k).to_owned(), Value::string("x")))
                .collect(),
        )
    };
    let diags = validate(&f.fleet_config(
        "tagged",
        &[("tags", tags(&["immutable:state", "AWS:owner", "team"]))],
    ));
    let paths: Vec<String> = diags.iter().map(diagnostic_path).collect();
    assert_eq!(
        paths,
        vec![r#"tags.["AWS:owner"]"#, r#"tags.["immutable:state"]"#],
        "{diags:#?}"
    );
    assert!(
        validate(&f.fleet_config("tagged", &[("tags", tags(&["Immutable-team", "awsome"]))]))
            .is_empty()
    );
}

#[test]
fn unknown_values_are_not_validated() {
    let f = fixture();
    let config = f.fleet_config(
        "unknowns",
        &[
            ("image_id", Value::unknown()),
            ("min_size", Value::unknown()),
            ("subnet_ids", Value::unknown()),
        ],
    );
    assert!(validate(&config).is_empty());
}

#[test]
fn provider_config_validation_and_unknown_data_sources() {
    let f = fixture();
    let config = f.provider_config();
    let prepared = f.call(|mut c| async move {
        c.prepare_provider_config(pb::prepare_provider_config::Request {
            config: Some(config),
        })
        .await
    });
    assert!(
        prepared.diagnostics.is_empty(),
        "{:?}",
        prepared.diagnostics
    );
    assert!(prepared.prepared_config.is_some());
    let ds = f.call(|mut c| async move {
        c.validate_data_source_config(pb::validate_data_source_config::Request {
            type_name: "immutable_nothing".into(),
            config: None,
        })
        .await
    });
    assert_eq!(ds.diagnostics.len(), 1);
}

#[test]
fn upgrade_state_decodes_stored_json_at_the_current_version() {
    let f = fixture();
    let stored = tfplugin_cty::json::encode(
        &crate::fixture::with(
            &f.fleet_config("upgraded", &[]),
            &[
                ("id", Value::string("upgraded-g1")),
                ("generation", Value::number(1)),
            ],
        ),
        f.fleet_type(),
    )
    .unwrap();
    let request = pb::upgrade_resource_state::Request {
        type_name: "immutable_fleet".into(),
        version: 0,
        raw_state: Some(pb::RawState {
            json: stored,
            flatmap: Default::default(),
        }),
    };
    let response = f.call(|mut c| async move { c.upgrade_resource_state(request).await });
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    let state = f.value(response.upgraded_state.as_ref());
    assert_eq!(state.get("id").and_then(Value::as_str), Some("upgraded-g1"));

    let newer = pb::upgrade_resource_state::Request {
        type_name: "immutable_fleet".into(),
        version: 7,
        raw_state: Some(pb::RawState {
            json: b"{}".to_vec(),
            flatmap: Default::default(),
        }),
    };
    let response = f.call(|mut c| async move { c.upgrade_resource_state(newer).await });
    assert!(
        response.diagnostics[0].summary.contains("newer provider"),
        "{:?}",
        response.diagnostics
    );
}

#[test]
fn garbage_msgpack_is_a_diagnostic_not_a_crash() {
    let f = fixture();
    let request = pb::validate_resource_type_config::Request {
        type_name: "immutable_fleet".into(),
        config: Some(pb::DynamicValue {
            msgpack: vec![0x85, 0xa4, 0xff, 0xc1],
            json: vec![],
        }),
        client_capabilities: None,
    };
    let response = f.call(|mut c| async move { c.validate_resource_type_config(request).await });
    assert_eq!(response.diagnostics.len(), 1);
    assert!(
        response.diagnostics[0]
            .summary
            .contains("Invalid configuration")
    );
}

#[test]
fn unimplemented_rpcs_answer_unimplemented() {
    let f = fixture();
    let addr = f.address();
    let status = f.runtime.block_on(async move {
        let mut client = tfplugin_proto::tfplugin5::provider_client::ProviderClient::connect(
            format!("http://{addr}"),
        )
        .await
        .unwrap();
        client
            .get_functions(pb::get_functions::Request {})
            .await
            .unwrap_err()
    });
    assert_eq!(status.code(), tonic::Code::Unimplemented);
}

#[test]
fn set_elements_and_fractional_percentages_are_reported_at_the_attribute() {
    let f = fixture();
    let config = f.fleet_config(
        "bad",
        &[
            ("subnet_ids", Value::set(vec![Value::string("sg-12345678")])),
            (
                "health_check",
                f.health_check(&[(
                    "min_healthy_percent",
                    Value::Number(tfplugin_cty::Number::parse("50.5").unwrap()),
                )]),
            ),
        ],
    );
    let diags = validate(&config);
    let paths: Vec<String> = diags.iter().map(diagnostic_path).collect();
    assert!(paths.contains(&"subnet_ids".to_owned()), "{paths:?}");
    assert!(
        diags.iter().any(|d| d.detail.contains("sg-12345678")),
        "the bad element is named: {diags:#?}"
    );
    assert!(
        paths.contains(&"health_check.min_healthy_percent".to_owned()),
        "{paths:?}"
    );
}

/// (path, summary, detail) of each diagnostic, for the issue #10 limit checks.
fn errors(config: &Value) -> Vec<(String, String, String)> {
    validate(config)
        .iter()
        .map(|d| (diagnostic_path(d), d.summary.clone(), d.detail.clone()))
        .collect()
}

fn string_map(entries: impl IntoIterator<Item = (String, String)>) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k, Value::string(v)))
            .collect(),
    )
}

/// Issue #10 item 8: the provider adds 5 tags of its own to each group, which holds 50, so a
/// 46th user tag used to pass the plan and fail the apply with `TagLimitExceeded`; empty
/// keys, keys over 128 and values over 256 characters passed too.
#[test]
fn tags_aws_cannot_hold_are_rejected_at_plan_by_path() {
    let f = fixture();
    let numbered = |n: usize| string_map((0..n).map(|i| (format!("k{i:02}"), "v".to_owned())));
    let config = |tags: Value| f.fleet_config("tags", &[("tags", tags)]);

    let too_many = errors(&config(numbered(46)));
    assert_eq!(too_many.len(), 1, "{too_many:#?}");
    assert_eq!(too_many[0].0, "tags");
    assert_eq!(too_many[0].1, "Too many tags");
    assert!(
        too_many[0].2.contains("46 tags are set; at most 45 fit")
            && too_many[0]
                .2
                .contains("holds 50 tags and the provider adds 5"),
        "{too_many:#?}"
    );
    assert!(errors(&config(numbered(45))).is_empty());

    let long_key = "k".repeat(129);
    let bad = errors(&config(string_map([
        (String::new(), "empty key".to_owned()),
        (long_key.clone(), "v".to_owned()),
        ("long-value".to_owned(), "v".repeat(257)),
        ("k".repeat(128), "v".repeat(256)),
        // Characters, not bytes: 128 two-byte characters are a valid key.
        ("é".repeat(128), "ü".repeat(256)),
    ])));
    let at: Vec<(&str, &str)> = bad
        .iter()
        .map(|(p, s, _)| (p.as_str(), s.as_str()))
        .collect();
    assert_eq!(
        at,
        [
            (r#"tags.[""]"#, "Invalid tag key"),
            (format!("tags.[{long_key:?}]").as_str(), "Invalid tag key"),
            (r#"tags.["long-value"]"#, "Tag value too long"),
        ],
        "{bad:#?}"
    );
    assert!(
        bad[1].2.contains("has 129 characters; a tag key has 1–128"),
        "{bad:#?}"
    );
    assert!(
        bad[2]
            .2
            .contains("has 257 characters; a tag value has at most 256"),
        "{bad:#?}"
    );
}

/// Issue #10 item 8: user data over AWS's 16 KB (16384 bytes before base64 encoding) passed
/// the plan. The diagnostic never shows the (sensitive) value.
#[test]
fn user_data_over_16_kib_is_rejected_at_plan_without_showing_it() {
    let f = fixture();
    let config = |text: String| f.fleet_config("userdata", &[("user_data", Value::String(text))]);
    let secret = "s3cr3t-".repeat(2341); // 16387 bytes
    let too_large = errors(&config(secret));
    assert_eq!(too_large.len(), 1, "{too_large:#?}");
    let (path, summary, detail) = &too_large[0];
    assert_eq!(
        (path.as_str(), summary.as_str()),
        ("user_data", "User data too large")
    );
    assert!(
        detail.contains(
            "user_data is 16387 bytes; AWS accepts at most 16384 bytes (16 KB) before base64"
        ),
        "{detail}"
    );
    assert!(
        !detail.contains("s3cr3t"),
        "the value is sensitive: {detail}"
    );
    assert!(errors(&config("x".repeat(16384))).is_empty());
    // Bytes, not characters: 8193 two-byte characters are 16386 bytes.
    assert_eq!(errors(&config("é".repeat(8193))).len(), 1);
}

/// Issue #10 item 8: `grace_period = "1000000h"` was clamped to 2^31 s at apply (a
/// difference on every plan), `timeout = "0.0001ms"` passed the "not zero" check, and
/// sub-second durations were rounded silently.
#[test]
fn durations_aws_or_the_gate_cannot_hold_are_rejected_at_plan_by_path() {
    let f = fixture();
    let cases = [
        (
            "grace_period",
            "1000000h",
            "Duration too long",
            "longer than 596523h14m7s (2147483647 seconds)",
        ),
        (
            "grace_period",
            "1.5s",
            "Duration not in whole seconds",
            "Use \"1s\" or \"2s\"",
        ),
        (
            "timeout",
            "0.0001ms",
            "Duration not in whole seconds",
            "Use \"1s\".",
        ),
        ("timeout", "0s", "Duration too short", "at least 1s"),
        (
            "timeout",
            "25h",
            "Duration too long",
            "longer than 24h (86400 seconds)",
        ),
        (
            "healthy_for",
            "90ms",
            "Duration not in whole seconds",
            "the gate counts in whole seconds",
        ),
    ];
    for (name, text, summary, detail) in cases {
        let config = f.fleet_config(
            "durations",
            &[(
                "health_check",
                f.health_check(&[(name, Value::string(text))]),
            )],
        );
        let found = errors(&config);
        assert_eq!(found.len(), 1, "{name} = {text:?}: {found:#?}");
        assert_eq!(found[0].0, format!("health_check.{name}"), "{found:#?}");
        assert_eq!(found[0].1, summary, "{found:#?}");
        assert!(found[0].2.contains(detail), "{name} = {text:?}: {found:#?}");
    }
    let fine = f.fleet_config(
        "durations",
        &[(
            "health_check",
            f.health_check(&[
                ("grace_period", Value::string("596523h14m7s")),
                ("timeout", Value::string("24h")),
                ("healthy_for", Value::string("0.5m")),
            ]),
        )],
    );
    assert!(errors(&fine).is_empty(), "{:#?}", errors(&fine));
}
