//! `.immutable-lint.toml`: catalogue extensions, rule severities, strict mode and waivers.
//!
//! ```toml
//! strict = false
//! [catalog]
//! instance_types = ["example_vm"]
//! benign = { aws_instance = ["metadata_options"] }
//! [rules]
//! IMM005 = "error"            # error | warning | off (code or name)
//! [[waivers]]
//! rule = "IMM001"
//! address = "module.legacy.*"  # `*` and `?` are wildcards, everything else is literal
//! reason = "bastion is replaced in Q3"
//! expires = "2027-03-31"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use time::Date;
use toml::Spanned;

use crate::catalog::Catalog;
pub use crate::position::line_of;
use crate::registry::RuleInfo;
use crate::registry::Severity;
use crate::rules;

/// The file name looked up from the working directory upwards.
pub const FILE_NAME: &str = ".immutable-lint.toml";

/// A problem in the config file. Exit status 2.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(config::read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    #[diagnostic(code(config::invalid), help("{help}"))]
    Invalid {
        path: PathBuf,
        message: String,
        help: String,
        #[source_code]
        source_code: NamedSource<String>,
        #[label("here")]
        span: Option<SourceSpan>,
    },
}

/// A config-file waiver.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub rule: &'static RuleInfo,
    /// The glob as written.
    pub address: String,
    matcher: GlobMatcher,
    pub reason: String,
    pub expires: Option<Date>,
    /// `path:line` of the `[[waivers]]` entry.
    pub origin: String,
}

impl Waiver {
    /// Matches the full address or the address without count/for_each keys, so
    /// `module.legacy.*` also covers `module.legacy["a"].aws_instance.x`.
    pub fn matches(&self, address: &str, config_address: &str) -> bool {
        self.matcher.is_match(address) || self.matcher.is_match(config_address)
    }

    pub fn is_expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from; `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    pub strict: bool,
    pub catalog: Catalog,
    /// Per-rule severity overrides; `None` turns a rule off.
    pub severities: HashMap<&'static str, Option<Severity>>,
    pub waivers: Vec<Waiver>,
}

impl Config {
    /// The effective severity of a rule, or `None` when it is off.
    pub fn severity(&self, rule: &RuleInfo) -> Option<Severity> {
        self.severities
            .get(rule.code)
            .copied()
            .unwrap_or(Some(rule.default_severity))
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses config text; `path` names it in diagnostics and waiver origins.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let invalid =
            |message: String, help: &str, span: Option<Range<usize>>| ConfigError::Invalid {
                path: path.to_owned(),
                message,
                help: help.to_owned(),
                source_code: NamedSource::new(path.display().to_string(), text.to_owned()),
                span: span.map(|r| SourceSpan::new(r.start.into(), r.len())),
            };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            invalid(
                e.message().trim().to_owned(),
                "see the config file reference in the immutable-lint README",
                e.span(),
            )
        })?;

        let mut config = Self {
            path: Some(path.to_owned()),
            strict: raw.strict,
            ..Self::default()
        };
        for t in &raw.catalog.instance_types {
            config.catalog.add_instance_type(t);
        }
        for (t, attributes) in &raw.catalog.benign {
            config.catalog.add_benign(t, attributes);
        }
        for (key, value) in &raw.rules {
            let Some(rule) = rules::find(key.get_ref()) else {
                return Err(invalid(
                    format!("unknown rule {:?}", key.get_ref()),
                    "rules are IMM001 … IMM007 or their names (immutable-lint --list-rules)",
                    Some(key.span()),
                ));
            };
            let name = value.get_ref().as_str();
            let severity = match Severity::from_name(name) {
                Some(severity) => Some(severity),
                None if name == "off" => None,
                None => {
                    return Err(invalid(
                        format!("unknown severity {name:?} for {}", rule.code),
                        "a severity is \"error\", \"warning\" or \"off\"",
                        Some(value.span()),
                    ));
                }
            };
            config.severities.insert(rule.code, severity);
        }
        for entry in &raw.waivers {
            let span = entry.span();
            let w = entry.get_ref();
            let Some(rule) = rules::find(w.rule.get_ref()) else {
                return Err(invalid(
                    format!("waiver for unknown rule {:?}", w.rule.get_ref()),
                    "rules are IMM001 … IMM007 or their names (immutable-lint --list-rules)",
                    Some(w.rule.span()),
                ));
            };
            let reason = w
                .reason
                .as_ref()
                .map(|r| r.get_ref().trim())
                .unwrap_or_default();
            if reason.is_empty() {
                return Err(invalid(
                    "a waiver needs a reason".to_owned(),
                    "add `reason = \"…\"`: say why the finding is acceptable and until when",
                    Some(w.reason.as_ref().map_or(span.clone(), Spanned::span)),
                ));
            }
            let matcher = address_glob(w.address.get_ref()).map_err(|e| {
                invalid(
                    format!("invalid address glob: {e}"),
                    "`*` and `?` are the only wildcards",
                    Some(w.address.span()),
                )
            })?;
            let expires = match &w.expires {
                None => None,
                Some(value) => Some(parse_date(value.get_ref()).ok_or_else(|| {
                    invalid(
                        "`expires` must be a date, YYYY-MM-DD".to_owned(),
                        "e.g. expires = \"2027-03-31\"",
                        Some(value.span()),
                    )
                })?),
            };
            config.waivers.push(Waiver {
                rule,
                address: w.address.get_ref().clone(),
                matcher,
                reason: reason.to_owned(),
                expires,
                origin: format!("{}:{}", path.display(), line_of(text, span.start)),
            });
        }
        Ok(config)
    }
}

/// Compiles an address glob where only `*` and `?` are special: addresses are full of
/// brackets, quotes, braces and backslashes (escaped quotes in keys) that must match literally.
pub fn address_glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    let mut escaped = String::with_capacity(pattern.len() + 8);
    for ch in pattern.chars() {
        match ch {
            // A one-character class is the one escape globset has besides `\`; `*` and `?`
            // stay wildcards.
            '[' | ']' | '{' | '}' => {
                escaped.push('[');
                escaped.push(ch);
                escaped.push(']');
            }
            _ => escaped.push(ch),
        }
    }
    Ok(GlobBuilder::new(&escaped)
        .literal_separator(false)
        .backslash_escape(false)
        .build()?
        .compile_matcher())
}

fn parse_date(value: &toml::Value) -> Option<Date> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) if d.time.is_none() && d.offset.is_none() => d.to_string(),
        _ => return None,
    };
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Looks for [`FILE_NAME`] in `start` and its ancestors.
pub fn find_upward(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    catalog: RawCatalog,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    waivers: Vec<Spanned<RawWaiver>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    instance_types: Vec<String>,
    #[serde(default)]
    benign: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    rule: Spanned<String>,
    address: Spanned<String>,
    #[serde(default)]
    reason: Option<Spanned<String>>,
    #[serde(default)]
    expires: Option<Spanned<toml::Value>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(".immutable-lint.toml"), text)
    }

    #[test]
    fn full_example() {
        let c = parse(
            r#"
strict = true
[catalog]
instance_types = ["example_vm"]
benign = { aws_instance = ["metadata_options"] }
[rules]
IMM005 = "error"
mutable-image-reference = "off"
[[waivers]]
rule = "IMM001"
address = "module.legacy.*"
reason = "bastion is replaced in Q3"
expires = 2027-03-31
"#,
        )
        .unwrap();
        assert!(c.strict);
        assert_eq!(
            c.severity(rules::find("IMM005").unwrap()),
            Some(Severity::Error)
        );
        assert_eq!(c.severity(rules::find("IMM006").unwrap()), None);
        assert_eq!(
            c.severity(rules::find("IMM001").unwrap()),
            Some(Severity::Error)
        );
        let w = &c.waivers[0];
        assert_eq!(w.origin, ".immutable-lint.toml:9");
        assert!(w.matches(
            "module.legacy[\"a\"].aws_instance.x",
            "module.legacy.aws_instance.x"
        ));
        assert!(!w.matches("module.other.aws_instance.x", "module.other.aws_instance.x"));
        assert!(w.is_expired(Date::from_calendar_date(2027, time::Month::April, 1).unwrap()));
        assert!(!w.is_expired(Date::from_calendar_date(2027, time::Month::March, 31).unwrap()));
    }

    #[test]
    fn brackets_in_globs_are_literal() {
        let g = address_glob("aws_instance.web[\"a\"]").unwrap();
        assert!(g.is_match("aws_instance.web[\"a\"]"));
        assert!(!g.is_match("aws_instance.web[a]"));
    }

    #[test]
    fn backslashes_and_braces_in_waiver_globs_are_literal() {
        // for_each keys with an escaped quote, braces or a bang, as Terraform writes them.
        let g = address_glob(r#"aws_instance.w["a\"b"]"#).unwrap();
        assert!(g.is_match(r#"aws_instance.w["a\"b"]"#));
        let g = address_glob(r#"aws_instance.w["{x,y}!"]"#).unwrap();
        assert!(g.is_match(r#"aws_instance.w["{x,y}!"]"#));
        assert!(!g.is_match(r#"aws_instance.w["x"]"#));
        let g = address_glob(r#"module.m["*"].*"#).unwrap();
        assert!(g.is_match(r#"module.m["eu-west-1"].aws_instance.x[0]"#));
    }

    #[test]
    fn errors_point_at_the_problem() {
        for (text, needle) in [
            (
                "[[waivers]]\nrule = \"IMM001\"\naddress = \"x\"\n",
                "needs a reason",
            ),
            (
                "[[waivers]]\nrule = \"IMM001\"\naddress = \"x\"\nreason = \" \"\n",
                "needs a reason",
            ),
            (
                "[[waivers]]\nrule = \"IMM999\"\naddress = \"x\"\nreason = \"r\"\n",
                "unknown rule",
            ),
            ("[rules]\nIMM001 = \"fatal\"\n", "unknown severity"),
            (
                "[[waivers]]\nrule = \"IMM001\"\naddress = \"x\"\nreason = \"r\"\nexpires = \"soon\"\n",
                "expires",
            ),
            ("colour = 1\n", "unknown field"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(
                err.to_string().contains(needle),
                "{err} should mention {needle}"
            );
        }
    }
}
