//! Launch template reads for refreshes: one listing of every template carrying a tag key per
//! plan, the same way [`super::GroupReader`] lists groups.
//!
//! A refresh must notice a launch template deleted out of band (the group can no longer launch)
//! and templates left behind by interrupted rollouts, without a DescribeLaunchTemplates call per
//! fleet. The first question of a process lists every template tagged with the key (up to
//! [`MAX_RESULTS`] per call, [`MAX_PAGES`] calls); answers come from that listing while it is
//! current: younger than its TTL and older than no write of this process (the shared
//! [`WriteEpoch`]). Only a complete listing answers: one that failed or stopped at its page cap
//! returns `None`, and callers read directly.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_ec2::types::{Filter, LaunchTemplate};

use super::error::aws_err;
use super::group_reader::{SNAPSHOT_TTL, WriteEpoch};
use super::listing::Listing;

/// Templates per listing call: the API's maximum `MaxResults`.
const MAX_RESULTS: i32 = 200;
/// Listing calls per snapshot at most.
const MAX_PAGES: usize = 10;

#[derive(Debug, Clone)]
pub struct TemplateReader {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: aws_sdk_ec2::Client,
    tag_key: &'static str,
    listing: Listing<LaunchTemplate>,
}

impl TemplateReader {
    /// A reader of the templates tagged with `tag_key`; `writes` must be the epoch whose
    /// interceptor is installed on the clients that change templates.
    pub fn new(client: aws_sdk_ec2::Client, tag_key: &'static str, writes: WriteEpoch) -> Self {
        Self::with_ttl(client, tag_key, writes, SNAPSHOT_TTL)
    }

    /// [`TemplateReader::new`] with another snapshot lifetime (`Duration::ZERO`: never answers).
    pub fn with_ttl(
        client: aws_sdk_ec2::Client,
        tag_key: &'static str,
        writes: WriteEpoch,
        ttl: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                tag_key,
                listing: Listing::new(writes, ttl),
            }),
        }
    }

    /// Every template carrying the tag key, from a current and complete listing (taken now if
    /// needed); `None` when no listing can vouch for it.
    pub async fn tagged(&self) -> Option<Arc<Vec<LaunchTemplate>>> {
        self.inner.listing.get(|| self.inner.take()).await
    }
}

impl Inner {
    async fn take(&self) -> Option<Vec<LaunchTemplate>> {
        let mut templates = Vec::new();
        let mut pages = self
            .client
            .describe_launch_templates()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(self.tag_key)
                    .build(),
            )
            .max_results(MAX_RESULTS)
            .into_paginator()
            .send();
        let mut listed = 0;
        let mut complete = true;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    listed += 1;
                    templates.extend(page.launch_templates().iter().cloned());
                    if listed == MAX_PAGES && page.next_token().is_some() {
                        complete = false;
                        break;
                    }
                }
                Err(e) => {
                    let e = aws_err("DescribeLaunchTemplates")(e);
                    tracing::debug!(error = %e, "listing launch templates failed; reading directly");
                    complete = false;
                    break;
                }
            }
        }
        tracing::debug!(
            templates = templates.len(),
            calls = listed,
            complete,
            "snapshot of the tagged launch templates"
        );
        complete.then_some(templates)
    }
}
