//! The built-in catalogue: instance-bearing types per provider, their benign attributes and the
//! capacity attributes of groups. A data table.

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

pub(super) struct Builtin {
    pub(super) type_name: &'static str,
    pub(super) provider: &'static str,
    pub(super) kind: Kind,
    pub(super) benign: &'static [&'static str],
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

pub(super) const BUILTINS: &[Builtin] = &[
    // Ours: capacity, the health gate, the rollout settings, the name and the group settings
    // are the in-place attributes by design (provider/src/resources/fleet/schema/; tags are
    // benign everywhere).
    t(
        "immutable_fleet",
        "immutable",
        Group,
        &[
            "min_size",
            "max_size",
            "desired_capacity",
            "health_check",
            "rollout",
            "name",
            "leftovers",
            "lifecycle_hook",
            "scaling_policy",
            "max_instance_lifetime",
            "termination_policies",
            "default_instance_warmup",
            "capacity_rebalance",
            "enabled_metrics",
        ],
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
pub(super) const CAPACITY: &[(&str, &[&str])] = &[
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
