//! A pull-request comment: a summary line and one table row per finding.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::shared::{counts, where_text};
use crate::finding::{Finding, Severity};
use crate::report::{Report, WaiverState};

/// Makes text safe inside a table cell: a line break or a pipe would end the row, `<`
/// could open an HTML tag, a backtick a code span.
fn cell(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('<', "&lt;")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('\n', "<br>")
}

/// A code span that shows `text` verbatim (backticks included) and stays on one table row.
fn code(text: &str) -> String {
    let text = text
        .replace("\r\n", " ")
        .replace(['\r', '\n'], " ")
        .replace('|', "\\|");
    // The fence must be longer than any run of backticks inside.
    let mut longest = 0;
    let mut run = 0;
    for ch in text.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space, which CommonMark strips.
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
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
            let mut s = if p.path.is_empty() {
                "the whole object".to_owned()
            } else {
                code(&p.path)
            };
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
        cell(&f.actions.join(", ")),
        paths,
        cell(&f.message),
        code(&where_text(report, f))
    )
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let (errors, warnings) = (report.errors(), report.warnings());
    let heading = if report.input_errors > 0 {
        // Findings of an unread plan are missing: never look like a pass.
        format!(
            "❌ {} could not be read; {}",
            if report.input_errors == 1 {
                "1 plan".to_owned()
            } else {
                format!("{} plans", report.input_errors)
            },
            counts(errors, warnings)
        )
    } else if errors + warnings == 0 {
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
        "Checked {} ({}).",
        names.join(", "),
        super::shared::checked(report)
    )?;
    if !report.unread_inputs.is_empty() {
        let unread: Vec<String> = report.unread_inputs.iter().map(|n| code(n)).collect();
        writeln!(
            out,
            "\n**Could not read {}**: see the job log.",
            unread.join(", ")
        )?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_and_code_spans_stay_on_one_row_and_verbatim() {
        assert_eq!(cell("a|b\r\nc\rd\ne<x>`"), "a\\|b<br>c<br>d<br>e&lt;x>\\`");
        assert_eq!(
            code("aws_instance.w[\"a`b\"]"),
            "``aws_instance.w[\"a`b\"]``"
        );
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\r\nb|c"), "`a b\\|c`");
        assert_eq!(code("plain"), "`plain`");
    }
}
