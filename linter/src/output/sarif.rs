//! SARIF 2.1.0. Results point at the `.tf` block when `--source` located it, else at the
//! resource in the plan file; every result also carries the address as a logical location.
//! Waived findings are included with a `suppressions` entry, as SARIF intends.
//!
//! File URIs are relative to the repository root (`uriBaseId: %SRCROOT%`, see
//! [`super::srcroot`]) and percent-encoded; a file outside it gets an absolute `file:` URI.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use super::srcroot::{SRCROOT, SrcRoot};
use crate::finding::{Finding, SuppressionKind};
use crate::plan::address::resource_name;
use crate::report::Report;
use crate::rules;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Stable across runs, line moves and compiler versions: FNV-1a of rule and address.
fn fingerprint(f: &Finding) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let key = format!(
        "{}\0{}\0{}",
        f.rule.code,
        f.address,
        f.deposed.as_deref().unwrap_or("")
    );
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn result(report: &Report, root: &SrcRoot, f: &Finding, rule_index: usize) -> Value {
    let physical = if let Some(l) = &f.location {
        Some(json!({
            "artifactLocation": root.artifact_location(&l.file),
            "region": { "startLine": l.line, "startColumn": l.column }
        }))
    } else {
        // Standard input has no artifact to point at; the logical location remains.
        report
            .plans
            .get(f.plan)
            .filter(|p| p.name != crate::input::STDIN_NAME)
            .map(|plan| {
                let mut location =
                    json!({ "artifactLocation": root.artifact_location(Path::new(&plan.name)) });
                // A region needs a start; a finding from `configuration` may have none.
                if let Some(p) = f.plan_position.filter(|p| p.line >= 1) {
                    location["region"] = json!({
                        "startLine": p.line,
                        "startColumn": p.column.max(1),
                        "byteOffset": p.byte_offset
                    });
                }
                location
            })
    };
    let mut location = serde_json::Map::new();
    if let Some(physical) = physical {
        location.insert("physicalLocation".to_owned(), physical);
    }
    location.insert(
        "logicalLocations".to_owned(),
        json!([{
            "fullyQualifiedName": f.address,
            "name": resource_name(&f.address),
            "kind": "resource"
        }]),
    );
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str(". ");
        text.push_str(help);
    }
    let mut value = json!({
        "ruleId": f.rule.code,
        "ruleIndex": rule_index,
        "level": f.severity.as_str(),
        "message": { "text": text },
        "locations": [location],
        "partialFingerprints": { "immutableLint/v1": fingerprint(f) },
        "properties": {
            "resourceType": f.resource_type,
            "actions": f.actions,
            "paths": f.paths,
        }
    });
    if let Some(s) = &f.suppression {
        let kind = if s.kind == SuppressionKind::Inline {
            "inSource"
        } else {
            "external"
        };
        // `origin` is `path:line`.
        let (file, line) = s
            .origin
            .rsplit_once(':')
            .map_or((s.origin.as_str(), None), |(f, l)| {
                (f, l.parse::<usize>().ok())
            });
        let mut physical = json!({ "artifactLocation": root.artifact_location(Path::new(file)) });
        if let Some(line) = line.filter(|l| *l >= 1) {
            physical["region"] = json!({ "startLine": line });
        }
        value["suppressions"] = json!([{
            "kind": kind,
            "justification": s.reason,
            "location": { "physicalLocation": physical }
        }]);
    }
    value
}

/// The run's invocation: unsuccessful, with a notification per input that could not be read.
fn invocation(report: &Report) -> Value {
    let mut invocation = json!({ "executionSuccessful": report.input_errors == 0 });
    if !report.unread_inputs.is_empty() {
        invocation["toolExecutionNotifications"] = report
            .unread_inputs
            .iter()
            .map(|name| {
                json!({
                    "level": "error",
                    "message": { "text": format!("{name} could not be read; its findings are missing") }
                })
            })
            .collect();
    }
    invocation
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let root = SrcRoot::detect().unwrap_or_else(|| SrcRoot::at(""));
    render_with_root(report, &root, out)
}

pub(super) fn render_with_root(
    report: &Report,
    root: &SrcRoot,
    out: &mut dyn Write,
) -> io::Result<()> {
    let infos: Vec<_> = rules::infos().collect();
    let rule_values: Vec<Value> = infos
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.summary },
                "help": { "text": r.explain(), "markdown": r.explain() },
                "helpUri": r.help_uri(),
                "defaultConfiguration": { "level": r.default_severity.as_str() },
                "properties": { "tags": ["terraform", "immutable-infrastructure"] }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = infos
                .iter()
                .position(|r| r.code == f.rule.code)
                .unwrap_or(0);
            result(report, root, f, index)
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rule_values
            }},
            // An input that could not be read makes the run unsuccessful: its findings are
            // missing, and an empty result list must not read as a pass.
            "invocations": [invocation(report)],
            "originalUriBaseIds": { SRCROOT: { "uri": root.uri() } },
            "results": results,
            "columnKind": "unicodeCodePoints"
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_names_drop_the_module_path_only() {
        assert_eq!(
            resource_name(r#"module.app["a.b"].module.db[0].aws_instance.web["x.y"]"#),
            r#"aws_instance.web["x.y"]"#
        );
        assert_eq!(resource_name("module.m.data.aws_ami.x"), "data.aws_ami.x");
        assert_eq!(resource_name("aws_instance.web"), "aws_instance.web");
        assert_eq!(resource_name("module.x"), "module.x");
    }
}
