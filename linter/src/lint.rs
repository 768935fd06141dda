//! Runs the rules over plans and applies configuration: severities, source locations, waivers.

use std::path::Path;

use time::Date;

use crate::config::Config;
use crate::finding::{Finding, PlanPosition, Suppression, SuppressionKind};
use crate::plan::{Plan, ResourceChange};
use crate::rules::{self, Context, Rule};
use crate::source::SourceMap;
use crate::tfconfig::Configuration;

/// What was linted, per plan.
#[derive(Debug, Clone)]
pub struct PlanSummary {
    /// As given on the command line (`-` is `<stdin>`).
    pub name: String,
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub resource_changes: usize,
    pub resource_drift: usize,
    /// The plan stopped on an error (Terraform ≥ 1.4); it may be incomplete.
    pub errored: bool,
    /// A plan, or a configuration directory linted without one (`resource_changes` then
    /// counts its `resource` blocks).
    pub kind: InputKind,
}

/// What an input on the command line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputKind {
    #[default]
    Plan,
    /// A Terraform configuration directory (configuration mode).
    Configuration,
}

impl InputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Plan => "plan",
            Self::Configuration => "configuration",
        }
    }
}

/// The state of a waiver after the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverState {
    /// Suppressed this many findings.
    Applied(usize),
    /// Matched nothing.
    Unused,
    /// Past its `expires` date: no longer applies.
    Expired,
    /// An inline directive that cannot apply (unknown rule, no reason).
    Invalid(String),
}

impl WaiverState {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Applied(_) => "applied",
            Self::Unused => "unused",
            Self::Expired => "expired",
            Self::Invalid(_) => "invalid",
        }
    }

    /// Worth telling the user about.
    pub fn is_problem(&self) -> bool {
        !matches!(self, Self::Applied(_))
    }
}

/// A waiver (config or inline) and what became of it.
#[derive(Debug, Clone)]
pub struct WaiverStatus {
    pub kind: SuppressionKind,
    /// Rule codes as written.
    pub rules: Vec<String>,
    /// The address glob (config waivers) or the block's address (inline).
    pub address: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
    pub origin: String,
    pub state: WaiverState,
}

/// Everything the output formats render.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub plans: Vec<PlanSummary>,
    /// Sorted; suppressed findings included (see [`Finding::suppression`]).
    pub findings: Vec<Finding>,
    pub waivers: Vec<WaiverStatus>,
    pub strict: bool,
    /// Inputs that could not be read or parsed (each already reported on stderr).
    pub input_errors: usize,
    /// Their names, as given (`<stdin>` for `-`).
    pub unread_inputs: Vec<String>,
}

impl Report {
    pub fn active(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_none())
    }

    pub fn suppressed(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.suppression.is_some())
    }

    pub fn errors(&self) -> usize {
        self.active().filter(|f| f.is_active_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.active().count() - self.errors()
    }

    /// 2 when an input could not be read, else 0 without active error findings, 1 with.
    pub fn exit_code(&self) -> u8 {
        if self.input_errors > 0 {
            2
        } else {
            u8::from(self.errors() > 0)
        }
    }
}

/// Lints plans with one configuration.
pub struct Linter<'a> {
    config: &'a Config,
    source: Option<&'a SourceMap>,
    today: Date,
    report: Report,
    config_uses: Vec<usize>,
    inline_uses: std::collections::HashMap<String, usize>,
    /// Source maps of the configurations linted without a plan, for their inline ignores.
    config_sources: Vec<&'a SourceMap>,
}

impl<'a> Linter<'a> {
    pub fn new(config: &'a Config, source: Option<&'a SourceMap>, today: Date) -> Self {
        Self {
            config,
            source,
            today,
            report: Report {
                strict: config.strict,
                ..Report::default()
            },
            config_uses: vec![0; config.waivers.len()],
            inline_uses: std::collections::HashMap::new(),
            config_sources: Vec::new(),
        }
    }

    /// Lints one plan. `name` is how it was given; `text` the whole input, of which the plan
    /// was parsed from `text[base..]` (CI wrappers can add lines before the JSON).
    pub fn lint(&mut self, name: &str, text: &str, base: usize, plan: &Plan<'_>) {
        let index = self.report.plans.len();
        self.report.plans.push(PlanSummary {
            name: name.to_owned(),
            format_version: plan.format_version.to_string(),
            terraform_version: plan
                .terraform_version
                .as_ref()
                .map(|v| v.clone().into_owned()),
            resource_changes: plan.resource_changes.len(),
            resource_drift: plan.resource_drift.len(),
            errored: plan.errored,
            kind: InputKind::Plan,
        });
        let enabled: Vec<_> = rules::ALL
            .iter()
            .filter(|r| self.config.severity(r.info()).is_some())
            .collect();
        let ctx = Context {
            catalog: &self.config.catalog,
            strict: self.config.strict,
        };
        let mut found = check_changes(&enabled, &ctx, &plan.resource_changes);
        for rc in &plan.resource_drift {
            for rule in &enabled {
                rule.check_drift(&ctx, rc, &mut found);
            }
        }
        for rule in &enabled {
            rule.check_plan(&ctx, plan, &mut found);
        }
        for f in &mut found {
            if let Some(p) = &mut f.plan_position {
                p.byte_offset += base;
            }
        }
        fill_positions(text, &mut found);
        for mut finding in found {
            finding.plan = index;
            if let Some(severity) = self.config.severity(finding.rule) {
                finding.severity = severity;
            }
            if let Some(source) = self.source {
                finding.location = source.locate(&finding.config_address).cloned();
            }
            finding.suppression = self.suppression(&finding, self.source);
            self.report.findings.push(finding);
        }
    }

    /// Lints a configuration directory read without a plan (configuration mode); `name` is
    /// how it was given.
    pub fn lint_configuration(&mut self, name: &str, configuration: &'a Configuration) {
        let index = self.report.plans.len();
        self.report.plans.push(PlanSummary {
            name: name.to_owned(),
            format_version: String::new(),
            terraform_version: None,
            resource_changes: configuration.resources.len(),
            resource_drift: 0,
            errored: false,
            kind: InputKind::Configuration,
        });
        let enabled: Vec<_> = rules::ALL
            .iter()
            .filter(|r| self.config.severity(r.info()).is_some())
            .collect();
        let ctx = Context {
            catalog: &self.config.catalog,
            strict: self.config.strict,
        };
        let mut found = Vec::new();
        for resource in &configuration.resources {
            for rule in &enabled {
                rule.check_config(&ctx, resource, &mut found);
            }
        }
        let source = Some(&configuration.source);
        for mut finding in found {
            finding.plan = index;
            if let Some(severity) = self.config.severity(finding.rule) {
                finding.severity = severity;
            }
            finding.suppression = self.suppression(&finding, source);
            self.report.findings.push(finding);
        }
        self.config_sources.push(&configuration.source);
    }

    fn suppression(
        &mut self,
        finding: &Finding,
        source: Option<&SourceMap>,
    ) -> Option<Suppression> {
        for (i, w) in self.config.waivers.iter().enumerate() {
            if w.rule.code == finding.rule.code
                && !w.is_expired(self.today)
                && w.matches(&finding.address, &finding.config_address)
            {
                self.config_uses[i] += 1;
                return Some(Suppression {
                    reason: w.reason.clone(),
                    origin: w.origin.clone(),
                    kind: SuppressionKind::Config,
                });
            }
        }
        let ignore = source?
            .ignores_for(&finding.config_address)
            .into_iter()
            .find(|i| i.problem().is_none() && i.covers(finding.rule))?;
        *self.inline_uses.entry(ignore.origin()).or_default() += 1;
        Some(Suppression {
            reason: ignore.reason.clone(),
            origin: ignore.origin(),
            kind: SuppressionKind::Inline,
        })
    }

    /// Records an input that could not be linted.
    pub fn input_failed(&mut self, name: &str) {
        self.report.input_errors += 1;
        self.report.unread_inputs.push(name.to_owned());
    }

    /// Sorts findings and settles the waivers' states.
    pub fn finish(mut self) -> Report {
        for (i, w) in self.config.waivers.iter().enumerate() {
            let state = if w.is_expired(self.today) {
                WaiverState::Expired
            } else if self.config_uses[i] > 0 {
                WaiverState::Applied(self.config_uses[i])
            } else {
                WaiverState::Unused
            };
            self.report.waivers.push(WaiverStatus {
                kind: SuppressionKind::Config,
                rules: vec![w.rule.code.to_owned()],
                address: Some(w.address.clone()),
                reason: w.reason.clone(),
                expires: w.expires,
                origin: w.origin.clone(),
                state,
            });
        }
        for source in self
            .source
            .into_iter()
            .chain(self.config_sources.iter().copied())
        {
            for ignore in source.all_ignores() {
                let uses = self.inline_uses.get(&ignore.origin()).copied().unwrap_or(0);
                let state = match ignore.problem() {
                    Some(problem) => WaiverState::Invalid(problem),
                    None if uses > 0 => WaiverState::Applied(uses),
                    None => WaiverState::Unused,
                };
                self.report.waivers.push(WaiverStatus {
                    kind: SuppressionKind::Inline,
                    rules: ignore.rules.clone(),
                    address: None,
                    reason: ignore.reason.clone(),
                    expires: None,
                    origin: ignore.origin(),
                    state,
                });
            }
        }
        self.report
            .findings
            .sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        self.report
    }
}

/// From this many resource changes on, the rules run on two threads.
const PARALLEL_FROM: usize = 4096;

/// Runs the rules over every resource change; findings come in plan order, then rule order.
///
/// A large plan is split in two halves checked on two threads: the rules parse the attribute
/// values of the changes they look into, about a tenth of the time on a plan of 100k resources,
/// and the parse before them leaves a second core idle.
fn check_changes(
    rules: &[&&dyn Rule],
    ctx: &Context<'_>,
    changes: &[ResourceChange<'_>],
) -> Vec<Finding> {
    let check = |changes: &[ResourceChange<'_>]| {
        let mut found = Vec::new();
        for rc in changes {
            for rule in rules {
                rule.check_change(ctx, rc, &mut found);
            }
        }
        found
    };
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if changes.len() < PARALLEL_FROM || cores < 2 {
        return check(changes);
    }
    let (first, second) = changes.split_at(changes.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| check(second));
        let mut found = check(first);
        match other.join() {
            Ok(more) => found.extend(more),
            // A rule panicked on the other thread: as if it had on this one.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        found
    })
}

/// Plan, source file and line, address, deposed key, rule code.
type SortKey<'f> = (
    usize,
    Option<(&'f Path, usize)>,
    &'f str,
    Option<&'f str>,
    &'f str,
);

/// Findings are reported by plan, source location, address, deposed key and rule.
fn sort_key(f: &Finding) -> SortKey<'_> {
    (
        f.plan,
        f.location.as_ref().map(|l| (l.file.as_path(), l.line)),
        &f.address,
        f.deposed.as_deref(),
        f.rule.code,
    )
}

/// Turns byte offsets into line/column in one pass over the text.
///
/// Lines and characters are counted incrementally from the previous finding, never again from
/// the start of the line: `terraform show -json` writes the whole plan on one line, so
/// recounting would cost the plan's size per finding.
fn fill_positions(text: &str, findings: &mut [Finding]) {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let parallel_from = if cores >= 2 {
        PARALLEL_POSITIONS_FROM
    } else {
        usize::MAX
    };
    fill_positions_split(text, findings, parallel_from);
}

/// [`fill_positions`], scanning the two halves of the text on two threads when the findings
/// reach `parallel_from` bytes into it (on one thread, the scan of a 300 MB plan takes ~25 ms).
fn fill_positions_split(text: &str, findings: &mut [Finding], parallel_from: usize) {
    let mut order: Vec<(usize, usize)> = findings
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.plan_position.map(|p| (p.byte_offset.min(text.len()), i)))
        .collect();
    order.sort_unstable();
    let scan_end = order.last().map_or(0, |&(offset, _)| offset);
    let split = if scan_end >= parallel_from {
        scan_end / 2
    } else {
        usize::MAX
    };
    let first = order.partition_point(|&(offset, _)| offset < split);
    let (head, tail) = order.split_at(first);

    // The tail is scanned from `split` on another thread, counting from zero; its counts are
    // added to those at `split` once the head's scan has reached it.
    let tail_scan = |cursor: &mut Cursor| -> Vec<Cursor> {
        tail.iter()
            .map(|&(offset, _)| {
                cursor.advance_to(text, offset);
                *cursor
            })
            .collect()
    };
    let (head_cursors, at_split, tail_cursors) = std::thread::scope(|scope| {
        let other = (!tail.is_empty() && split != usize::MAX)
            .then(|| scope.spawn(|| tail_scan(&mut Cursor::continuing_at(split))));
        let mut cursor = Cursor::START;
        let head_cursors: Vec<Cursor> = head
            .iter()
            .map(|&(offset, _)| {
                cursor.advance_to(text, offset);
                cursor
            })
            .collect();
        let tail_cursors = match other {
            Some(handle) => {
                cursor.advance_to(text, split);
                match handle.join() {
                    Ok(cursors) => cursors,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            None => tail_scan(&mut cursor),
        };
        (head_cursors, cursor, tail_cursors)
    });
    let continued = split != usize::MAX && !tail.is_empty();
    let bom = usize::from(text.starts_with(crate::plan::BOM));
    let head_positions = head.iter().zip(head_cursors);
    let tail_positions = tail.iter().zip(
        tail_cursors
            .into_iter()
            .map(|c| if continued { c.after(&at_split) } else { c }),
    );
    for (&(target, i), cursor) in head_positions.chain(tail_positions) {
        let Some(PlanPosition { byte_offset, .. }) = findings[i].plan_position else {
            continue;
        };
        let in_chars = if text.is_char_boundary(target) {
            cursor.chars
        } else {
            target - cursor.line_start
        };
        let column = in_chars.saturating_sub(if cursor.line_start == 0 { bom } else { 0 }) + 1;
        findings[i].plan_position = Some(PlanPosition {
            byte_offset,
            line: cursor.line,
            column,
        });
    }
}

/// From this many bytes into the plan, [`fill_positions`] scans on two threads.
const PARALLEL_POSITIONS_FROM: usize = 8 << 20;

/// Where a scan of the text has got to.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    pos: usize,
    /// Line number (from 1), or, for a scan that started mid-text, newlines seen (from 0).
    line: usize,
    line_start: usize,
    /// Characters in `text[line_start..pos]`, or in `text[start..pos]` before a scan that
    /// started mid-text has seen a newline; counted as the bytes that start one: a count that
    /// adds up across any split.
    chars: usize,
    newline_seen: bool,
}

impl Cursor {
    const START: Self = Self {
        pos: 0,
        line: 1,
        line_start: 0,
        chars: 0,
        newline_seen: true,
    };

    /// A scan from `pos`, to be joined to the one that reaches `pos` with [`Cursor::after`].
    fn continuing_at(pos: usize) -> Self {
        Self {
            pos,
            line: 0,
            line_start: pos,
            chars: 0,
            newline_seen: false,
        }
    }

    /// This cursor, of a scan that started where `prefix` stands, as if one scan had done both.
    fn after(self, prefix: &Self) -> Self {
        if self.newline_seen {
            Self {
                line: prefix.line + self.line,
                ..self
            }
        } else {
            Self {
                pos: self.pos,
                line: prefix.line,
                line_start: prefix.line_start,
                chars: prefix.chars + self.chars,
                newline_seen: prefix.newline_seen,
            }
        }
    }

    fn advance_to(&mut self, text: &str, target: usize) {
        let bytes = text.as_bytes();
        // Block by block, so the newline search and the character count read each block while
        // it is in cache: on a 100 MB plan, reading it from memory twice costs tens of ms.
        while self.pos < target {
            let end = (self.pos + POSITION_BLOCK).min(target);
            let (newlines, last) = memchr::memchr_iter(b'\n', &bytes[self.pos..end])
                .fold((0, None), |(n, _), i| (n + 1, Some(i)));
            let count_from = match last {
                Some(last) => {
                    self.line += newlines;
                    self.line_start = self.pos + last + 1;
                    self.chars = 0;
                    self.newline_seen = true;
                    self.line_start
                }
                None => self.pos,
            };
            self.chars += char_starts(text, count_from..end);
            self.pos = end;
        }
    }
}

/// Bytes [`fill_positions`] scans at a time (fits in a core's L2 cache).
const POSITION_BLOCK: usize = 64 * 1024;

/// How many characters start within `text[range]`, whose ends need not be char boundaries.
fn char_starts(text: &str, range: std::ops::Range<usize>) -> usize {
    // The bytes before the first boundary continue a character that started earlier.
    let mut start = range.start;
    while start < range.end && !text.is_char_boundary(start) {
        start += 1;
    }
    if start >= range.end {
        return 0;
    }
    // `start` is a boundary; so is `end`, and a character starting there but ending past the
    // range counts too.
    let mut end = range.end;
    while end > start && !text.is_char_boundary(end) {
        end -= 1;
    }
    // `str`'s count is the vectorised one.
    text[start..end].chars().count() + usize::from(end < range.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::InPlaceUpdate;

    fn finding_at(byte_offset: usize) -> Finding {
        Finding {
            rule: &InPlaceUpdate::INFO,
            severity: InPlaceUpdate::INFO.default_severity,
            address: String::new(),
            config_address: String::new(),
            resource_type: String::new(),
            deposed: None,
            actions: Vec::new(),
            action_reason: None,
            paths: Vec::new(),
            message: String::new(),
            help: None,
            plan: 0,
            plan_position: Some(PlanPosition {
                byte_offset,
                line: 0,
                column: 0,
            }),
            location: None,
            suppression: None,
        }
    }

    /// Line and column counted from scratch, the way a reader would.
    fn naive(text: &str, offset: usize) -> (usize, usize) {
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let bom = usize::from(line_start == 0 && text.starts_with(crate::plan::BOM));
        (
            before.matches('\n').count() + 1,
            before[line_start..].chars().count().saturating_sub(bom) + 1,
        )
    }

    #[test]
    fn positions_are_right_across_scan_blocks() {
        // Longer than several blocks: long lines of multi-byte characters, newlines between.
        let mut text = String::new();
        for i in 0..(3 * POSITION_BLOCK / 1000) {
            text.push_str(&"é-ü\u{1F600}x".repeat(i % 7 * 40));
            text.push('\n');
        }
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let offsets: Vec<usize> = boundaries.iter().step_by(997).copied().collect();
        let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
        fill_positions(&text, &mut findings);
        assert!(text.len() > 2 * POSITION_BLOCK && offsets.len() > 100);
        for f in &findings {
            // A missing position fails the comparison (lines count from 1).
            let p = f.plan_position.unwrap_or(PlanPosition {
                byte_offset: 0,
                line: 0,
                column: 0,
            });
            assert_eq!(
                (p.line, p.column),
                naive(&text, p.byte_offset),
                "offset {}",
                p.byte_offset
            );
        }
    }

    #[test]
    fn positions_are_the_same_when_the_text_is_scanned_in_two_halves() {
        let mut long = String::from("\u{FEFF}");
        for i in 0..(3 * POSITION_BLOCK / 1000) {
            long.push_str(&"é-ü\u{1F600}x".repeat(i % 7 * 40));
            long.push('\n');
        }
        // One line without newlines (the usual plan), a BOM at its start.
        let one_line = format!("\u{FEFF}{}", "aé\u{1F600}".repeat(POSITION_BLOCK / 2));
        for text in [long.as_str(), one_line.as_str(), "\u{FEFF}x\nyé", "é"] {
            let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(101).collect();
            // Split points: at the start, in the middle (possibly inside a character), never.
            for parallel_from in [0, 1, text.len() / 3, usize::MAX] {
                let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
                // Not a character boundary: columns count bytes from the line's start.
                findings.push(finding_at(text.len() / 2));
                findings.push(finding_at(text.len() + 10));
                fill_positions_split(text, &mut findings, parallel_from);
                let mut serial: Vec<Finding> = findings
                    .iter()
                    .map(|f| finding_at(f.plan_position.map_or(0, |p| p.byte_offset)))
                    .collect();
                fill_positions_split(text, &mut serial, usize::MAX);
                for (f, s) in findings.iter().zip(&serial) {
                    let (p, s) = (f.plan_position, s.plan_position);
                    assert_eq!(
                        p.map(|p| (p.line, p.column)),
                        s.map(|s| (s.line, s.column)),
                        "offset {:?}, split from {parallel_from}",
                        p.map(|p| p.byte_offset)
                    );
                }
                for f in findings.iter().take(offsets.len()) {
                    let p = f.plan_position.map_or((0, 0), |p| (p.line, p.column));
                    let offset = f.plan_position.map_or(0, |p| p.byte_offset);
                    assert_eq!(
                        p,
                        naive(text, offset),
                        "offset {offset}, split from {parallel_from}"
                    );
                }
            }
        }
    }

    #[test]
    fn positions_are_counted_incrementally_in_any_order() {
        let text = "\u{FEFF}[command]x\n{\"é\": \"a\", \"b\":\n  [\"ü\", \"c\"], \"d\": 1}\n";
        let offsets: Vec<usize> = text.char_indices().map(|(i, _)| i).rev().collect();
        let mut findings: Vec<Finding> = offsets.iter().map(|&o| finding_at(o)).collect();
        // Several findings on one resource share an offset.
        findings.push(finding_at(offsets[3]));
        fill_positions(text, &mut findings);
        for f in &findings {
            let p = f.plan_position.unwrap_or(PlanPosition {
                byte_offset: 0,
                line: 0,
                column: 0,
            });
            let (line, column) = naive(text, p.byte_offset);
            assert_eq!(
                (p.line, p.column),
                (line, column),
                "offset {}",
                p.byte_offset
            );
        }
    }
}
