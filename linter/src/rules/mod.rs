//! The rules, one per file. Each file starts with the rule's documentation (printed by
//! `--explain` and rendered to `docs/rules/IMMxxx.md`), then the check.

use crate::catalog::{Catalog, TypeInfo};
use crate::finding::{Finding, Severity};
use crate::plan::{Mode, Plan, ResourceChange};
use crate::tfconfig::ConfigResource;

mod imm001_in_place_update;
mod imm001_in_place_update_config;
mod imm002_destroy_before_create;
mod imm003_runtime_provisioner;
mod imm004_ungated_replacement;
mod imm005_ssh_open_to_world;
mod imm006_mutable_image_reference;
mod imm007_out_of_band_drift;
mod launch_templates;
mod util;

pub use imm001_in_place_update::InPlaceUpdate;
pub use imm002_destroy_before_create::DestroyBeforeCreate;
pub use imm003_runtime_provisioner::RuntimeProvisioner;
pub use imm004_ungated_replacement::UngatedReplacement;
pub use imm005_ssh_open_to_world::SshOpenToWorld;
pub use imm006_mutable_image_reference::MutableImageReference;
pub use imm007_out_of_band_drift::OutOfBandDrift;

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
    doc: &'static str,
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
            pub const INFO: $crate::rules::RuleInfo = $crate::rules::RuleInfo {
                code: $code,
                name: $name,
                default_severity: $crate::finding::Severity::$severity,
                summary: $summary,
                doc: concat!($($doc, "\n"),*),
                file: file!(),
            };
        }
    };
}
pub(crate) use declare_rule;

/// What rules see besides the plan.
pub struct Context<'c> {
    pub catalog: &'c Catalog,
    /// `--strict`: any update of an instance-bearing resource is a finding.
    pub strict: bool,
}

impl Context<'_> {
    /// The catalogue entry of a managed resource, if it is catalogued.
    pub fn type_info(&self, rc: &ResourceChange<'_>) -> Option<&TypeInfo> {
        if rc.mode == Mode::Managed {
            self.catalog.get(&rc.type_name)
        } else {
            None
        }
    }
}

/// A check. Each hook defaults to doing nothing.
pub trait Rule: Sync {
    fn info(&self) -> &'static RuleInfo;

    /// Called for every entry of `resource_changes`.
    fn check_change(&self, _ctx: &Context<'_>, _rc: &ResourceChange<'_>, _out: &mut Vec<Finding>) {}

    /// Called for every entry of `resource_drift`.
    fn check_drift(&self, _ctx: &Context<'_>, _rc: &ResourceChange<'_>, _out: &mut Vec<Finding>) {}

    /// Called once per plan, for rules that read `configuration`.
    fn check_plan(&self, _ctx: &Context<'_>, _plan: &Plan<'_>, _out: &mut Vec<Finding>) {}

    /// Called for every `resource` block in configuration mode (`immutable-lint DIR`), for
    /// rules that have a configuration form (their docs say which).
    fn check_config(
        &self,
        _ctx: &Context<'_>,
        _resource: &ConfigResource,
        _out: &mut Vec<Finding>,
    ) {
    }
}

/// Every rule, in code order.
pub static ALL: &[&dyn Rule] = &[
    &InPlaceUpdate,
    &DestroyBeforeCreate,
    &RuntimeProvisioner,
    &UngatedReplacement,
    &SshOpenToWorld,
    &MutableImageReference,
    &OutOfBandDrift,
];

/// Every rule's info, in code order.
pub fn infos() -> impl Iterator<Item = &'static RuleInfo> {
    ALL.iter().map(|r| r.info())
}

/// Looks a rule up by code (`IMM001`, any case) or name (`in-place-update`).
pub fn find(code_or_name: &str) -> Option<&'static RuleInfo> {
    infos().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sequential_and_documented() {
        for (i, info) in infos().enumerate() {
            assert_eq!(info.code, format!("IMM{:03}", i + 1));
            let doc = info.explain();
            for section in [
                "### What it does",
                "### Why is this bad?",
                "### Example",
                "Use instead:",
                "### Configuration mode\n",
            ] {
                assert!(doc.contains(section), "{} lacks {section}", info.code);
            }
            // The section says yes or no first: the index page and `--explain` rely on it.
            let answer = doc.split_once("### Configuration mode\n").map(|(_, s)| s);
            assert!(
                answer.is_some_and(|s| s.starts_with("Yes") || s.starts_with("No")),
                "{}",
                info.code
            );
        }
        let with_form: Vec<&str> = infos()
            .filter(|r| r.config_form())
            .map(|r| r.code)
            .collect();
        assert_eq!(
            with_form,
            ["IMM001", "IMM002", "IMM003", "IMM004", "IMM005", "IMM006"]
        );
        assert_eq!(
            find("imm002").map(|r| r.name),
            Some("destroy-before-create")
        );
        assert_eq!(find("ssh-open-to-world").map(|r| r.code), Some("IMM005"));
        assert!(find("IMM999").is_none());
    }
}
