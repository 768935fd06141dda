//! AWS clients, built once per provider configuration.

pub mod alarms;
pub mod error;
pub mod group_reader;
pub mod groups;
pub mod instances;
pub mod listing;
pub mod policy_reader;
pub mod template_reader;
pub mod templates;
pub mod tick_reader;
pub mod transport;
pub mod wait;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_types::region::Region;
use transport::TransportInterceptor;

pub use error::{AwsError, ErrorKind};
pub use group_reader::{GroupReader, WriteEpoch};
pub use policy_reader::PolicyReader;
pub use template_reader::TemplateReader;
pub use tick_reader::{TickClients, TickReader};
pub use transport::Timeouts;

/// Per-service endpoint overrides from the provider's `endpoints` block.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub ec2: Option<String>,
    pub autoscaling: Option<String>,
    pub elbv2: Option<String>,
    pub cloudwatch: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// Falls back to the standard chain (`AWS_REGION`, profile) when unset.
    pub region: Option<String>,
    pub endpoints: Endpoints,
    /// Replaces the standard credential chain; set only by embedders such as tests, never
    /// from Terraform configuration (credentials do not belong in HCL).
    pub credentials: Option<aws_credential_types::Credentials>,
    /// The tag key whose value the refresh snapshots ([`GroupReader`], [`TemplateReader`])
    /// index groups and templates by: the resource's own (the fleet's `immutable:fleet`).
    pub inventory_tag: &'static str,
}

/// Why the clients could not be set up: the environment's AWS settings, not an AWS answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// `AWS_PROFILE` names a profile the shared files do not have (or they cannot be read).
    #[error("{0}")]
    Profile(String),
    /// An `IMMUTABLE_AWS_TIMEOUT_SCALE` that is not a positive number.
    #[error("{0}")]
    Timeouts(String),
    #[error("No AWS region: set `region` in the provider block, or AWS_REGION in the environment.")]
    NoRegion,
}

/// The clients every resource shares.
#[derive(Debug, Clone)]
pub struct AwsClients {
    pub ec2: aws_sdk_ec2::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub elbv2: aws_sdk_elasticloadbalancingv2::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Batched reads of single groups, for refreshes.
    pub groups: GroupReader,
    /// One listing of the fleets' launch templates per plan, for refreshes.
    pub templates: TemplateReader,
    /// One listing of the region's target-tracking policies per plan, for refreshes.
    pub policies: PolicyReader,
    /// The health gates' reads, batched per tick across every gate of the process.
    pub ticks: TickReader,
    pub region: String,
}

impl AwsClients {
    /// Loads the standard AWS configuration (credential chain, `AWS_ENDPOINT_URL`, profile)
    /// and applies the provider's settings on top. Must run inside a tokio runtime.
    pub async fn load(settings: &ClientSettings) -> Result<Self, LoadError> {
        // Adaptive retries: rate-limits itself under throttling instead of hammering the API.
        // The backoff cap also caps the rate limiter's delay, which at a provider's low
        // request rate would otherwise grow to ~20 s per throttled call.
        let retry = RetryConfig::adaptive()
            .with_max_attempts(8)
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(3));
        // Every call is bounded (transport.rs says why these values); a call that outlives
        // them fails with an error naming the endpoint and what timed out.
        check_profile().await.map_err(LoadError::Profile)?;
        let timeouts = Timeouts::from_env().map_err(LoadError::Timeouts)?;
        let mut loader = aws_config::defaults(BehaviorVersion::v2026_01_12())
            .retry_config(retry)
            .timeout_config(timeouts.config());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(credentials) = &settings.credentials {
            loader = loader.credentials_provider(credentials.clone());
        }
        let shared = loader.load().await;
        let region = shared
            .region()
            .map(ToString::to_string)
            .ok_or(LoadError::NoRegion)?;

        // Every write through these clients voids the group reader's snapshot.
        let writes = WriteEpoch::default();
        let transport = TransportInterceptor::new(timeouts);
        let mut ec2 = aws_sdk_ec2::config::Builder::from(&shared)
            .interceptor(writes.interceptor())
            .interceptor(transport.clone());
        if let Some(url) = &settings.endpoints.ec2 {
            ec2 = ec2.endpoint_url(url);
        }
        let mut autoscaling = aws_sdk_autoscaling::config::Builder::from(&shared)
            .interceptor(writes.interceptor())
            .interceptor(transport.clone());
        if let Some(url) = &settings.endpoints.autoscaling {
            autoscaling = autoscaling.endpoint_url(url);
        }
        let mut elbv2 = aws_sdk_elasticloadbalancingv2::config::Builder::from(&shared)
            .interceptor(writes.interceptor())
            .interceptor(transport.clone());
        if let Some(url) = &settings.endpoints.elbv2 {
            elbv2 = elbv2.endpoint_url(url);
        }
        let mut cloudwatch = aws_sdk_cloudwatch::config::Builder::from(&shared)
            .interceptor(writes.interceptor())
            .interceptor(transport);
        if let Some(url) = &settings.endpoints.cloudwatch {
            cloudwatch = cloudwatch.endpoint_url(url);
        }
        let autoscaling = aws_sdk_autoscaling::Client::from_conf(autoscaling.build());
        let ec2 = aws_sdk_ec2::Client::from_conf(ec2.build());
        let elbv2 = aws_sdk_elasticloadbalancingv2::Client::from_conf(elbv2.build());
        let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(cloudwatch.build());
        Ok(Self {
            ticks: TickReader::spawn(TickClients {
                autoscaling: autoscaling.clone(),
                elbv2: elbv2.clone(),
                cloudwatch: cloudwatch.clone(),
            }),
            templates: TemplateReader::new(ec2.clone(), settings.inventory_tag, writes.clone()),
            ec2,
            policies: PolicyReader::new(autoscaling.clone(), writes.clone()),
            groups: GroupReader::spawn(autoscaling.clone(), settings.inventory_tag, writes),
            autoscaling,
            elbv2,
            cloudwatch,
            region,
        })
    }
}

/// A profile named by `AWS_PROFILE` must exist in the shared config or credentials file:
/// otherwise the SDK silently goes on without it (with other credentials, or with none and an
/// error that never names the profile).
pub async fn check_profile() -> Result<(), String> {
    let Some(name) = std::env::var("AWS_PROFILE")
        .ok()
        // "default" is what the SDK uses anyway when it is missing: nothing to lose.
        .filter(|p| !p.trim().is_empty() && p != "default")
    else {
        return Ok(());
    };
    let (fs, env) = (
        aws_types::os_shim_internal::Fs::real(),
        aws_types::os_shim_internal::Env::real(),
    );
    // The default file set: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE or ~/.aws.
    #[allow(
        deprecated,
        reason = "the alias is the only path to the type without aws-runtime"
    )]
    let files = aws_config::profile::profile_file::ProfileFiles::default();
    let profiles = aws_config::profile::load(&fs, &env, &files, None)
        .await
        .map_err(|e| {
            format!("AWS_PROFILE is {name:?}, but the shared AWS files cannot be read: {e}")
        })?;
    if profiles.get_profile(&name).is_some() {
        return Ok(());
    }
    let home =
        || std::env::var("HOME").map_or_else(|_| "~/.aws".to_owned(), |h| format!("{h}/.aws"));
    // Each file with what chose it: the variable, or the default location.
    let file = |variable: &str, default: &str| match std::env::var(variable) {
        Ok(path) => format!("{path} ({variable})"),
        Err(_) => format!("{}/{default} (the default; {variable} is not set)", home()),
    };
    let config = file("AWS_CONFIG_FILE", "config");
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let mut known: Vec<&str> = profiles.profiles().collect();
    known.sort_unstable();
    let known = if known.is_empty() {
        "they define no profile".to_owned()
    } else {
        format!("they define: {}", known.join(", "))
    };
    Err(format!(
        "AWS_PROFILE is {name:?}, but no profile of that name exists in {config} or \
         {credentials}; {known}. Fix the name, add the profile, or unset AWS_PROFILE."
    ))
}
