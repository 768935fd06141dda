//! Checks of the launch options (disks, metadata service, CPU credits) against what EC2
//! accepts, so that a value EC2 would refuse at apply is an error at plan time instead.
//! Each limit names its source: the Amazon EBS User Guide ("Amazon EBS volume types") and
//! the EC2 API reference (`LaunchTemplateEbsBlockDeviceRequest`,
//! `LaunchTemplateInstanceMetadataOptionsRequest`, `CreditSpecificationRequest`).

use std::collections::BTreeSet;

use tfplugin_cty::{Path, Value};

use super::super::launch_spec::DEFAULT_VOLUME_TYPE;
use super::super::schema::launch::{device, metadata};
use super::super::schema::mixed_instances::{self as mixed, overrides};
use super::super::schema::{
    BLOCK_DEVICE_MAPPING, CREDIT_SPECIFICATION, INSTANCE_TYPE, METADATA_OPTIONS, MIXED_INSTANCES,
    at,
};
use crate::framework::Diagnostics;
use crate::framework::value::ObjectExt;

/// What one EBS volume type accepts.
struct VolumeLimits {
    name: &'static str,
    /// GiB.
    size: (i64, i64),
    /// Provisioned IOPS, when the type takes them, and how many per GiB at most.
    iops: Option<((i64, i64), i64)>,
    /// MiB/s, when the type takes a throughput.
    throughput: Option<(i64, i64)>,
}

const VOLUME_TYPES: [VolumeLimits; 7] = [
    VolumeLimits {
        name: "gp3",
        size: (1, 16_384),
        iops: Some(((3_000, 16_000), 500)),
        throughput: Some((125, 1_000)),
    },
    VolumeLimits {
        name: "gp2",
        size: (1, 16_384),
        iops: None,
        throughput: None,
    },
    VolumeLimits {
        name: "io1",
        size: (4, 16_384),
        iops: Some(((100, 64_000), 50)),
        throughput: None,
    },
    VolumeLimits {
        name: "io2",
        size: (4, 65_536),
        iops: Some(((100, 256_000), 1_000)),
        throughput: None,
    },
    VolumeLimits {
        name: "st1",
        size: (125, 16_384),
        iops: None,
        throughput: None,
    },
    VolumeLimits {
        name: "sc1",
        size: (125, 16_384),
        iops: None,
        throughput: None,
    },
    VolumeLimits {
        name: "standard",
        size: (1, 1_024),
        iops: None,
        throughput: None,
    },
];

/// gp3 volumes get this much without provisioning: every size may have it.
const GP3_BASELINE_IOPS: i64 = 3_000;
/// gp3 throughput is at most a quarter of the volume's IOPS, in MiB/s.
const GP3_IOPS_PER_MIB: i64 = 4;

/// Instance families whose CPU credits can be set.
const BURSTABLE_FAMILIES: [&str; 4] = ["t2", "t3", "t3a", "t4g"];

pub fn config(config: &Value, d: &mut Diagnostics) {
    block_devices(config, d);
    metadata_options(config, d);
    credit_specification(config, d);
    mixed_instances(config, d);
}

/// The mixed instances policy: distinct types with weights of 1–999, a non-negative base, a
/// percentage, and strategies Auto Scaling knows.
fn mixed_instances(config: &Value, d: &mut Diagnostics) {
    let block = config.attr(MIXED_INSTANCES);
    if block.is_null() || block.is_unknown() {
        return;
    }
    let path = at(MIXED_INSTANCES);
    let mut seen = BTreeSet::new();
    for (i, o) in block
        .attr(mixed::OVERRIDE)
        .elements()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let at_override = path
            .attr(mixed::OVERRIDE)
            .index(i64::try_from(i).unwrap_or(0));
        if let Some(kind) = o.string(overrides::INSTANCE_TYPE)
            && !seen.insert(kind.to_owned())
        {
            d.attribute_error(
                at_override.attr(overrides::INSTANCE_TYPE),
                "Duplicate instance type",
                format!("{kind} is in two override blocks; each type is listed once."),
            );
        }
        if let Some(weight) = o.int(overrides::WEIGHTED_CAPACITY)
            && !(1..=999).contains(&weight)
        {
            d.attribute_error(
                at_override.attr(overrides::WEIGHTED_CAPACITY),
                "Weight out of range",
                format!("weighted_capacity = {weight}; Auto Scaling takes 1–999."),
            );
        }
    }
    if let Some(base) = block.int(mixed::ON_DEMAND_BASE_CAPACITY)
        && base < 0
    {
        d.attribute_error(
            path.attr(mixed::ON_DEMAND_BASE_CAPACITY),
            "Negative base capacity",
            format!("on_demand_base_capacity = {base}; it is 0 or more."),
        );
    }
    if let Some(share) = block.int(mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY)
        && !(0..=100).contains(&share)
    {
        d.attribute_error(
            path.attr(mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY),
            "Percentage out of range",
            format!("on_demand_percentage_above_base_capacity = {share}; it is 0–100."),
        );
    }
    one_of(
        block,
        &path,
        mixed::SPOT_ALLOCATION_STRATEGY,
        &[
            "price-capacity-optimized",
            "capacity-optimized",
            "capacity-optimized-prioritized",
            "lowest-price",
        ],
        d,
    );
    one_of(
        block,
        &path,
        mixed::ON_DEMAND_ALLOCATION_STRATEGY,
        &["prioritized", "lowest-price"],
        d,
    );
}

fn block_devices(config: &Value, d: &mut Diagnostics) {
    let path = at(BLOCK_DEVICE_MAPPING);
    let Some(devices) = config.attr(BLOCK_DEVICE_MAPPING).elements() else {
        return;
    };
    let mut seen = BTreeSet::new();
    for block in devices {
        let Some(name) = block.string(device::DEVICE_NAME) else {
            continue;
        };
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            d.attribute_error(
                path.clone(),
                "Invalid device name",
                format!(
                    "device_name = {name:?}: a device name such as \"/dev/xvda\" or \
                     \"/dev/sdf\" has no spaces."
                ),
            );
        } else if !seen.insert(name.to_owned()) {
            d.attribute_error(
                path.clone(),
                "Duplicate device",
                format!("Two block_device_mapping blocks name {name}; a device has one volume."),
            );
        }
        volume(&path, name, block, d);
    }
}

/// One volume's type, size, IOPS, throughput and key.
fn volume(path: &Path, name: &str, block: &Value, d: &mut Diagnostics) {
    let kind_value = block.attr(device::VOLUME_TYPE);
    if kind_value.is_unknown() {
        return;
    }
    let kind = kind_value.as_str().unwrap_or(DEFAULT_VOLUME_TYPE);
    let Some(limits) = VOLUME_TYPES.iter().find(|v| v.name == kind) else {
        let known: Vec<&str> = VOLUME_TYPES.iter().map(|v| v.name).collect();
        d.attribute_error(
            path.clone(),
            "Invalid volume type",
            format!(
                "{name}: volume_type = {kind:?}; EBS volume types are {}.",
                known.join(", ")
            ),
        );
        return;
    };
    let mut error = |summary: &str, detail: String| {
        d.attribute_error(path.clone(), summary, format!("{name}: {detail}"));
    };
    let size = block.int(device::VOLUME_SIZE);
    if let Some(size) = size
        && !(limits.size.0..=limits.size.1).contains(&size)
    {
        error(
            "Volume size out of range",
            format!(
                "volume_size = {size} GiB; a {kind} volume has {}–{} GiB.",
                limits.size.0, limits.size.1
            ),
        );
    }
    let iops = block.int(device::IOPS);
    provisioned_iops(limits, size, iops, block, &mut error);
    throughput(limits, iops, block, &mut error);
    if block.attr(device::KMS_KEY_ID).as_str().is_some()
        && block.attr(device::ENCRYPTED).as_bool() == Some(false)
    {
        error(
            "Key for an unencrypted volume",
            "kms_key_id is set but encrypted = false; a key encrypts, so set encrypted = true \
             (the default) or remove kms_key_id."
                .to_owned(),
        );
    }
}

/// IOPS only where the type takes them, within its range and its ratio to the size.
fn provisioned_iops(
    limits: &VolumeLimits,
    size: Option<i64>,
    iops: Option<i64>,
    block: &Value,
    error: &mut impl FnMut(&str, String),
) {
    let kind = limits.name;
    match (limits.iops, iops) {
        (None, Some(_)) => error(
            "IOPS not accepted",
            format!(
                "iops is set, but only gp3, io1 and io2 volumes take provisioned IOPS, not {kind}."
            ),
        ),
        (Some(_), None) if kind.starts_with("io") && !block.attr(device::IOPS).is_unknown() => {
            error(
                "IOPS required",
                format!("a {kind} volume needs iops (provisioned IOPS are what it is for)."),
            );
        }
        (Some(((min, max), per_gib)), Some(iops)) => {
            if !(min..=max).contains(&iops) {
                error(
                    "IOPS out of range",
                    format!("iops = {iops}; a {kind} volume takes {min}–{max}."),
                );
            } else if let Some(size) = size
                && iops > size * per_gib
                && !(kind == "gp3" && iops <= GP3_BASELINE_IOPS)
            {
                error(
                    "Too many IOPS for the volume size",
                    format!(
                        "iops = {iops} on {size} GiB; a {kind} volume takes at most {per_gib} \
                         IOPS per GiB. Grow volume_size or lower iops."
                    ),
                );
            }
        }
        _ => {}
    }
}

/// Throughput only for gp3, within its range and a quarter of the IOPS.
fn throughput(
    limits: &VolumeLimits,
    iops: Option<i64>,
    block: &Value,
    error: &mut impl FnMut(&str, String),
) {
    let kind = limits.name;
    if let Some(throughput) = block.int(device::THROUGHPUT) {
        match limits.throughput {
            None => error(
                "Throughput not accepted",
                format!("throughput is set, but only gp3 volumes take one, not {kind}."),
            ),
            Some((min, max)) if !(min..=max).contains(&throughput) => error(
                "Throughput out of range",
                format!("throughput = {throughput} MiB/s; a gp3 volume takes {min}–{max}."),
            ),
            Some(_) => {
                let iops = iops.unwrap_or(GP3_BASELINE_IOPS);
                let most = iops / GP3_IOPS_PER_MIB;
                if throughput > most {
                    error(
                        "Throughput too high for the IOPS",
                        format!(
                            "throughput = {throughput} MiB/s with {iops} IOPS; a gp3 volume \
                             takes at most 0.25 MiB/s per IOPS ({most}). Raise iops."
                        ),
                    );
                }
            }
        }
    }
}

fn one_of(block: &Value, path: &Path, name: &str, allowed: &[&str], d: &mut Diagnostics) {
    if let Some(value) = block.string(name)
        && !allowed.contains(&value)
    {
        d.attribute_error(
            path.attr(name),
            "Invalid value",
            format!("{name} = {value:?}; it is one of {}.", allowed.join(", ")),
        );
    }
}

fn metadata_options(config: &Value, d: &mut Diagnostics) {
    let block = config.attr(METADATA_OPTIONS);
    if block.is_null() || block.is_unknown() {
        return;
    }
    let path = at(METADATA_OPTIONS);
    one_of(
        block,
        &path,
        metadata::HTTP_TOKENS,
        &["required", "optional"],
        d,
    );
    one_of(
        block,
        &path,
        metadata::INSTANCE_METADATA_TAGS,
        &["enabled", "disabled"],
        d,
    );
    if let Some(hops) = block.int(metadata::HTTP_PUT_RESPONSE_HOP_LIMIT)
        && !(1..=64).contains(&hops)
    {
        d.attribute_error(
            path.attr(metadata::HTTP_PUT_RESPONSE_HOP_LIMIT),
            "Hop limit out of range",
            format!("http_put_response_hop_limit = {hops}; EC2 accepts 1–64."),
        );
    }
}

fn credit_specification(config: &Value, d: &mut Diagnostics) {
    one_of(
        config,
        &Path::root(),
        CREDIT_SPECIFICATION,
        &["standard", "unlimited"],
        d,
    );
    if config.string(CREDIT_SPECIFICATION).is_none() {
        return;
    }
    if let Some(kind) = config.string(INSTANCE_TYPE) {
        let family = kind.split('.').next().unwrap_or_default();
        if !BURSTABLE_FAMILIES.contains(&family) {
            d.attribute_error(
                at(CREDIT_SPECIFICATION),
                "CPU credits of a type without them",
                format!(
                    "credit_specification is set, but {kind} is not a burstable type ({}): \
                     EC2 would refuse the launch. Remove it or use a burstable type.",
                    BURSTABLE_FAMILIES.join(", ")
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::value::int;

    fn disk(fields: &[(&str, Value)]) -> Value {
        let mut attrs: Vec<(&str, Value)> = vec![(device::DEVICE_NAME, Value::string("/dev/xvda"))];
        attrs.extend(fields.iter().cloned());
        Value::object(attrs)
    }

    /// The summaries of every diagnostic a configuration with these disks and settings gets.
    fn errors(disks: Vec<Value>, top: &[(&str, Value)]) -> Vec<String> {
        let mut attrs = vec![(BLOCK_DEVICE_MAPPING, Value::set(disks))];
        attrs.extend(top.iter().cloned());
        let mut d = Diagnostics::new();
        config(&Value::object(attrs), &mut d);
        d.iter()
            .map(|e| format!("{}: {}", e.summary, e.detail))
            .collect()
    }

    #[test]
    fn volumes_ebs_would_refuse_are_errors_that_name_the_device() {
        let io_without_iops = errors(
            vec![disk(&[(device::VOLUME_TYPE, Value::string("io2"))])],
            &[],
        );
        assert_eq!(io_without_iops.len(), 1, "{io_without_iops:?}");
        assert!(io_without_iops[0].starts_with("IOPS required: /dev/xvda:"));
        let gp2_iops = errors(
            vec![disk(&[
                (device::VOLUME_TYPE, Value::string("gp2")),
                (device::IOPS, int(3000)),
            ])],
            &[],
        );
        assert!(gp2_iops[0].starts_with("IOPS not accepted"), "{gp2_iops:?}");
        let ratio = errors(
            vec![disk(&[
                (device::VOLUME_TYPE, Value::string("io1")),
                (device::VOLUME_SIZE, int(10)),
                (device::IOPS, int(3000)),
            ])],
            &[],
        );
        assert!(ratio[0].contains("at most 50 IOPS per GiB"), "{ratio:?}");
        let throughput = errors(vec![disk(&[(device::THROUGHPUT, int(1000))])], &[]);
        assert!(
            throughput[0].contains("at most 0.25 MiB/s per IOPS (750)"),
            "{throughput:?}"
        );
        let kind = errors(
            vec![disk(&[(device::VOLUME_TYPE, Value::string("gp4"))])],
            &[],
        );
        assert!(kind[0].starts_with("Invalid volume type"), "{kind:?}");
        let key = errors(
            vec![disk(&[
                (device::ENCRYPTED, Value::Bool(false)),
                (device::KMS_KEY_ID, Value::string("alias/ebs")),
            ])],
            &[],
        );
        assert!(
            key[0].starts_with("Key for an unencrypted volume"),
            "{key:?}"
        );
        let twice = errors(
            vec![disk(&[]), disk(&[(device::VOLUME_SIZE, int(20))])],
            &[],
        );
        assert!(twice[0].starts_with("Duplicate device"), "{twice:?}");
    }

    #[test]
    fn valid_volumes_pass() {
        let fine = errors(
            vec![
                disk(&[
                    (device::VOLUME_SIZE, int(8)),
                    (device::IOPS, int(3000)),
                    (device::THROUGHPUT, int(750)),
                ]),
                Value::object([
                    (device::DEVICE_NAME, Value::string("/dev/sdf")),
                    (device::VOLUME_TYPE, Value::string("io2")),
                    (device::VOLUME_SIZE, int(100)),
                    (device::IOPS, int(64000)),
                ]),
            ],
            &[],
        );
        assert!(fine.is_empty(), "{fine:?}");
    }

    #[test]
    fn a_mixed_policy_auto_scaling_would_refuse_is_an_error_at_the_override() {
        let override_block = |kind: &str, weight: i64| {
            Value::object([
                (overrides::INSTANCE_TYPE, Value::string(kind)),
                (overrides::WEIGHTED_CAPACITY, int(weight)),
            ])
        };
        let mixed_block = Value::object([
            (
                mixed::OVERRIDE,
                Value::list(vec![
                    override_block("m6i.large", 2),
                    override_block("m6i.large", 1000),
                ]),
            ),
            (mixed::ON_DEMAND_BASE_CAPACITY, int(0)),
            (mixed::ON_DEMAND_PERCENTAGE_ABOVE_BASE_CAPACITY, int(101)),
            (mixed::SPOT_ALLOCATION_STRATEGY, Value::string("cheapest")),
            (
                mixed::ON_DEMAND_ALLOCATION_STRATEGY,
                Value::string("prioritized"),
            ),
        ]);
        let mut d = Diagnostics::new();
        config(&Value::object([(MIXED_INSTANCES, mixed_block)]), &mut d);
        let found: Vec<String> = d
            .iter()
            .map(|e| format!("{} at {:?}", e.summary, e.path))
            .collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("Duplicate instance type"), "{found:?}");
        assert!(
            found[1].contains("override") && found[1].contains("weighted_capacity"),
            "{found:?}"
        );
    }

    #[test]
    fn metadata_options_and_cpu_credits_outside_what_ec2_takes_are_errors() {
        let metadata = Value::object([
            (metadata::HTTP_TOKENS, Value::string("sometimes")),
            (metadata::HTTP_PUT_RESPONSE_HOP_LIMIT, int(65)),
            (metadata::INSTANCE_METADATA_TAGS, Value::string("disabled")),
        ]);
        let found = errors(Vec::new(), &[(METADATA_OPTIONS, metadata)]);
        assert_eq!(found.len(), 2, "{found:?}");
        let credits = errors(
            Vec::new(),
            &[
                (CREDIT_SPECIFICATION, Value::string("unlimited")),
                (INSTANCE_TYPE, Value::string("m5.large")),
            ],
        );
        assert!(
            credits[0].contains("m5.large is not a burstable type"),
            "{credits:?}"
        );
        let burstable = errors(
            Vec::new(),
            &[
                (CREDIT_SPECIFICATION, Value::string("unlimited")),
                (INSTANCE_TYPE, Value::string("t3.micro")),
            ],
        );
        assert!(burstable.is_empty(), "{burstable:?}");
    }
}
