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

/// What a type holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One server or VM.
    Instance,
    /// A group of identical instances (ASG, managed instance group, scale set, fleet).
    Group,
    /// A template instances are launched from. Updating one makes a new version and mutates
    /// nothing running, so IMM001/IMM002 leave templates alone; drift on them still matters.
    Template,
}

impl Kind {
    /// Instances and groups, which IMM001/IMM002 check.
    pub fn bears_instances(self) -> bool {
        matches!(self, Self::Instance | Self::Group)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instance => "instance",
            Self::Group => "group",
            Self::Template => "template",
        }
    }
}

/// Benign on every type.
pub const COMMON_BENIGN: &[&str] = &[
    "tags",
    "tags_all",
    "labels",
    "effective_labels",
    "terraform_labels",
    "description",
    "timeouts",
];

struct Builtin {
    type_name: &'static str,
    provider: &'static str,
    kind: Kind,
    benign: &'static [&'static str],
}

const fn t(
    type_name: &'static str,
    provider: &'static str,
    kind: Kind,
    benign: &'static [&'static str],
) -> Builtin {
    Builtin {
        type_name,
        provider,
        kind,
        benign,
    }
}

use Kind::{Group, Instance, Template};

const AWS_ASG_BENIGN: &[&str] = &[
    "min_size",
    "max_size",
    "desired_capacity",
    "desired_capacity_type",
    "tag",
    "wait_for_capacity_timeout",
    "wait_for_elb_capacity",
    "min_elb_capacity",
    "force_delete",
    "force_delete_warm_pool",
    "enabled_metrics",
    "metrics_granularity",
    "suspended_processes",
    "protect_from_scale_in",
    "ignore_failed_scaling_activities",
    "instance_refresh",
];
// Fingerprints are outputs the provider recomputes (known only after apply) whenever what
// they fingerprint changes; that attribute is judged on its own.
const GCP_INSTANCE_BENIGN: &[&str] = &[
    "deletion_protection",
    "allow_stopping_for_update",
    "label_fingerprint",
    "metadata_fingerprint",
    "tags_fingerprint",
];
const GCP_IGM_BENIGN: &[&str] = &[
    "fingerprint",
    "status",
    "target_size",
    "auto_healing_policies",
    "update_policy",
    "named_port",
    "wait_for_instances",
    "wait_for_instances_status",
    "list_managed_instances_results",
];
const AZURE_VM_BENIGN: &[&str] = &["allow_extension_operations"];
const AZURE_VMSS_BENIGN: &[&str] = &[
    "instances",
    "scale_in",
    "automatic_instance_repair",
    "upgrade_mode",
    "rolling_upgrade_policy",
    "overprovision",
];
const ASG_LIKE: &[&str] = &["min_size", "max_size", "desired_capacity"];

const BUILTINS: &[Builtin] = &[
    // Ours: capacity, tags and the health gate are the in-place attributes by design.
    t(
        "immutable_fleet",
        "immutable",
        Group,
        &["min_size", "max_size", "desired_capacity", "health_check"],
    ),
    // AWS
    t(
        "aws_instance",
        "aws",
        Instance,
        &["volume_tags", "disable_api_termination", "disable_api_stop"],
    ),
    t(
        "aws_spot_instance_request",
        "aws",
        Instance,
        &["volume_tags", "wait_for_fulfillment"],
    ),
    t("aws_autoscaling_group", "aws", Group, AWS_ASG_BENIGN),
    t(
        "aws_ec2_fleet",
        "aws",
        Group,
        &[
            "target_capacity_specification",
            "terminate_instances",
            "terminate_instances_with_expiration",
        ],
    ),
    t(
        "aws_spot_fleet_request",
        "aws",
        Group,
        &[
            "target_capacity",
            "on_demand_target_capacity",
            "terminate_instances_with_expiration",
            "terminate_instances_on_delete",
            "wait_for_fulfillment",
        ],
    ),
    t("aws_lightsail_instance", "aws", Instance, &[]),
    t("aws_opsworks_instance", "aws", Instance, &[]),
    t(
        "aws_launch_template",
        "aws",
        Template,
        &["default_version", "update_default_version"],
    ),
    t("aws_launch_configuration", "aws", Template, &[]),
    // Google Cloud (google and google-beta share type names)
    t(
        "google_compute_instance",
        "google",
        Instance,
        GCP_INSTANCE_BENIGN,
    ),
    t(
        "google_compute_instance_from_template",
        "google",
        Instance,
        GCP_INSTANCE_BENIGN,
    ),
    t(
        "google_compute_instance_from_machine_image",
        "google",
        Instance,
        GCP_INSTANCE_BENIGN,
    ),
    t(
        "google_compute_instance_group_manager",
        "google",
        Group,
        GCP_IGM_BENIGN,
    ),
    t(
        "google_compute_region_instance_group_manager",
        "google",
        Group,
        GCP_IGM_BENIGN,
    ),
    t("google_compute_instance_template", "google", Template, &[]),
    t(
        "google_compute_region_instance_template",
        "google",
        Template,
        &[],
    ),
    // Azure
    t(
        "azurerm_linux_virtual_machine",
        "azurerm",
        Instance,
        AZURE_VM_BENIGN,
    ),
    t(
        "azurerm_windows_virtual_machine",
        "azurerm",
        Instance,
        AZURE_VM_BENIGN,
    ),
    t(
        "azurerm_virtual_machine",
        "azurerm",
        Instance,
        &[
            "delete_os_disk_on_termination",
            "delete_data_disks_on_termination",
        ],
    ),
    t(
        "azurerm_linux_virtual_machine_scale_set",
        "azurerm",
        Group,
        AZURE_VMSS_BENIGN,
    ),
    t(
        "azurerm_windows_virtual_machine_scale_set",
        "azurerm",
        Group,
        AZURE_VMSS_BENIGN,
    ),
    t(
        "azurerm_orchestrated_virtual_machine_scale_set",
        "azurerm",
        Group,
        &["instances"],
    ),
    t(
        "azurerm_virtual_machine_scale_set",
        "azurerm",
        Group,
        &[
            "sku.capacity",
            "upgrade_policy_mode",
            "rolling_upgrade_policy",
        ],
    ),
    // OpenStack
    t(
        "openstack_compute_instance_v2",
        "openstack",
        Instance,
        &["stop_before_destroy", "force_delete"],
    ),
    // VMware vSphere
    t(
        "vsphere_virtual_machine",
        "vsphere",
        Instance,
        &[
            "annotation",
            "custom_attributes",
            "folder",
            "shutdown_wait_timeout",
            "force_power_off",
        ],
    ),
    // DigitalOcean
    t(
        "digitalocean_droplet",
        "digitalocean",
        Instance,
        &["graceful_shutdown"],
    ),
    t(
        "digitalocean_droplet_autoscale",
        "digitalocean",
        Group,
        &["config"],
    ),
    // Hetzner Cloud
    t(
        "hcloud_server",
        "hcloud",
        Instance,
        &[
            "delete_protection",
            "rebuild_protection",
            "shutdown_before_deletion",
        ],
    ),
    // Linode (Akamai)
    t("linode_instance", "linode", Instance, &["group"]),
    // Oracle Cloud Infrastructure
    t(
        "oci_core_instance",
        "oci",
        Instance,
        &["freeform_tags", "defined_tags", "display_name"],
    ),
    t(
        "oci_core_instance_pool",
        "oci",
        Group,
        &["size", "freeform_tags", "defined_tags", "display_name"],
    ),
    t(
        "oci_core_instance_configuration",
        "oci",
        Template,
        &["freeform_tags", "defined_tags", "display_name"],
    ),
    // Alibaba Cloud
    t(
        "alicloud_instance",
        "alicloud",
        Instance,
        &["volume_tags", "deletion_protection"],
    ),
    t(
        "alicloud_ess_scaling_group",
        "alicloud",
        Group,
        &["min_size", "max_size", "desired_capacity"],
    ),
    t(
        "alicloud_ess_scaling_configuration",
        "alicloud",
        Template,
        &[],
    ),
    t("alicloud_ecs_launch_template", "alicloud", Template, &[]),
    // Proxmox VE (Telmate and bpg providers)
    t("proxmox_vm_qemu", "proxmox", Instance, &["desc"]),
    t("proxmox_lxc", "proxmox", Instance, &[]),
    t("proxmox_virtual_environment_vm", "proxmox", Instance, &[]),
    t(
        "proxmox_virtual_environment_container",
        "proxmox",
        Instance,
        &[],
    ),
    // Others
    t("vultr_instance", "vultr", Instance, &[]),
    t("scaleway_instance_server", "scaleway", Instance, &[]),
    t("exoscale_compute_instance", "exoscale", Instance, &[]),
    t("exoscale_instance_pool", "exoscale", Group, &["size"]),
    t("upcloud_server", "upcloud", Instance, &[]),
    t("equinix_metal_device", "equinix", Instance, &[]),
    t("ibm_is_instance", "ibm", Instance, &[]),
    t("ibm_is_instance_group", "ibm", Group, &["membership_count"]),
    t(
        "nutanix_virtual_machine",
        "nutanix",
        Instance,
        &["categories"],
    ),
    t("tencentcloud_instance", "tencentcloud", Instance, &[]),
    t(
        "tencentcloud_as_scaling_group",
        "tencentcloud",
        Group,
        ASG_LIKE,
    ),
    t("huaweicloud_compute_instance", "huaweicloud", Instance, &[]),
    t("libvirt_domain", "libvirt", Instance, &[]),
];

/// The capacity attributes of each group type: the benign settings that autoscalers,
/// scheduled actions and operators move at run time without touching a running instance.
/// A change of these found in `resource_drift` is scaling, not drift (IMM007). Each is also
/// benign for its type (a test checks it).
const CAPACITY: &[(&str, &[&str])] = &[
    (
        "immutable_fleet",
        &["min_size", "max_size", "desired_capacity"],
    ),
    (
        "aws_autoscaling_group",
        &["min_size", "max_size", "desired_capacity"],
    ),
    ("aws_ec2_fleet", &["target_capacity_specification"]),
    (
        "aws_spot_fleet_request",
        &["target_capacity", "on_demand_target_capacity"],
    ),
    ("google_compute_instance_group_manager", &["target_size"]),
    (
        "google_compute_region_instance_group_manager",
        &["target_size"],
    ),
    ("azurerm_linux_virtual_machine_scale_set", &["instances"]),
    ("azurerm_windows_virtual_machine_scale_set", &["instances"]),
    (
        "azurerm_orchestrated_virtual_machine_scale_set",
        &["instances"],
    ),
    ("azurerm_virtual_machine_scale_set", &["sku.capacity"]),
    ("oci_core_instance_pool", &["size"]),
    ("alicloud_ess_scaling_group", ASG_LIKE),
    ("exoscale_instance_pool", &["size"]),
    ("ibm_is_instance_group", &["membership_count"]),
    ("tencentcloud_as_scaling_group", ASG_LIKE),
];

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
