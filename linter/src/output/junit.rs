//! JUnit XML: a test suite per plan, a failing test case per error finding, a passing one
//! (with the text in `system-out`) per warning, and a passing case per clean rule.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::where_text;
use crate::finding::{Finding, Severity};
use crate::lint::Report;
use crate::rules;

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn details(report: &Report, f: &Finding) -> String {
    let mut text = format!("{}\nat {}", f.message, where_text(report, f));
    if let Some(help) = &f.help {
        let _ = write!(text, "\nhelp: {help}");
    }
    let _ = write!(text, "\nsee: {}", f.rule.help_uri());
    text
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    // Each suite has a case per finding and one per rule without findings.
    let total: usize = (0..report.plans.len())
        .map(|index| {
            let findings: Vec<&Finding> = report.active().filter(|f| f.plan == index).collect();
            let clean = rules::infos()
                .filter(|r| !findings.iter().any(|f| f.rule.code == r.code))
                .count();
            findings.len() + clean
        })
        .sum();
    writeln!(
        out,
        r#"<testsuites name="immutable-lint" tests="{total}" failures="{}" errors="0">"#,
        report.errors()
    )?;
    for (index, plan) in report.plans.iter().enumerate() {
        let findings: Vec<&Finding> = report.active().filter(|f| f.plan == index).collect();
        let failures = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let clean: Vec<_> = rules::infos()
            .filter(|r| !findings.iter().any(|f| f.rule.code == r.code))
            .collect();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
            xml(&plan.name),
            findings.len() + clean.len()
        )?;
        for f in &findings {
            let name = format!("{} {}", f.rule.code, f.address);
            write!(
                out,
                r#"    <testcase name="{}" classname="{}">"#,
                xml(&name),
                xml(f.rule.name)
            )?;
            if f.severity == Severity::Error {
                write!(
                    out,
                    r#"<failure type="{}" message="{}">{}</failure>"#,
                    f.rule.code,
                    xml(&f.message),
                    xml(&details(report, f))
                )?;
            } else {
                write!(
                    out,
                    "<system-out>warning: {}</system-out>",
                    xml(&details(report, f))
                )?;
            }
            writeln!(out, "</testcase>")?;
        }
        for r in clean {
            writeln!(
                out,
                r#"    <testcase name="{} {}" classname="{}"/>"#,
                r.code,
                xml(r.name),
                xml(r.name)
            )?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}
