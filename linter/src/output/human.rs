//! The terminal report: one miette diagnostic per finding, with the HCL block when
//! `--source` located it.

use std::fmt::Write as _;
use std::io::{self, Write};

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource,
    Severity as MietteSeverity,
};

use super::shared::{RenderOptions, counts, display_path, where_text};
use crate::finding::{Finding, Severity, SuppressionKind, list_paths};
use crate::report::{Report, WaiverState};
use crate::source::SourceMap;

pub fn render(
    report: &Report,
    source: Option<&SourceMap>,
    options: RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    let theme = if options.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(options.width)
        .with_links(false)
        .with_break_words(false)
        .with_urls(false);

    for finding in report.active() {
        let text = render_finding(&handler, report, source, finding);
        out.write_all(text.as_bytes())?;
    }

    let suppressed: Vec<&Finding> = report.suppressed().collect();
    if !suppressed.is_empty() {
        writeln!(out, "Waived:")?;
        for f in suppressed {
            if let Some(s) = &f.suppression {
                let kind = if s.kind == SuppressionKind::Inline {
                    "inline"
                } else {
                    "config"
                };
                writeln!(
                    out,
                    "  {} {}: {} ({kind} waiver at {})",
                    f.rule.code, f.address, s.reason, s.origin
                )?;
            }
        }
        writeln!(out)?;
    }
    for w in report.waivers.iter().filter(|w| w.state.is_problem()) {
        let what = match &w.address {
            Some(address) => format!("{} {address}", w.rules.join(",")),
            None => w.rules.join(","),
        };
        let line = match &w.state {
            WaiverState::Expired => format!(
                "warning: waiver {what} at {} expired on {}; it no longer applies",
                w.origin,
                w.expires.map(|d| d.to_string()).unwrap_or_default()
            ),
            WaiverState::Unused => {
                format!("note: waiver {what} at {} matched no finding", w.origin)
            }
            WaiverState::Invalid(problem) => {
                format!(
                    "warning: inline waiver {what} at {} does not apply: {problem}",
                    w.origin
                )
            }
            WaiverState::Applied(_) => continue,
        };
        writeln!(out, "{line}")?;
    }
    for p in report.plans.iter().filter(|p| p.errored) {
        writeln!(
            out,
            "warning: {} is the plan of a failed `terraform plan`; it may be incomplete",
            p.name
        )?;
    }

    let (errors, warnings) = (report.errors(), report.warnings());
    let waived = report.suppressed().count();
    let plans = match report.plans.as_slice() {
        [one] => one.name.clone(),
        many => format!("{} plans", many.len()),
    };
    let waived = if waived > 0 {
        format!(", {waived} waived")
    } else {
        String::new()
    };
    let mark = if errors > 0 || report.input_errors > 0 {
        "✗"
    } else {
        "✓"
    };
    let names = report.unread_inputs.join(", ");
    let unread = match report.input_errors {
        0 => String::new(),
        1 => format!("; 1 input could not be read: {names}"),
        n => format!("; {n} inputs could not be read: {names}"),
    };
    writeln!(
        out,
        "{mark} {}{waived} in {plans} ({}){unread}",
        counts(errors, warnings),
        super::shared::checked(report)
    )
}

fn render_finding(
    handler: &GraphicalReportHandler,
    report: &Report,
    source: Option<&SourceMap>,
    f: &Finding,
) -> String {
    let severity = match f.severity {
        Severity::Error => MietteSeverity::Error,
        Severity::Warning => MietteSeverity::Warning,
    };
    let mut message = format!("{} {}: {}", f.rule.code, f.rule.name, f.message);
    if f.location.is_none() {
        let _ = write!(message, "\n  at {}", where_text(report, f));
    }
    let mut help = f.help.clone().unwrap_or_default();
    if let Some(reason) = &f.action_reason {
        let _ = write!(help, "\naction_reason: {reason}");
    }
    let _ = write!(help, "\nsee `immutable-lint --explain {}`", f.rule.code);
    let mut diagnostic = MietteDiagnostic::new(message)
        .with_severity(severity)
        .with_help(help.trim_start());

    let mut rendered = String::new();
    let file = f
        .location
        .as_ref()
        .and_then(|l| source.and_then(|s| s.file_text(&l.file)).map(|t| (l, t)));
    let result = if let Some((location, text)) = file {
        let label = if f.paths.is_empty() {
            f.rule.name.to_owned()
        } else {
            list_paths(&f.paths, 4)
        };
        diagnostic = diagnostic.and_label(LabeledSpan::new_with_span(
            Some(label),
            location.span.clone(),
        ));
        let named = NamedSource::new(display_path(&location.file), text.as_str().to_owned());
        let report = miette::Report::new(diagnostic).with_source_code(named);
        handler.render_report(&mut rendered, report.as_ref())
    } else {
        handler.render_report(&mut rendered, &diagnostic)
    };
    if result.is_err() {
        // Rendering into a String cannot fail short of a formatter bug; fall back to plain text.
        rendered = format!("{}: {} {}\n", f.severity.as_str(), f.rule.code, f.message);
    }
    rendered.push('\n');
    rendered
}
