//! SARIF 2.1.0. Results point at the `.tf` block when `--source` located it, else at the
//! resource in the plan file; every result also carries the address as a logical location.
//! Waived findings are included with a `suppressions` entry, as SARIF intends.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::display_path;
use crate::finding::{Finding, Severity, SuppressionKind};
use crate::lint::Report;
use crate::rules;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

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

fn result(report: &Report, f: &Finding, rule_index: usize) -> Value {
    let physical = if let Some(l) = &f.location {
        json!({
            "artifactLocation": { "uri": display_path(&l.file) },
            "region": { "startLine": l.line, "startColumn": l.column }
        })
    } else {
        let plan = report
            .plans
            .get(f.plan)
            .map_or("plan.json", |p| p.name.as_str());
        let mut region = json!({});
        if let Some(p) = f.plan_position {
            region = json!({ "startLine": p.line, "startColumn": p.column, "byteOffset": p.byte_offset });
        }
        json!({ "artifactLocation": { "uri": display_path(std::path::Path::new(plan)) }, "region": region })
    };
    let mut text = f.message.clone();
    if let Some(help) = &f.help {
        text.push_str(". ");
        text.push_str(help);
    }
    let mut value = json!({
        "ruleId": f.rule.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{
                "fullyQualifiedName": f.address,
                "name": f.address.rsplit('.').next().unwrap_or(&f.address),
                "kind": "resource"
            }]
        }],
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
        value["suppressions"] = json!([{ "kind": kind, "justification": s.reason, "location": {
            "physicalLocation": { "artifactLocation": { "uri": s.origin.rsplit_once(':').map_or(s.origin.as_str(), |(f, _)| f) } }
        }}]);
    }
    value
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
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
                "defaultConfiguration": { "level": level(r.default_severity) },
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
            result(report, f, index)
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
            "results": results,
            "columnKind": "unicodeCodePoints"
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}
