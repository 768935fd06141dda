//! Group reads for refreshes: one snapshot of every tagged group per plan, batched direct reads
//! behind it.
//!
//! Terraform refreshes up to `-parallelism` (default 10) resources at once, each in its own
//! ReadResource RPC, and starts a fresh provider process for every walk. Coalescing only the
//! reads that happen to be in flight together gave 17–25 DescribeAutoScalingGroups calls for a
//! no-op plan of 100 fleets (bench/results/provider.md). Instead, the first read of a process
//! lists every group carrying the inventory tag key that the resource names (100 per call, the
//! API's page limit) and later reads are answered from that snapshot:
//!
//! - **Positive answers only.** A group found in the snapshot is returned. A group missing from
//!   it is read directly before being reported gone, so a group created by someone else after
//!   the snapshot, or one beyond the page cap, can never look deleted.
//! - **Once per group, short-lived.** Snapshots answer each group once per process, whichever
//!   snapshot holds it (Terraform reads a resource once per walk; a second read of the same
//!   group, as after an import or in a long-lived test server, goes to AWS), and only for
//!   [`SNAPSHOT_TTL`]: about one refresh walk, the same staleness as reads that are simply
//!   made a few seconds apart.
//! - **Writes invalidate it.** Every write this process sends through the SDK clients bumps a
//!   [`WriteEpoch`] (an SDK interceptor, before and after the call); a snapshot taken under
//!   an older epoch is never used, so a process never reads back its own stale state.
//! - **Bounded cost.** At most [`SNAPSHOT_MAX_PAGES`] pages (1000 groups); an account with more
//!   fleets falls back to direct reads for the rest. A failed listing is not retried for the
//!   snapshot's lifetime; reads then go direct, so errors surface exactly as before — unless the
//!   endpoint gave no answer at all (a timeout, a refused connection): then reads fail with that
//!   error at once instead of waiting as long again for a direct read.
//!
//! Direct reads arriving within [`WINDOW`] share one call (up to [`MAX_NAMES`] names).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::{AutoScalingGroup, Filter};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::AwsError;
use super::error::ErrorKind;
use super::error::aws_err;
use super::groups::is_live;

/// How long the first direct read of a batch waits for company.
const WINDOW: Duration = Duration::from_millis(20);
/// Names per direct call (the API's limit for `AutoScalingGroupNames`).
const MAX_NAMES: usize = 50;
/// How long a snapshot answers reads.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(30);
/// Groups per listing call: the API's maximum `MaxRecords`.
const SNAPSHOT_PAGE_SIZE: i32 = 100;
/// Listing calls per snapshot at most.
pub const SNAPSHOT_MAX_PAGES: usize = 10;

type Reply = oneshot::Sender<Result<Option<AutoScalingGroup>, AwsError>>;

/// Counts the writes this process makes, so cached reads older than a write are not used.
///
/// Install it on every SDK client ([`WriteEpoch::interceptor`]); an operation is a write
/// unless its name starts with `Describe`, `Get` or `List`.
#[derive(Debug, Clone, Default)]
pub struct WriteEpoch(Arc<AtomicU64>);

impl WriteEpoch {
    /// The current epoch; it changes whenever a write starts or ends.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Marks that a write happened.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// An SDK interceptor that bumps this epoch around every write.
    pub fn interceptor(&self) -> WriteInterceptor {
        WriteInterceptor(self.clone())
    }
}

/// The SDK side of [`WriteEpoch`].
#[derive(Debug, Clone)]
pub struct WriteInterceptor(WriteEpoch);

impl WriteInterceptor {
    fn bump_if_write(&self, cfg: &ConfigBag) {
        // Without operation metadata, assume a write: a needless re-read beats a stale one.
        let read_only = cfg.load::<Metadata>().is_some_and(|m| {
            let name = m.name();
            name.starts_with("Describe") || name.starts_with("Get") || name.starts_with("List")
        });
        if !read_only {
            self.0.bump();
        }
    }
}

impl Intercept for WriteInterceptor {
    fn name(&self) -> &'static str {
        "WriteEpoch"
    }

    // Not `read_before_execution`: for client-level interceptors it runs before the operation's
    // configuration (and so its name) is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump_if_write(cfg);
        Ok(())
    }

    // Again after the write: a listing that overlapped it may hold the state before it.
    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump_if_write(cfg);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct GroupReader {
    requests: mpsc::UnboundedSender<(String, Reply)>,
    snapshot: Arc<Snapshot>,
}

#[derive(Debug)]
struct Snapshot {
    client: aws_sdk_autoscaling::Client,
    /// The tag key the listing filters on and indexes by.
    tag_key: &'static str,
    writes: WriteEpoch,
    ttl: Duration,
    /// Held while a listing runs, so concurrent first reads wait for one listing.
    taken: Mutex<Option<Taken>>,
}

/// What a snapshot says about one group.
enum Lookup {
    Found(Box<AutoScalingGroup>),
    /// The snapshot cannot vouch either way: read the group directly.
    Unknown,
    /// The listing got no answer from the endpoint.
    Unreachable(AwsError),
}

#[derive(Debug)]
struct Taken {
    /// The write epoch when the listing started.
    epoch: u64,
    at: Instant,
    /// Live groups by name not yet answered; empty after a failed listing.
    groups: HashMap<String, AutoScalingGroup>,
    /// Groups this process has had answered from a snapshot (this one or an earlier one).
    answered: HashSet<String>,
    /// Why the listing got no answer at all, if it did not (timeouts, refused connections).
    unreachable: Option<AwsError>,
    /// Every live group listed, by the value of its inventory tag; `None` when the
    /// listing failed or stopped at its page cap, so it cannot vouch for what is absent.
    by_tag: Option<HashMap<String, Vec<AutoScalingGroup>>>,
}

impl GroupReader {
    /// Starts the batching task on the current tokio runtime. `writes` must be the epoch whose
    /// interceptor is installed on the clients that change groups.
    pub fn spawn(
        client: aws_sdk_autoscaling::Client,
        tag_key: &'static str,
        writes: WriteEpoch,
    ) -> Self {
        Self::spawn_with_ttl(client, tag_key, writes, SNAPSHOT_TTL)
    }

    /// [`GroupReader::spawn`] with another snapshot lifetime (`Duration::ZERO`: no snapshot,
    /// every read is direct).
    pub fn spawn_with_ttl(
        client: aws_sdk_autoscaling::Client,
        tag_key: &'static str,
        writes: WriteEpoch,
        ttl: Duration,
    ) -> Self {
        let (requests, receiver) = mpsc::unbounded_channel();
        tokio::spawn(run(client.clone(), receiver));
        Self {
            requests,
            snapshot: Arc::new(Snapshot {
                client,
                tag_key,
                writes,
                ttl,
                taken: Mutex::new(None),
            }),
        }
    }

    /// The named group, unless it is gone or being deleted.
    pub async fn describe(&self, name: &str) -> Result<Option<AutoScalingGroup>, AwsError> {
        match self.snapshot.lookup(name).await {
            Lookup::Found(group) => Ok(Some(*group)),
            // A direct read would wait as long again for the same silent endpoint.
            Lookup::Unreachable(e) => Err(e),
            Lookup::Unknown => self.describe_directly(name).await,
        }
    }

    /// The named group, read by name (batched with other direct reads), never from a snapshot.
    pub async fn describe_directly(
        &self,
        name: &str,
    ) -> Result<Option<AutoScalingGroup>, AwsError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || {
            AwsError::other(
                "DescribeAutoScalingGroups",
                "ReaderStopped",
                "the batching reader is no longer running",
            )
        };
        self.requests
            .send((name.to_owned(), reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Every live group whose inventory tag is `value`, from the current snapshot when
    /// it is complete; `None` when there is none (this never takes one) or it cannot vouch for
    /// the answer, and the caller must read directly.
    pub async fn tagged(&self, value: &str) -> Option<Vec<AutoScalingGroup>> {
        // Never a fresh listing here: it would hold again, unanswered, the group the caller
        // has just read, and the next read of that group would get this older copy.
        let taken = self.snapshot.current(false).await?;
        let taken = taken.as_ref()?;
        let by_tag = taken.by_tag.as_ref()?;
        Some(by_tag.get(value).cloned().unwrap_or_default())
    }

    /// Forgets the snapshot: the next read lists the groups again.
    pub fn invalidate(&self) {
        self.snapshot.writes.bump();
    }
}

impl Snapshot {
    /// The group from a current snapshot (taking one if there is none), or `None` when the
    /// snapshot cannot vouch for it.
    async fn lookup(&self, name: &str) -> Lookup {
        let Some(mut taken) = self.current(true).await else {
            return Lookup::Unknown;
        };
        let Some(taken) = taken.as_mut() else {
            return Lookup::Unknown;
        };
        if let Some(e) = &taken.unreachable {
            return Lookup::Unreachable(e.clone());
        }
        // Each group is answered from a snapshot once in a process, whichever snapshot holds
        // it: Terraform reads a resource once per walk, so a second read of the same group
        // wants what AWS says now, not a listing that may predate a change made since.
        if taken.answered.contains(name) {
            return Lookup::Unknown;
        }
        match taken.groups.remove(name) {
            Some(group) => {
                taken.answered.insert(name.to_owned());
                Lookup::Found(Box::new(group))
            }
            None => Lookup::Unknown,
        }
    }

    /// The current snapshot, taken now if there is none and `take` allows; `None` when
    /// snapshots are off or a write since the listing started (even one still running) voids
    /// it.
    async fn current(&self, take: bool) -> Option<tokio::sync::MutexGuard<'_, Option<Taken>>> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut taken = self.taken.lock().await;
        let epoch = self.writes.current();
        let current = taken
            .as_ref()
            .is_some_and(|t| t.epoch == epoch && t.at.elapsed() < self.ttl);
        if !current {
            if !take {
                return None;
            }
            let answered = taken.take().map(|t| t.answered).unwrap_or_default();
            let mut fresh = self.take(epoch).await;
            fresh.answered = answered;
            *taken = Some(fresh);
        }
        if taken.as_ref()?.epoch != self.writes.current() {
            return None;
        }
        Some(taken)
    }

    async fn take(&self, epoch: u64) -> Taken {
        let at = Instant::now();
        let mut groups = HashMap::new();
        let mut pages = self
            .client
            .describe_auto_scaling_groups()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(self.tag_key)
                    .build(),
            )
            .max_records(SNAPSHOT_PAGE_SIZE)
            .into_paginator()
            .send();
        let mut listed = 0;
        let mut by_tag: Option<HashMap<String, Vec<AutoScalingGroup>>> = Some(HashMap::new());
        let mut unreachable = None;
        while let Some(page) = pages.next().await {
            match page {
                Ok(page) => {
                    listed += 1;
                    for group in page.auto_scaling_groups() {
                        if let Some(name) = group.auto_scaling_group_name()
                            && is_live(group)
                        {
                            groups.insert(name.to_owned(), group.clone());
                            if let (Some(index), Some(value)) =
                                (by_tag.as_mut(), tag_value(group, self.tag_key))
                            {
                                index
                                    .entry(value.to_owned())
                                    .or_default()
                                    .push(group.clone());
                            }
                        }
                    }
                    if listed == SNAPSHOT_MAX_PAGES && page.next_token().is_some() {
                        by_tag = None;
                        tracing::debug!(
                            groups = groups.len(),
                            "snapshot stops at its page cap; other groups are read directly"
                        );
                        break;
                    }
                }
                Err(e) => {
                    let e = aws_err("DescribeAutoScalingGroups")(e);
                    tracing::debug!(error = %e, "listing tagged groups failed; reading directly");
                    groups.clear();
                    by_tag = None;
                    unreachable = (e.kind() == ErrorKind::Unreachable).then_some(e);
                    break;
                }
            }
        }
        tracing::debug!(
            groups = groups.len(),
            calls = listed,
            "snapshot of the tagged groups"
        );
        Taken {
            epoch,
            at,
            groups,
            answered: HashSet::new(),
            unreachable,
            by_tag,
        }
    }
}

fn tag_value<'a>(group: &'a AutoScalingGroup, key: &str) -> Option<&'a str> {
    group
        .tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
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
                .filter(|g| is_live(g))
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
