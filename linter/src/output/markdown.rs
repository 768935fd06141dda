//! A pull-request comment: a summary line and one table row per finding.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{counts, where_text};
use crate::finding::{Finding, Severity};
use crate::lint::{Report, WaiverState};

/// Makes text safe inside a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

fn code(text: &str) -> String {
    // A backtick inside a code span would end it.
    format!("`{}`", text.replace('`', "'").replace('|', "\\|"))
}

fn row(report: &Report, f: &Finding) -> String {
    let icon = match f.severity {
        Severity::Error => "❌",
        Severity::Warning => "⚠️",
    };
    let paths: Vec<String> = f
        .paths
        .iter()
        .take(6)
        .map(|p| {
            let mut s = code(&p.path);
            if p.known_after_apply {
                s.push_str(" (after apply)");
            }
            if p.sensitive {
                s.push_str(" (sensitive)");
            }
            s
        })
        .collect();
    let mut paths = paths.join(", ");
    if f.paths.len() > 6 {
        let _ = write!(paths, " and {} more", f.paths.len() - 6);
    }
    format!(
        "| {icon} | [{}]({}) {} | {} | {} | {} | {} | {} |",
        f.rule.code,
        f.rule.help_uri(),
        f.rule.name,
        code(&f.address),
        f.actions.join(", "),
        paths,
        cell(&f.message),
        code(&where_text(report, f))
    )
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (errors, warnings) = (report.errors(), report.warnings());
    let changes: usize = report.plans.iter().map(|p| p.resource_changes).sum();
    let heading = if errors + warnings == 0 {
        "✅ no findings".to_owned()
    } else if errors > 0 {
        format!("❌ {}", counts(errors, warnings))
    } else {
        format!("⚠️ {}", counts(errors, warnings))
    };
    writeln!(out, "### immutable-lint: {heading}")?;
    writeln!(out)?;
    let names: Vec<String> = report.plans.iter().map(|p| code(&p.name)).collect();
    writeln!(
        out,
        "Checked {} ({changes} resource changes).",
        names.join(", ")
    )?;
    if errors + warnings > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "| | Rule | Resource | Actions | Paths | Finding | Location |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        for f in report.active() {
            writeln!(out, "{}", row(report, f))?;
        }
    }
    let suppressed: Vec<&Finding> = report.suppressed().collect();
    if !suppressed.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "<details><summary>{} waived</summary>",
            suppressed.len()
        )?;
        writeln!(out)?;
        for f in suppressed {
            if let Some(s) = &f.suppression {
                writeln!(
                    out,
                    "- {} {}: {} ({})",
                    f.rule.code,
                    code(&f.address),
                    cell(&s.reason),
                    code(&s.origin)
                )?;
            }
        }
        writeln!(out)?;
        writeln!(out, "</details>")?;
    }
    let problems: Vec<_> = report
        .waivers
        .iter()
        .filter(|w| matches!(w.state, WaiverState::Expired | WaiverState::Invalid(_)))
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
        for w in problems {
            let why = match &w.state {
                WaiverState::Invalid(p) => format!("does not apply: {p}"),
                _ => format!(
                    "expired on {}",
                    w.expires.map(|d| d.to_string()).unwrap_or_default()
                ),
            };
            writeln!(
                out,
                "> **Waiver {} at {} {why}.**",
                w.rules.join(","),
                code(&w.origin)
            )?;
        }
    }
    Ok(())
}
