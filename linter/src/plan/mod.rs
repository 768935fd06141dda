//! A borrowing serde model of `terraform show -json` plans (Terraform and OpenTofu).
//!
//! Only what the rules read is modelled. Attribute values (`before`, `after`,
//! `after_unknown`, the sensitivity markers) stay [`RawValue`](serde_json::value::RawValue) slices of the input and are
//! parsed on demand, for the few resources a rule looks into: the whole plan is scanned once
//! and never turned into a DOM.

pub mod address;
mod configuration;
pub mod diff;
mod error;
mod model;
mod parse;

pub use crate::position::BOM;
pub use address::Mode;
pub use configuration::{ConfigModule, ConfigResource, Configuration, ModuleCall, Provisioner};
pub use error::{Excerpt, HOW_TO_MAKE_A_PLAN, PlanError};
pub use model::{
    Action, Change, ChangeKind, FormatVersion, KNOWN_FORMAT, MIN_FORMAT, Plan, ResourceChange,
    parse_raw,
};
pub use parse::{parse, parse_within, strip_leading_noise, strip_wrapper_noise};

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn action_lists_keep_their_order() {
        let kind =
            |a: &[&str]| ChangeKind::of(&a.iter().map(|s| Action::from_str(s)).collect::<Vec<_>>());
        assert_eq!(kind(&["delete", "create"]), ChangeKind::ReplaceDestroyFirst);
        assert_eq!(kind(&["create", "delete"]), ChangeKind::ReplaceCreateFirst);
        assert_eq!(kind(&["update"]), ChangeKind::Update);
        assert_eq!(kind(&["create", "forget"]), ChangeKind::CreateThenForget);
        assert_eq!(kind(&["teleport"]), ChangeKind::Unknown);
    }

    #[test]
    fn offsets_point_at_the_address() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":"aws_instance.a[\"k\"]","type":"aws_instance","name":"a","change":{"actions":["no-op"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert_eq!(rc.address, "aws_instance.a[\"k\"]");
        assert!(text[rc.offset..].starts_with("\"aws_instance.a[\\\"k\\\"]\""));
    }

    #[test]
    fn entries_without_an_address_get_one_built_from_their_parts() {
        // Terraform 1.0.0's resource_drift: mode/type/name/index/module_address only.
        let text = r#"{"format_version":"0.2","resource_changes":[],"resource_drift":[
            {"module_address":"module.app[\"blue\"]","mode":"managed","type":"aws_instance","name":"node","index":"a","change":{"actions":["delete"]}},
            {"mode":"data","type":"aws_ami","name":"u","change":{"actions":["update"]}},
            {"type":"aws_instance","name":"w","index":3,"change":{"actions":["update"]}},
            {"address":null,"type":"aws_instance","name":"k","index":"x\"y","change":{"actions":["update"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let addresses: Vec<&str> = plan
            .resource_drift
            .iter()
            .map(|r| r.address.as_ref())
            .collect();
        assert_eq!(
            addresses,
            [
                r#"module.app["blue"].aws_instance.node["a"]"#,
                "data.aws_ami.u",
                "aws_instance.w[3]",
                r#"aws_instance.k["x\"y"]"#,
            ]
        );
        let node = &plan.resource_drift[0];
        assert_eq!(node.config_address(), "module.app.aws_instance.node");
        // Positions point at the entry's `type`.
        assert!(text[node.offset..].starts_with("\"aws_instance\",\"name\":\"node\""));
    }

    #[test]
    fn missing_parts_are_taken_from_the_address() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"module.a[0].data.aws_ami.u","change":{"actions":["read"]}}]}"#;
        let plan = parse("p.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert_eq!(rc.module_address.as_deref(), Some("module.a[0]"));
        assert_eq!(rc.mode, Mode::Data);
        assert_eq!((rc.type_name.as_ref(), rc.name.as_ref()), ("aws_ami", "u"));
        assert_eq!(rc.config_address(), "module.a.data.aws_ami.u");
    }

    #[test]
    fn an_entry_with_neither_address_nor_type_is_an_error_at_the_entry() {
        let text = r#"{"format_version":"1.2","resource_changes":[{"name":"w","change":{"actions":["update"]}}]}"#;
        let err = parse("p.json", text).unwrap_err();
        assert!(
            err.to_string()
                .contains("a resource change needs an `address`, or a `type` and a `name`"),
            "{err}"
        );
        assert!(text[err.offset().unwrap()..].starts_with("\"w\""));
        let text = r#"{"format_version":"1.2","resource_changes":[{"address":7,"type":"a","name":"b","change":{"actions":["update"]}}]}"#;
        let err = parse("p.json", text).unwrap_err();
        assert!(
            err.to_string().contains("`address` must be a string"),
            "{err}"
        );
    }

    #[test]
    fn configuration_resources_without_an_address_get_one() {
        let text = r#"{"format_version":"1.2","resource_changes":[],"configuration":{"root_module":{
            "resources":[{"mode":"managed","type":"aws_instance","name":"w"},{"address":"data.aws_ami.u","mode":"data"}],
            "module_calls":{"m":{"source":"./m"}}}}}"#;
        let plan = parse("p.json", text).unwrap();
        let resources = &plan.configuration.unwrap().root_module.resources;
        assert_eq!(resources[0].address, "aws_instance.w");
        assert_eq!(
            (resources[1].type_name.as_ref(), resources[1].name.as_ref()),
            ("aws_ami", "u")
        );
    }

    #[test]
    fn wrapper_noise_is_stripped() {
        let text = "[command]/usr/bin/terraform show -json tfplan\n{\"a\":1}\n::debug::stderr:\n::debug::exitcode: 0\n";
        let range = strip_wrapper_noise(text);
        assert_eq!(text[range].trim(), "{\"a\":1}");
        assert_eq!(strip_wrapper_noise("{}"), 0..2);
        assert_eq!(strip_wrapper_noise("\u{FEFF}{}"), 3..5);
        assert_eq!(strip_leading_noise(text), 46..text.len());
    }

    #[test]
    fn trailing_wrapper_lines_are_found_when_only_the_leading_ones_were_stripped() {
        let text = "[command]terraform show -json tfplan\n{\"format_version\":\"1.2\",\"resource_changes\":[]}\n::debug::exitcode: 0\n";
        let plan = parse_within("w.json", text, strip_leading_noise(text)).unwrap();
        assert_eq!(plan.format_version, KNOWN_FORMAT);
        // An error in the JSON is reported the same whichever range was given.
        let bad = "[command]x\n{\"format_version\": x}\n::debug::exitcode: 0\n";
        let leading = parse_within("b.json", bad, strip_leading_noise(bad)).unwrap_err();
        let full = parse_within("b.json", bad, strip_wrapper_noise(bad)).unwrap_err();
        assert_eq!(leading.to_string(), full.to_string());
        assert_eq!(leading.offset(), full.offset());
    }

    #[test]
    fn positions_count_the_wrapper_lines_and_the_byte_order_mark() {
        // An error in the JSON after a `[command]` line is on the file's line 4, not 3.
        let text = "[command]terraform show -json tfplan\n{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [ x ]\n}\n::debug::exitcode: 0\n";
        let err = parse("wrapped.json", text).unwrap_err();
        assert!(err.to_string().starts_with("wrapped.json:4:25:"), "{err}");
        assert_eq!(&text[err.offset().unwrap()..][..1], "x");
        // A byte-order mark is skipped, and offsets still index the input as given.
        let text = "\u{FEFF}{\"format_version\":\"1.2\",\"resource_changes\":[{\"address\":\"a.b\",\"type\":\"a\",\"name\":\"b\",\"change\":{\"actions\":[\"no-op\"]}}]}";
        let plan = parse("bom.json", text).unwrap();
        let rc = &plan.resource_changes[0];
        assert!(text[rc.offset..].starts_with("\"a.b\""));
        let err = parse("bom.json", "\u{FEFF}{\"format_version\": x}").unwrap_err();
        assert!(err.to_string().starts_with("bom.json:1:20:"), "{err}");
    }
}
