//! Coalesces concurrent single-group reads into batched DescribeAutoScalingGroups calls.
//!
//! Terraform refreshes up to `-parallelism` (default 10) resources at once, each in its own
//! ReadResource RPC. Reads that arrive within a short window share one call (up to 50
//! names), so refreshing 100 fleets costs about ten calls instead of a hundred — the
//! difference between a plan and a throttled plan in a large account.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_autoscaling::types::AutoScalingGroup;
use tokio::sync::{mpsc, oneshot};

use super::AwsError;
use super::error::aws_err;

/// How long the first read of a batch waits for company.
const WINDOW: Duration = Duration::from_millis(20);
/// Names per call (the API's limit for `AutoScalingGroupNames`).
const MAX_NAMES: usize = 50;

type Reply = oneshot::Sender<Result<Option<AutoScalingGroup>, AwsError>>;

#[derive(Debug, Clone)]
pub struct GroupReader {
    requests: mpsc::UnboundedSender<(String, Reply)>,
}

impl GroupReader {
    /// Starts the batching task on the current tokio runtime.
    pub fn spawn(client: aws_sdk_autoscaling::Client) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(client, receiver));
        Self { requests }
    }

    /// The named group, unless it is gone or being deleted.
    pub async fn describe(&self, name: &str) -> Result<Option<AutoScalingGroup>, AwsError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || AwsError {
            operation: "DescribeAutoScalingGroups",
            code: "ReaderStopped".into(),
            message: "the batching reader is no longer running".into(),
        };
        self.requests
            .send((name.to_owned(), reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(
    client: aws_sdk_autoscaling::Client,
    mut receiver: mpsc::UnboundedReceiver<(String, Reply)>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        let window = tokio::time::sleep(WINDOW);
        tokio::pin!(window);
        while batch.len() < MAX_NAMES {
            tokio::select! {
                next = receiver.recv() => match next {
                    Some(request) => batch.push(request),
                    None => break,
                },
                () = &mut window => break,
            }
        }
        let client = client.clone();
        // Answer this batch while the next one gathers.
        tokio::spawn(answer(client, batch));
    }
}

async fn answer(client: aws_sdk_autoscaling::Client, batch: Vec<(String, Reply)>) {
    let mut names: Vec<String> = batch.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    tracing::debug!(
        names = names.len(),
        "DescribeAutoScalingGroups for a batch of reads"
    );
    let result = client
        .describe_auto_scaling_groups()
        .set_auto_scaling_group_names(Some(names))
        .max_records(100)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws_err("DescribeAutoScalingGroups"));
    match result {
        Ok(groups) => {
            let by_name: HashMap<&str, &AutoScalingGroup> = groups
                .iter()
                .filter(|g| g.status().is_none_or(|s| !s.starts_with("Delete")))
                .filter_map(|g| Some((g.auto_scaling_group_name()?, g)))
                .collect();
            for (name, reply) in batch {
                let _ = reply.send(Ok(by_name.get(name.as_str()).map(|g| (*g).clone())));
            }
        }
        Err(e) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}
