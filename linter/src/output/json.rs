//! `--format json`: a stable document, versioned by `schema_version` (fields are only ever
//! added within a version). Documented in linter/README.md.

use std::io::{self, Write};

use serde::Serialize;

use super::shared::display_path;
use crate::finding::{Finding, PathReport, SuppressionKind};
use crate::report::{InputKind, Report};

/// Bumped only on an incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'r> {
    schema_version: u32,
    tool: Tool,
    plans: Vec<Plan<'r>>,
    /// Findings that count (not waived).
    findings: Vec<JsonFinding<'r>>,
    /// Waived findings, same shape, with `suppressed` set.
    suppressed: Vec<JsonFinding<'r>>,
    waivers: Vec<Waiver<'r>>,
    /// Inputs that could not be read (their diagnostics are on stderr).
    unread_inputs: &'r [String],
    summary: Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Plan<'r> {
    path: &'r str,
    /// `configuration` for a directory linted without a plan; absent for plans.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    format_version: &'r str,
    terraform_version: Option<&'r str>,
    resource_changes: usize,
    resource_drift: usize,
    errored: bool,
}

#[derive(Serialize)]
struct JsonFinding<'r> {
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    address: &'r str,
    config_address: &'r str,
    resource_type: &'r str,
    deposed: Option<&'r str>,
    actions: &'r [String],
    action_reason: Option<&'r str>,
    paths: &'r [PathReport],
    message: &'r str,
    help: Option<&'r str>,
    help_uri: String,
    /// Where the resource block is in the configuration (needs `--source`).
    location: Option<Location>,
    plan: PlanLocation<'r>,
    suppressed: Option<Suppressed<'r>>,
}

#[derive(Serialize)]
struct Location {
    file: String,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct PlanLocation<'r> {
    path: &'r str,
    line: Option<usize>,
    column: Option<usize>,
    byte_offset: Option<usize>,
}

#[derive(Serialize)]
struct Suppressed<'r> {
    kind: &'static str,
    reason: &'r str,
    origin: &'r str,
}

#[derive(Serialize)]
struct Waiver<'r> {
    kind: &'static str,
    rules: &'r [String],
    address: Option<&'r str>,
    reason: &'r str,
    expires: Option<String>,
    origin: &'r str,
    status: &'static str,
    suppressed: usize,
    problem: Option<&'r str>,
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    suppressed: usize,
    plans: usize,
    resource_changes: usize,
    /// Inputs that could not be read; any makes the exit code 2.
    input_errors: usize,
    exit_code: u8,
}

fn kind(k: SuppressionKind) -> &'static str {
    match k {
        SuppressionKind::Config => "config",
        SuppressionKind::Inline => "inline",
    }
}

fn finding<'r>(report: &'r Report, f: &'r Finding) -> JsonFinding<'r> {
    JsonFinding {
        rule: f.rule.code,
        name: f.rule.name,
        severity: f.severity.as_str(),
        address: &f.address,
        config_address: &f.config_address,
        resource_type: &f.resource_type,
        deposed: f.deposed.as_deref(),
        actions: &f.actions,
        action_reason: f.action_reason.as_deref(),
        paths: &f.paths,
        message: &f.message,
        help: f.help.as_deref(),
        help_uri: f.rule.help_uri(),
        location: f.location.as_ref().map(|l| Location {
            file: display_path(&l.file),
            line: l.line,
            column: l.column,
        }),
        plan: PlanLocation {
            path: report.plans.get(f.plan).map_or("", |p| p.name.as_str()),
            line: f.plan_position.map(|p| p.line),
            column: f.plan_position.map(|p| p.column),
            byte_offset: f.plan_position.map(|p| p.byte_offset),
        },
        suppressed: f.suppression.as_ref().map(|s| Suppressed {
            kind: kind(s.kind),
            reason: &s.reason,
            origin: &s.origin,
        }),
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        plans: report
            .plans
            .iter()
            .map(|p| Plan {
                path: &p.name,
                kind: (p.kind == InputKind::Configuration).then_some(p.kind.as_str()),
                format_version: &p.format_version,
                terraform_version: p.terraform_version.as_deref(),
                resource_changes: p.resource_changes,
                resource_drift: p.resource_drift,
                errored: p.errored,
            })
            .collect(),
        findings: report.active().map(|f| finding(report, f)).collect(),
        suppressed: report.suppressed().map(|f| finding(report, f)).collect(),
        waivers: report
            .waivers
            .iter()
            .map(|w| Waiver {
                kind: kind(w.kind),
                rules: &w.rules,
                address: w.address.as_deref(),
                reason: &w.reason,
                expires: w.expires.map(|d| d.to_string()),
                origin: &w.origin,
                status: w.state.as_str(),
                suppressed: match w.state {
                    crate::report::WaiverState::Applied(n) => n,
                    _ => 0,
                },
                problem: match &w.state {
                    crate::report::WaiverState::Invalid(p) => Some(p.as_str()),
                    _ => None,
                },
            })
            .collect(),
        unread_inputs: &report.unread_inputs,
        summary: Summary {
            errors: report.errors(),
            warnings: report.warnings(),
            suppressed: report.suppressed().count(),
            plans: report.plans.len(),
            resource_changes: report.plans.iter().map(|p| p.resource_changes).sum(),
            input_errors: report.input_errors,
            exit_code: report.exit_code(),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &document).map_err(io::Error::other)?;
    writeln!(out)
}
