//! JUnit XML: a test suite per plan, a failing test case per error finding, a passing one
//! (with the text in `system-out`) per warning, and a passing case per clean rule.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::shared::where_text;
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::rules;

/// Escapes text content. Characters XML 1.0 does not allow at all (most C0 controls,
/// U+FFFE, U+FFFF) become U+FFFD; a carriage return is kept as a reference, since parsers
/// turn a literal one into a line feed.
fn xml(text: &str) -> String {
    escape(text, false)
}

/// Escapes an attribute value. Attribute-value normalisation turns literal line breaks and
/// tabs into spaces, so they are written as references.
fn attr(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
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
    let unread = report.unread_inputs.len();
    writeln!(
        out,
        r#"<testsuites name="immutable-lint" tests="{}" failures="{}" errors="{unread}">"#,
        total + unread,
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
            attr(&plan.name),
            findings.len() + clean.len()
        )?;
        for f in &findings {
            let name = format!("{} {}", f.rule.code, f.address);
            write!(
                out,
                r#"    <testcase name="{}" classname="{}">"#,
                attr(&name),
                attr(f.rule.name)
            )?;
            if f.severity == Severity::Error {
                write!(
                    out,
                    r#"<failure type="{}" message="{}">{}</failure>"#,
                    f.rule.code,
                    attr(&f.message),
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
                attr(r.name),
                attr(r.name)
            )?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    // An input that could not be read is an error, not an absence of failures.
    for name in &report.unread_inputs {
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="1" failures="0" errors="1" skipped="0">"#,
            attr(name)
        )?;
        writeln!(
            out,
            r#"    <testcase name="read {}" classname="input"><error type="input" message="the plan could not be read; the diagnostic is in the log"/></testcase>"#,
            attr(name)
        )?;
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_characters_xml_forbids_or_normalises() {
        assert_eq!(
            attr("a\"b'<c>&\r\n\td\u{1}\u{FFFE}\u{FFFF}"),
            "a&quot;b&apos;&lt;c&gt;&amp;&#13;&#10;&#9;d\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        assert_eq!(xml("a\r\nb\tc"), "a&#13;\nb\tc");
    }
}
