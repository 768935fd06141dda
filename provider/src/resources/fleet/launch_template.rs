//! A generation's launch template: everything baked into its instances, as one template
//! version that never changes.

use aws_sdk_ec2::types::builders::RequestLaunchTemplateDataBuilder;
use aws_sdk_ec2::types::{
    CreditSpecificationRequest, InstanceType, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateInstanceMetadataTagsState,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatesMonitoringRequest,
    RequestLaunchTemplateData, ResourceType, ResponseLaunchTemplateData, Tag, TagSpecification,
    VolumeType,
};

use super::launch_spec::{BlockDevice, LaunchOptions, MetadataOptions};
use super::spec::{FleetSpec, TAG_FINGERPRINT, TAG_FLEET, TAG_GENERATION};
use super::state::BlockDeviceBlock;
use crate::aws::error::aws_err;
use crate::aws::{AwsClients, AwsError};

/// The template version every generation's group launches from. A numbered version:
/// `$Latest` would let a later template version change running fleets behind Terraform's
/// back.
pub const GENERATION_TEMPLATE_VERSION: &str = "1";

/// The launch template data of `spec`: image, type, network, user data, instance profile,
/// and the launch options.
fn template_data(spec: &FleetSpec) -> RequestLaunchTemplateData {
    let launch = &spec.launch;
    let mut data = RequestLaunchTemplateData::builder()
        .image_id(&spec.image_id)
        .instance_type(InstanceType::from(spec.instance_type.as_str()))
        .set_block_device_mappings(
            (!launch.block_devices.is_empty())
                .then(|| launch.block_devices.iter().map(block_device).collect()),
        )
        .metadata_options(metadata_options(&launch.metadata));
    let security_groups =
        (!spec.security_group_ids.is_empty()).then(|| spec.security_group_ids.clone());
    data = match launch.associate_public_ip_address {
        // Public addressing is a property of the network interface, and a template that
        // describes the interface must put the security groups on it too (EC2 refuses both
        // instance-level groups and an interface in one request). The subnet still comes
        // from the group.
        Some(public) => data.network_interfaces(
            LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                .device_index(0)
                .associate_public_ip_address(public)
                .delete_on_termination(true)
                .set_groups(security_groups)
                .build(),
        ),
        None => data.set_security_group_ids(security_groups),
    };
    if let Some(user_data) = &spec.user_data {
        data = data.user_data(aws_smithy_types::base64::encode(user_data));
    }
    if let Some(profile) = &spec.iam_instance_profile {
        let p = LaunchTemplateIamInstanceProfileSpecificationRequest::builder();
        let p = if profile.starts_with("arn:") {
            p.arn(profile)
        } else {
            p.name(profile)
        };
        data = data.iam_instance_profile(p.build());
    }
    optional_settings(data, launch).build()
}

/// Monitoring, EBS optimisation and CPU credits, each only when the configuration sets it.
fn optional_settings(
    data: RequestLaunchTemplateDataBuilder,
    launch: &LaunchOptions,
) -> RequestLaunchTemplateDataBuilder {
    data.set_monitoring(launch.monitoring.map(|enabled| {
        LaunchTemplatesMonitoringRequest::builder()
            .enabled(enabled)
            .build()
    }))
    .set_ebs_optimized(launch.ebs_optimized)
    .set_credit_specification(launch.credit_specification.as_ref().map(|credits| {
        CreditSpecificationRequest::builder()
            .cpu_credits(credits)
            .build()
    }))
}

fn block_device(device: &BlockDevice) -> LaunchTemplateBlockDeviceMappingRequest {
    let ebs = LaunchTemplateEbsBlockDeviceRequest::builder()
        .set_volume_size(device.volume_size)
        .volume_type(VolumeType::from(device.volume_type.as_str()))
        .set_iops(device.iops)
        .set_throughput(device.throughput)
        .encrypted(device.encrypted)
        .set_kms_key_id(device.kms_key_id.clone())
        .delete_on_termination(device.delete_on_termination)
        .build();
    LaunchTemplateBlockDeviceMappingRequest::builder()
        .device_name(&device.device_name)
        .ebs(ebs)
        .build()
}

fn metadata_options(options: &MetadataOptions) -> LaunchTemplateInstanceMetadataOptionsRequest {
    LaunchTemplateInstanceMetadataOptionsRequest::builder()
        .http_tokens(LaunchTemplateHttpTokensState::from(
            options.http_tokens.as_str(),
        ))
        .http_put_response_hop_limit(options.hop_limit)
        .instance_metadata_tags(LaunchTemplateInstanceMetadataTagsState::from(
            options.instance_metadata_tags.as_str(),
        ))
        .build()
}

/// Creates generation `generation`'s launch template named `name`, tagged with the fleet,
/// the generation and the fingerprint (so an interrupted create's template is found again).
/// Returns its ID.
pub async fn create_launch_template(
    clients: &AwsClients,
    spec: &FleetSpec,
    name: &str,
    generation: i64,
    fingerprint: &str,
) -> Result<String, AwsError> {
    let tags = [
        (TAG_FLEET, spec.name.as_str()),
        (TAG_GENERATION, &generation.to_string()),
        (TAG_FINGERPRINT, fingerprint),
    ]
    .into_iter()
    .map(|(k, v)| Tag::builder().key(k).value(v).build())
    .collect();
    let out = clients
        .ec2
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(template_data(spec))
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::LaunchTemplate)
                .set_tags(Some(tags))
                .build(),
        )
        .send()
        .await
        .map_err(aws_err("CreateLaunchTemplate"))?;
    out.launch_template()
        .and_then(|lt| lt.launch_template_id())
        .map(str::to_owned)
        .ok_or_else(|| {
            AwsError::other(
                "CreateLaunchTemplate",
                "IncompleteResponse",
                "the response carried no launch template ID",
            )
        })
}

/// Puts the fleet's (new) name on a generation's launch template, for a rename.
pub async fn retag_fleet(
    clients: &AwsClients,
    template: &str,
    fleet: &str,
) -> Result<(), AwsError> {
    clients
        .ec2
        .create_tags()
        .resources(template)
        .tags(Tag::builder().key(TAG_FLEET).value(fleet).build())
        .send()
        .await
        .map_err(aws_err("CreateTags"))?;
    Ok(())
}

/// The launch options a template version holds, as state records them, plus what it holds
/// that `immutable_fleet` cannot express.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateOptions {
    pub block_device_mapping: Vec<BlockDeviceBlock>,
    /// As the template says; absent values read as AWS's defaults.
    pub metadata: MetadataOptions,
    pub associate_public_ip_address: Option<bool>,
    /// The security groups: the instance's, or its primary network interface's.
    pub security_group_ids: Vec<String>,
    pub monitoring: Option<bool>,
    pub ebs_optimized: Option<bool>,
    pub credit_specification: Option<String>,
    /// Settings an import cannot carry over, each said as what to change.
    pub unsupported: Vec<String>,
}

/// AWS's metadata settings for a template that names none: IMDSv1 still allowed.
fn aws_metadata_defaults() -> MetadataOptions {
    MetadataOptions {
        http_tokens: "optional".to_owned(),
        ..MetadataOptions::default()
    }
}

/// Reads the launch options of template data as AWS returns them.
pub fn read_options(data: &ResponseLaunchTemplateData) -> TemplateOptions {
    let mut options = TemplateOptions::default();
    for mapping in data.block_device_mappings() {
        let device = mapping.device_name().unwrap_or_default();
        let Some(ebs) = mapping.ebs() else {
            options.unsupported.push(format!(
                "maps {device} to an instance store volume or to no device; immutable_fleet \
                 describes EBS volumes only (remove the mapping from the template first)"
            ));
            continue;
        };
        options.block_device_mapping.push(BlockDeviceBlock {
            device_name: device.to_owned(),
            volume_size: ebs.volume_size().map(i64::from),
            volume_type: ebs.volume_type().map(|t| t.as_str().to_owned()),
            iops: ebs.iops().map(i64::from),
            throughput: ebs.throughput().map(i64::from),
            encrypted: ebs.encrypted(),
            kms_key_id: ebs.kms_key_id().map(str::to_owned),
            delete_on_termination: ebs.delete_on_termination(),
        });
        if ebs.snapshot_id().is_some() {
            options.unsupported.push(format!(
                "gives {device} a snapshot of its own; immutable_fleet takes volumes' data \
                 from the image (bake the snapshot into the image instead)"
            ));
        }
    }
    let defaults = aws_metadata_defaults();
    options.metadata = data
        .metadata_options()
        .map_or_else(aws_metadata_defaults, |m| MetadataOptions {
            http_tokens: m
                .http_tokens()
                .map_or(defaults.http_tokens.clone(), |t| t.as_str().to_owned()),
            hop_limit: m
                .http_put_response_hop_limit()
                .unwrap_or(defaults.hop_limit),
            instance_metadata_tags: m
                .instance_metadata_tags()
                .map_or(defaults.instance_metadata_tags.clone(), |t| {
                    t.as_str().to_owned()
                }),
        });
    options.security_group_ids = data.security_group_ids().to_vec();
    match data.network_interfaces() {
        [] => {}
        [primary] if primary.device_index().unwrap_or(0) == 0 => {
            options.associate_public_ip_address = primary.associate_public_ip_address();
            options
                .security_group_ids
                .extend(primary.groups().iter().cloned());
        }
        _ => options.unsupported.push(
            "describes network interfaces beyond the primary one; immutable_fleet sets the \
             security groups and public addressing of the primary interface only"
                .to_owned(),
        ),
    }
    options.security_group_ids.sort();
    options.security_group_ids.dedup();
    options.monitoring = data
        .monitoring()
        .and_then(aws_sdk_ec2::types::LaunchTemplatesMonitoring::enabled);
    options.ebs_optimized = data.ebs_optimized();
    options.credit_specification = data
        .credit_specification()
        .and_then(|c| c.cpu_credits())
        .map(str::to_owned);
    options
}
