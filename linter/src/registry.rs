//! Rule metadata: each rule's identity, documentation and default severity. Both the rules and
//! the findings they report refer to it; it refers to neither.

use serde::{Deserialize, Serialize};

/// How much a finding matters. Only errors make the exit status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    /// The severity's name: in the configuration file, and in every output format that
    /// names it (JSON, SARIF levels, GitHub workflow commands, the human report).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    /// The severity named `name` (see [`Severity::as_str`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Warning, Self::Error]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A rule's permanent identity and documentation.
#[derive(Debug)]
pub struct RuleInfo {
    /// `IMM001`. Permanent: never reused.
    pub code: &'static str,
    /// `in-place-update`.
    pub name: &'static str,
    pub default_severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// The rule's doc comment, verbatim (each line keeps rustdoc's leading space).
    pub(crate) doc: &'static str,
    /// Source file, for the docs' "View source" link.
    pub file: &'static str,
}

impl RuleInfo {
    /// The documentation as Markdown.
    pub fn explain(&self) -> String {
        let mut out = String::with_capacity(self.doc.len());
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// Whether the rule has a configuration form (runs in `immutable-lint DIR`): its docs'
    /// `### Configuration mode` section starts with "Yes".
    pub fn config_form(&self) -> bool {
        self.explain()
            .split_once("### Configuration mode\n")
            .is_some_and(|(_, section)| section.starts_with("Yes"))
    }

    /// Relative to the repository root.
    pub fn docs_path(&self) -> String {
        format!("docs/rules/{}.md", self.code)
    }

    /// The rule page in the repository.
    pub fn help_uri(&self) -> String {
        format!(
            "{}/blob/main/{}",
            env!("CARGO_PKG_REPOSITORY"),
            self.docs_path()
        )
    }
}

/// Declares a rule struct whose doc comment becomes its [`RuleInfo`] documentation.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $rule:ident {
            code: $code:literal,
            name: $name:literal,
            severity: $severity:ident,
            summary: $summary:literal $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $rule;

        impl $rule {
            pub const INFO: $crate::registry::RuleInfo = $crate::registry::RuleInfo {
                code: $code,
                name: $name,
                default_severity: $crate::registry::Severity::$severity,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
                file: file!(),
            };
        }
    };
}
pub(crate) use declare_rule;
