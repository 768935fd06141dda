//! The catalogue of instance-bearing resource types, across providers, with the attributes
//! whose in-place change leaves every running instance as it was ("benign").
//!
//! Benign means: metadata the instance never sees (tags, labels, descriptions), capacity of a
//! group (scaling adds or removes whole instances, it mutates none), and settings that only
//! Terraform reads (timeouts, deletion toggles). Anything else — image, size, user data,
//! network, disks, metadata read by the guest — mutates a running instance in place.

use std::collections::HashMap;

use serde_json::Value;

use crate::plan::diff::ChangedPath;

mod builtins;

use builtins::{BUILTINS, CAPACITY};
pub use builtins::{COMMON_BENIGN, Kind};

/// One catalogued type.
#[derive(Debug, Clone)]
pub struct TypeInfo {
    pub provider: String,
    pub kind: Kind,
    /// Benign attribute paths (dotted, list indexes ignored), not counting [`COMMON_BENIGN`].
    pub benign: Vec<String>,
}

/// The catalogue in use: built-ins plus the config file's extensions.
#[derive(Debug, Clone)]
pub struct Catalog {
    types: HashMap<String, TypeInfo>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalog {
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(|b| {
                let info = TypeInfo {
                    provider: b.provider.to_owned(),
                    kind: b.kind,
                    benign: b.benign.iter().map(|s| (*s).to_owned()).collect(),
                };
                (b.type_name.to_owned(), info)
            })
            .collect();
        Self { types }
    }

    /// Adds an instance-bearing type (a no-op for a type already catalogued).
    pub fn add_instance_type(&mut self, type_name: &str) {
        self.types
            .entry(type_name.to_owned())
            .or_insert_with(|| TypeInfo {
                provider: type_name.split('_').next().unwrap_or_default().to_owned(),
                kind: Kind::Instance,
                benign: Vec::new(),
            });
    }

    /// Adds benign attributes to a type, cataloguing it as an instance type if it was not.
    pub fn add_benign(&mut self, type_name: &str, attributes: &[String]) {
        self.add_instance_type(type_name);
        if let Some(info) = self.types.get_mut(type_name) {
            info.benign.extend(attributes.iter().cloned());
        }
    }

    pub fn get(&self, type_name: &str) -> Option<&TypeInfo> {
        self.types.get(type_name)
    }

    /// All types, sorted by name.
    pub fn entries(&self) -> Vec<(&str, &TypeInfo)> {
        let mut all: Vec<_> = self.types.iter().map(|(k, v)| (k.as_str(), v)).collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }

    /// Whether `path` is one of a group type's capacity attributes ([`CAPACITY`]).
    pub fn is_capacity(type_name: &str, path: &ChangedPath) -> bool {
        CAPACITY
            .iter()
            .find(|(t, _)| *t == type_name)
            .is_some_and(|(_, attributes)| attributes.iter().any(|a| path.starts_with(a)))
    }

    /// Whether changing `path` in place leaves the instances of `type_name` as they were.
    /// `after` is the planned object: some groups roll changes out by replacing instances.
    pub fn is_benign(&self, type_name: &str, path: &ChangedPath, after: Option<&Value>) -> bool {
        if COMMON_BENIGN.iter().any(|b| path.starts_with(b)) {
            return true;
        }
        let Some(info) = self.get(type_name) else {
            return false;
        };
        if info.benign.iter().any(|b| path.starts_with(b)) {
            return true;
        }
        rolling_paths(type_name, after)
            .iter()
            .any(|b| path.starts_with(b))
    }
}

/// Attributes a group rolls out by launching new instances and terminating old ones, when
/// the planned object says it will: an `instance_refresh` block on an AWS ASG, a PROACTIVE
/// update policy on a GCP managed instance group. Without that, the same change only affects
/// instances launched later and leaves a mixed fleet.
fn rolling_paths(type_name: &str, after: Option<&Value>) -> &'static [&'static str] {
    let Some(after) = after else { return &[] };
    let first_block = |name: &str| -> Option<&Value> {
        match after.get(name)? {
            Value::Array(list) => list.first(),
            v @ Value::Object(_) => Some(v),
            _ => None,
        }
    };
    match type_name {
        "aws_autoscaling_group" if first_block("instance_refresh").is_some() => &[
            "launch_template",
            "mixed_instances_policy",
            "launch_configuration",
        ],
        "google_compute_instance_group_manager"
        | "google_compute_region_instance_group_manager"
            if first_block("update_policy")
                .and_then(|p| p.get("type"))
                .and_then(Value::as_str)
                == Some("PROACTIVE") =>
        {
            &["version", "instance_template"]
        }
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::plan::diff::Step;
    use serde_json::json;

    fn path(keys: &[&str]) -> ChangedPath {
        ChangedPath {
            steps: keys.iter().map(|k| Step::Key((*k).to_owned())).collect(),
            known_after_apply: false,
            sensitive: false,
        }
    }

    #[test]
    fn builtins_are_unique_and_cover_the_major_providers() {
        let mut names: Vec<_> = BUILTINS.iter().map(|b| b.type_name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate catalogue entry");
        for provider in [
            "aws",
            "google",
            "azurerm",
            "openstack",
            "vsphere",
            "digitalocean",
            "hcloud",
            "linode",
            "oci",
            "alicloud",
            "immutable",
        ] {
            assert!(
                BUILTINS.iter().any(|b| b.provider == provider),
                "{provider}"
            );
        }
    }

    #[test]
    fn the_fleets_own_in_place_settings_are_benign_and_its_baked_ones_are_not() {
        let c = Catalog::builtin();
        for in_place in [
            "lifecycle_hook",
            "scaling_policy",
            "max_instance_lifetime",
            "name",
            "rollout",
        ] {
            assert!(
                c.is_benign("immutable_fleet", &path(&[in_place]), None),
                "{in_place}"
            );
        }
        for baked in [
            "image_id",
            "block_device_mapping",
            "metadata_options",
            "mixed_instances",
        ] {
            assert!(
                !c.is_benign("immutable_fleet", &path(&[baked]), None),
                "{baked}"
            );
        }
    }

    #[test]
    fn benign_paths() {
        let c = Catalog::builtin();
        assert!(c.is_benign("aws_instance", &path(&["tags", "env"]), None));
        assert!(!c.is_benign(
            "aws_instance",
            &path(&["metadata_options", "http_tokens"]),
            None
        ));
        assert!(c.is_benign(
            "azurerm_virtual_machine_scale_set",
            &path(&["sku", "capacity"]),
            None
        ));
        assert!(!c.is_benign(
            "azurerm_virtual_machine_scale_set",
            &path(&["sku", "name"]),
            None
        ));
    }

    #[test]
    fn gcp_fingerprints_recomputed_after_a_label_change_are_benign() {
        let c = Catalog::builtin();
        let mut fingerprint = path(&["label_fingerprint"]);
        fingerprint.known_after_apply = true;
        assert!(c.is_benign("google_compute_instance", &fingerprint, None));
        assert!(c.is_benign(
            "google_compute_instance_group_manager",
            &path(&["fingerprint"]),
            None
        ));
        assert!(!c.is_benign(
            "google_compute_instance",
            &path(&["metadata", "startup-script"]),
            None
        ));
    }

    #[test]
    fn instance_refresh_makes_launch_template_changes_rolling() {
        let c = Catalog::builtin();
        let lt = path(&["launch_template", "version"]);
        assert!(!c.is_benign(
            "aws_autoscaling_group",
            &lt,
            Some(&json!({"instance_refresh": []}))
        ));
        assert!(c.is_benign(
            "aws_autoscaling_group",
            &lt,
            Some(&json!({"instance_refresh": [{"strategy": "Rolling"}]}))
        ));
    }

    #[test]
    fn capacity_attributes_are_benign_settings_of_groups() {
        let c = Catalog::builtin();
        for (type_name, attributes) in CAPACITY {
            let info = c.get(type_name).unwrap();
            assert_eq!(info.kind, Kind::Group, "{type_name}");
            for attribute in *attributes {
                let p = path(&attribute.split('.').collect::<Vec<_>>());
                assert!(c.is_benign(type_name, &p, None), "{type_name}.{attribute}");
                assert!(Catalog::is_capacity(type_name, &p));
            }
        }
        assert!(!Catalog::is_capacity(
            "aws_autoscaling_group",
            &path(&["launch_template", "version"])
        ));
        assert!(!Catalog::is_capacity(
            "aws_instance",
            &path(&["desired_capacity"])
        ));
    }

    #[test]
    fn config_extensions() {
        let mut c = Catalog::builtin();
        c.add_instance_type("example_vm");
        c.add_benign("aws_instance", &["metadata_options".to_owned()]);
        assert_eq!(c.get("example_vm").map(|t| t.kind), Some(Kind::Instance));
        assert!(c.is_benign(
            "aws_instance",
            &path(&["metadata_options", "http_tokens"]),
            None
        ));
    }
}
