//! A generation's launch template: everything baked into its instances, as one template
//! version that never changes.

use aws_sdk_ec2::types::{
    InstanceType, LaunchTemplateIamInstanceProfileSpecificationRequest, RequestLaunchTemplateData,
    ResourceType, Tag, TagSpecification,
};

use super::spec::{FleetSpec, TAG_FINGERPRINT, TAG_FLEET, TAG_GENERATION};
use crate::aws::error::aws_err;
use crate::aws::{AwsClients, AwsError};

/// The template version every generation's group launches from. A numbered version:
/// `$Latest` would let a later template version change running fleets behind Terraform's
/// back.
pub const GENERATION_TEMPLATE_VERSION: &str = "1";

/// The launch template data of `spec`: image, type, network, user data, instance profile.
fn template_data(spec: &FleetSpec) -> RequestLaunchTemplateData {
    let mut data = RequestLaunchTemplateData::builder()
        .image_id(&spec.image_id)
        .instance_type(InstanceType::from(spec.instance_type.as_str()));
    if !spec.security_group_ids.is_empty() {
        data = data.set_security_group_ids(Some(spec.security_group_ids.clone()));
    }
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
    data.build()
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
