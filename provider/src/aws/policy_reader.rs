//! Scaling policy reads for refreshes: one listing of the region's target-tracking policies per
//! plan (100 per call, at most [`MAX_PAGES`] calls), shared by every group that declares
//! policies, instead of a DescribePolicies call per group.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_autoscaling::types::ScalingPolicy;

use super::error::aws_err;
use super::group_reader::{SNAPSHOT_TTL, WriteEpoch};
use super::listing::Listing;

/// Policies per listing call: the API's maximum `MaxRecords`.
const MAX_RECORDS: i32 = 100;
/// Listing calls per snapshot at most.
const MAX_PAGES: usize = 10;

#[derive(Debug, Clone)]
pub struct PolicyReader {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: aws_sdk_autoscaling::Client,
    listing: Listing<ScalingPolicy>,
}

impl PolicyReader {
    /// `writes` must be the epoch whose interceptor is installed on the clients that change
    /// policies.
    pub fn new(client: aws_sdk_autoscaling::Client, writes: WriteEpoch) -> Self {
        Self::with_ttl(client, writes, SNAPSHOT_TTL)
    }

    /// [`PolicyReader::new`] with another snapshot lifetime (`Duration::ZERO`: never answers).
    pub fn with_ttl(
        client: aws_sdk_autoscaling::Client,
        writes: WriteEpoch,
        ttl: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                listing: Listing::new(writes, ttl),
            }),
        }
    }

    /// The target-tracking policies of `group`, from a current and complete listing (taken
    /// now if needed); `None` when no listing can vouch for them.
    pub async fn of_group(&self, group: &str) -> Option<Vec<ScalingPolicy>> {
        let all = self.inner.listing.get(|| self.inner.take()).await?;
        Some(
            all.iter()
                .filter(|p| p.auto_scaling_group_name() == Some(group))
                .cloned()
                .collect(),
        )
    }
}

impl Inner {
    async fn take(&self) -> Option<Vec<ScalingPolicy>> {
        let mut policies = Vec::new();
        let mut pages = self
            .client
            .describe_policies()
            .policy_types("TargetTrackingScaling")
            .max_records(MAX_RECORDS)
            .into_paginator()
            .send();
        let mut listed = 0;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    listed += 1;
                    policies.extend(page.scaling_policies().iter().cloned());
                    if listed == MAX_PAGES && page.next_token().is_some() {
                        return None;
                    }
                }
                Err(e) => {
                    let e = aws_err("DescribePolicies")(e);
                    tracing::debug!(error = %e, "listing scaling policies failed; reading directly");
                    return None;
                }
            }
        }
        tracing::debug!(
            policies = policies.len(),
            calls = listed,
            "snapshot of the scaling policies"
        );
        Some(policies)
    }
}
