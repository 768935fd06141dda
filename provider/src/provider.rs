//! The `immutable` provider: its configuration and its resources.

use std::sync::Arc;

use async_trait::async_trait;
use tfplugin_cty::Value;

use crate::aws::{AwsClients, ClientSettings, Endpoints, LoadError};
use crate::framework::value::ObjectExt;
use crate::framework::{
    Attribute, Block, Diagnostics, NestedBlock, Path, Provider, ProviderData, Resource, Schema,
};
use crate::resources::Configured;
use crate::resources::fleet::{self, Fleet};

#[derive(Default)]
pub struct ImmutableProvider {
    /// Overrides the standard credential chain (tests against a local emulator).
    credentials: Option<aws_credential_types::Credentials>,
}

impl ImmutableProvider {
    pub fn with_credentials(credentials: aws_credential_types::Credentials) -> Self {
        Self {
            credentials: Some(credentials),
        }
    }
}

fn known_string(v: &Value, name: &str) -> Option<String> {
    v.string(name).filter(|s| !s.is_empty()).map(str::to_owned)
}

#[async_trait]
impl Provider for ImmutableProvider {
    fn schema(&self) -> Schema {
        let endpoint = |name: &str, service: &str| {
            Attribute::string(name).optional().describe(&format!(
                "URL of the {service} API, e.g. a local emulator. Default: the standard endpoint \
                 resolution (including `AWS_ENDPOINT_URL`)."
            ))
        };
        let block = Block::new(
            "Manages immutable EC2 fleets. Credentials come from the standard AWS chain \
             (environment, shared config/credentials files, SSO, web identity, container or \
             instance roles).",
        )
        .attribute(Attribute::string("region").optional().describe(
            "AWS region, e.g. `us-east-1`. Default: `AWS_REGION` / the shared config profile.",
        ))
        .block(NestedBlock::single(
            "endpoints",
            Block::new("Per-service endpoint overrides.")
                .attribute(endpoint("ec2", "EC2"))
                .attribute(endpoint("autoscaling", "Auto Scaling"))
                .attribute(endpoint("elbv2", "Elastic Load Balancing v2"))
                .attribute(endpoint("cloudwatch", "CloudWatch")),
        ));
        Schema { version: 0, block }
    }

    fn validate(&self, config: &Value, diagnostics: &mut Diagnostics) {
        let endpoints = config.attr("endpoints");
        for service in ["ec2", "autoscaling", "elbv2", "cloudwatch"] {
            if let Some(url) = endpoints.string(service)
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                diagnostics.attribute_error(
                    Path::root().attr("endpoints").attr(service),
                    "Invalid endpoint URL",
                    format!("{url:?} must start with http:// or https://."),
                );
            }
        }
    }

    async fn configure(
        &self,
        config: &Value,
        diagnostics: &mut Diagnostics,
    ) -> Option<ProviderData> {
        let endpoints = config.attr("endpoints");
        let settings = ClientSettings {
            region: known_string(config, "region"),
            endpoints: Endpoints {
                ec2: known_string(endpoints, "ec2"),
                autoscaling: known_string(endpoints, "autoscaling"),
                elbv2: known_string(endpoints, "elbv2"),
                cloudwatch: known_string(endpoints, "cloudwatch"),
            },
            credentials: self.credentials.clone(),
            inventory_tag: fleet::TAG_FLEET,
        };
        match AwsClients::load(&settings).await {
            Ok(aws) => {
                tracing::info!(region = %aws.region, "configured AWS clients");
                Some(Arc::new(Configured {
                    aws,
                    claims: fleet::Claims::default(),
                }))
            }
            // Problems of the environment rather than of the provider block are said as such.
            Err(e @ LoadError::Profile(_)) => {
                diagnostics.error("AWS profile not found", e.to_string());
                None
            }
            Err(e @ LoadError::Timeouts(_)) => {
                diagnostics.error("Invalid AWS timeout setting", e.to_string());
                None
            }
            Err(e @ LoadError::NoRegion) => {
                diagnostics.attribute_error(
                    Path::root().attr("region"),
                    "Cannot configure AWS",
                    e.to_string(),
                );
                None
            }
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(Fleet)]
    }
}
