//! The rules, one per file. Each file starts with the rule's documentation (printed by
//! `--explain` and rendered to `docs/rules/IMMxxx.md`), then the check.

mod check;
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

pub use crate::registry::RuleInfo;
pub use check::{Context, Rule};
pub use imm001_in_place_update::InPlaceUpdate;
pub use imm002_destroy_before_create::DestroyBeforeCreate;
pub use imm003_runtime_provisioner::RuntimeProvisioner;
pub use imm004_ungated_replacement::UngatedReplacement;
pub use imm005_ssh_open_to_world::SshOpenToWorld;
pub use imm006_mutable_image_reference::MutableImageReference;
pub use imm007_out_of_band_drift::OutOfBandDrift;

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
