//! AWS clients, built once per provider configuration.

pub mod error;
pub mod group_reader;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_types::region::Region;

pub use error::AwsError;
pub use group_reader::{GroupReader, WriteEpoch};

/// Per-service endpoint overrides from the provider's `endpoints` block.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub ec2: Option<String>,
    pub autoscaling: Option<String>,
    pub elbv2: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// Falls back to the standard chain (`AWS_REGION`, profile) when unset.
    pub region: Option<String>,
    pub endpoints: Endpoints,
    /// Replaces the standard credential chain; set only by embedders such as tests, never
    /// from Terraform configuration (credentials do not belong in HCL).
    pub credentials: Option<aws_credential_types::Credentials>,
}

/// The clients every resource shares.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    /// Batched reads of single groups, for refreshes.
    pub groups: GroupReader,
    pub region: String,
}

impl AwsClients {
    /// Loads the standard AWS configuration (credential chain, `AWS_ENDPOINT_URL`, profile)
    /// and applies the provider's settings on top. Must run inside a tokio runtime.
    pub async fn load(settings: &ClientSettings) -> Result<Self, String> {
        // Adaptive retries: rate-limits itself under throttling instead of hammering the API.
        // The backoff cap also caps the rate limiter's delay, which at a provider's low
        // request rate would otherwise grow to ~20 s per throttled call.
        let retry = RetryConfig::adaptive()
            .with_max_attempts(8)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(3));
        let mut loader = aws_config::defaults(BehaviorVersion::v2026_01_12()).retry_config(retry);
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(credentials) = &settings.credentials {
            loader = loader.credentials_provider(credentials.clone());
        }
        let shared = loader.load().await;
        let region = shared.region().map(ToString::to_string).ok_or_else(|| {
            "No AWS region: set `region` in the provider block, or AWS_REGION in the \
                 environment."
                .to_owned()
        })?;

        // Every write through these clients voids the group reader's snapshot.
        let writes = WriteEpoch::default();
        let mut ec2 = aws_sdk_ec2::config::Builder::from(&shared).interceptor(writes.interceptor());
        if let Some(url) = &settings.endpoints.ec2 {
            ec2 = ec2.endpoint_url(url);
        }
        let mut autoscaling =
            aws_sdk_autoscaling::config::Builder::from(&shared).interceptor(writes.interceptor());
        if let Some(url) = &settings.endpoints.autoscaling {
            autoscaling = autoscaling.endpoint_url(url);
        }
        let mut elbv2 = aws_sdk_elasticloadbalancingv2::config::Builder::from(&shared)
            .interceptor(writes.interceptor());
        if let Some(url) = &settings.endpoints.elbv2 {
            elbv2 = elbv2.endpoint_url(url);
        }
        let autoscaling = aws_sdk_autoscaling::Client::from_conf(autoscaling.build());
        Ok(Self {
            ec2: aws_sdk_ec2::Client::from_conf(ec2.build()),
            groups: GroupReader::spawn(autoscaling.clone(), writes),
            autoscaling,
            elbv2: aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2.build()),
            region,
        })
    }
}
