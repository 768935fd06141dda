//! The launch settings beyond image, type and network, with every default resolved: what
//! `launch_template.rs` writes into a generation's template and what the fingerprint covers.

use super::state::{
    BlockDeviceBlock, FleetState, MetadataOptionsBlock, MixedInstancesBlock, OverrideBlock,
};

/// Volume type of a `block_device_mapping` that does not name one.
pub const DEFAULT_VOLUME_TYPE: &str = "gp3";
/// IMDSv2 unless the configuration opts out.
pub const DEFAULT_HTTP_TOKENS: &str = "required";
pub const DEFAULT_HOP_LIMIT: i32 = 1;
pub const DEFAULT_METADATA_TAGS: &str = "disabled";

/// An EBS volume of every instance.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BlockDevice {
    pub device_name: String,
    pub volume_size: Option<i32>,
    pub volume_type: String,
    pub iops: Option<i32>,
    pub throughput: Option<i32>,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    pub delete_on_termination: bool,
}

/// How instances reach the instance metadata service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataOptions {
    pub http_tokens: String,
    pub hop_limit: i32,
    pub instance_metadata_tags: String,
}

impl Default for MetadataOptions {
    fn default() -> Self {
        Self {
            http_tokens: DEFAULT_HTTP_TOKENS.to_owned(),
            hop_limit: DEFAULT_HOP_LIMIT,
            instance_metadata_tags: DEFAULT_METADATA_TAGS.to_owned(),
        }
    }
}

/// Everything else a generation's launch template holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchOptions {
    /// Sorted by device name.
    pub block_devices: Vec<BlockDevice>,
    pub metadata: MetadataOptions,
    /// `None`: the subnet's setting.
    pub associate_public_ip_address: Option<bool>,
    pub monitoring: Option<bool>,
    pub ebs_optimized: Option<bool>,
    pub credit_specification: Option<String>,
    /// Several instance types and a Spot/On-Demand mix, instead of `instance_type` alone.
    pub mixed: Option<MixedInstances>,
}

/// A mixed instances policy, defaults resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixedInstances {
    /// Instance type and weight, in priority order.
    pub overrides: Vec<(String, Option<i32>)>,
    pub on_demand_base_capacity: i32,
    pub on_demand_percentage_above_base_capacity: i32,
    pub spot_allocation_strategy: String,
    pub on_demand_allocation_strategy: String,
}

impl MixedInstances {
    pub fn from_block(block: &MixedInstancesBlock) -> Self {
        Self {
            overrides: block
                .overrides
                .iter()
                .map(|o| (o.instance_type.clone(), small(o.weighted_capacity)))
                .collect(),
            on_demand_base_capacity: small(block.on_demand_base_capacity).unwrap_or(0),
            on_demand_percentage_above_base_capacity: small(
                block.on_demand_percentage_above_base_capacity,
            )
            .unwrap_or(100),
            spot_allocation_strategy: block
                .spot_allocation_strategy
                .clone()
                .unwrap_or_else(|| "price-capacity-optimized".to_owned()),
            on_demand_allocation_strategy: block
                .on_demand_allocation_strategy
                .clone()
                .unwrap_or_else(|| "prioritized".to_owned()),
        }
    }

    /// The block as state records it.
    pub fn to_block(&self) -> MixedInstancesBlock {
        MixedInstancesBlock {
            overrides: self
                .overrides
                .iter()
                .map(|(instance_type, weight)| OverrideBlock {
                    instance_type: instance_type.clone(),
                    weighted_capacity: weight.map(i64::from),
                })
                .collect(),
            on_demand_base_capacity: Some(i64::from(self.on_demand_base_capacity)),
            on_demand_percentage_above_base_capacity: Some(i64::from(
                self.on_demand_percentage_above_base_capacity,
            )),
            spot_allocation_strategy: Some(self.spot_allocation_strategy.clone()),
            on_demand_allocation_strategy: Some(self.on_demand_allocation_strategy.clone()),
        }
    }
}

fn small(n: Option<i64>) -> Option<i32> {
    // Validation bounds every one of these far below i32::MAX.
    n.map(|n| i32::try_from(n).unwrap_or(i32::MAX))
}

impl BlockDevice {
    pub fn from_block(block: &BlockDeviceBlock) -> Self {
        Self {
            device_name: block.device_name.clone(),
            volume_size: small(block.volume_size),
            volume_type: block
                .volume_type
                .clone()
                .unwrap_or_else(|| DEFAULT_VOLUME_TYPE.to_owned()),
            iops: small(block.iops),
            throughput: small(block.throughput),
            encrypted: block.encrypted.unwrap_or(true),
            kms_key_id: block.kms_key_id.clone(),
            delete_on_termination: block.delete_on_termination.unwrap_or(true),
        }
    }

    /// The block as state records it once applied: every computed attribute known.
    pub fn to_block(&self) -> BlockDeviceBlock {
        BlockDeviceBlock {
            device_name: self.device_name.clone(),
            volume_size: self.volume_size.map(i64::from),
            volume_type: Some(self.volume_type.clone()),
            iops: self.iops.map(i64::from),
            throughput: self.throughput.map(i64::from),
            encrypted: Some(self.encrypted),
            kms_key_id: self.kms_key_id.clone(),
            delete_on_termination: Some(self.delete_on_termination),
        }
    }
}

impl MetadataOptions {
    /// The settings of a `metadata_options` block; no block means the defaults.
    pub fn from_block(block: Option<&MetadataOptionsBlock>) -> Self {
        let defaults = Self::default();
        let Some(block) = block else {
            return defaults;
        };
        Self {
            http_tokens: block.http_tokens.clone().unwrap_or(defaults.http_tokens),
            hop_limit: small(block.http_put_response_hop_limit).unwrap_or(defaults.hop_limit),
            instance_metadata_tags: block
                .instance_metadata_tags
                .clone()
                .unwrap_or(defaults.instance_metadata_tags),
        }
    }

    /// The block that says these settings: `None` when they are the defaults, which is what
    /// an omitted block means.
    pub fn to_block(&self) -> Option<MetadataOptionsBlock> {
        (*self != Self::default()).then(|| MetadataOptionsBlock {
            http_tokens: Some(self.http_tokens.clone()),
            http_put_response_hop_limit: Some(i64::from(self.hop_limit)),
            instance_metadata_tags: Some(self.instance_metadata_tags.clone()),
        })
    }
}

impl LaunchOptions {
    pub fn from_state(state: &FleetState) -> Self {
        let mut block_devices: Vec<BlockDevice> = state
            .block_device_mapping
            .iter()
            .map(BlockDevice::from_block)
            .collect();
        block_devices.sort();
        Self {
            block_devices,
            metadata: MetadataOptions::from_block(state.metadata_options.as_ref()),
            associate_public_ip_address: state.associate_public_ip_address,
            monitoring: state.monitoring,
            ebs_optimized: state.ebs_optimized,
            credit_specification: state.credit_specification.clone(),
            mixed: state
                .mixed_instances
                .as_ref()
                .map(MixedInstances::from_block),
        }
    }

    /// The settings as fingerprint fields: label and value, in a fixed order.
    pub fn fingerprint_fields(&self) -> Vec<(&'static str, String)> {
        let flag = |b: Option<bool>| b.map_or_else(String::new, |b| b.to_string());
        let number = |n: Option<i32>| n.map_or_else(String::new, |n| n.to_string());
        let devices = self
            .block_devices
            .iter()
            .map(|d| {
                format!(
                    "{} {} {} {} {} {} {} {}",
                    d.device_name,
                    number(d.volume_size),
                    d.volume_type,
                    number(d.iops),
                    number(d.throughput),
                    d.encrypted,
                    d.kms_key_id.as_deref().unwrap_or_default(),
                    d.delete_on_termination
                )
            })
            .collect::<Vec<_>>()
            .join(";");
        vec![
            ("block_device_mapping", devices),
            (
                "metadata_options",
                format!(
                    "{} {} {}",
                    self.metadata.http_tokens,
                    self.metadata.hop_limit,
                    self.metadata.instance_metadata_tags
                ),
            ),
            (
                "associate_public_ip_address",
                flag(self.associate_public_ip_address),
            ),
            ("monitoring", flag(self.monitoring)),
            ("ebs_optimized", flag(self.ebs_optimized)),
            (
                "credit_specification",
                self.credit_specification.clone().unwrap_or_default(),
            ),
            (
                "mixed_instances",
                self.mixed.as_ref().map_or_else(String::new, |m| {
                    let types: Vec<String> = m
                        .overrides
                        .iter()
                        .map(|(t, w)| format!("{t}:{}", number(*w)))
                        .collect();
                    format!(
                        "{} {} {} {} {}",
                        types.join(","),
                        m.on_demand_base_capacity,
                        m.on_demand_percentage_above_base_capacity,
                        m.spot_allocation_strategy,
                        m.on_demand_allocation_strategy
                    )
                }),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unset_volume_is_gp3_encrypted_and_goes_with_its_instance() {
        let device = BlockDevice::from_block(&BlockDeviceBlock {
            device_name: "/dev/xvda".to_owned(),
            volume_size: Some(30),
            volume_type: None,
            iops: None,
            throughput: None,
            encrypted: None,
            kms_key_id: None,
            delete_on_termination: None,
        });
        assert_eq!(device.volume_type, "gp3");
        assert!(device.encrypted && device.delete_on_termination);
        let recorded = device.to_block();
        assert_eq!(recorded.volume_type.as_deref(), Some("gp3"));
        assert_eq!(
            (recorded.encrypted, recorded.delete_on_termination),
            (Some(true), Some(true))
        );
    }

    #[test]
    fn no_metadata_block_means_imdsv2_with_one_hop() {
        let options = MetadataOptions::from_block(None);
        assert_eq!(
            (options.http_tokens.as_str(), options.hop_limit),
            ("required", 1)
        );
        assert_eq!(options.to_block(), None);
        let opted_out = MetadataOptions {
            http_tokens: "optional".to_owned(),
            ..MetadataOptions::default()
        };
        assert_eq!(
            opted_out.to_block().and_then(|b| b.http_tokens).as_deref(),
            Some("optional")
        );
    }
}
