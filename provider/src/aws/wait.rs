//! Waiting for AWS to reach a state: polls with backoff, bounded by a deadline, abandoned on
//! Stop. Shared by the health gate (which decides what to wait for) and the deletes.

use std::future::Future;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::AwsError;

/// Exponential backoff with jitter for polls: 0.5 s doubling up to 10 s, ±20 %.
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(500);
    const MAX: Duration = Duration::from_secs(10);

    pub fn new() -> Self {
        Self { next: Self::FIRST }
    }

    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        let jitter = rand::rng().random_range(0.8..1.2);
        base.mul_f64(jitter)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a wait ended without its condition becoming true.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("gave up waiting for {subject}: {what} after {}s", waited.as_secs())]
    Timeout {
        subject: String,
        what: String,
        waited: Duration,
    },
    #[error("interrupted while waiting for {subject}: {what}")]
    Stopped { subject: String, what: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

/// Polls `done` with backoff until it is true, the deadline passes, or Stop is requested.
/// `subject` and `what` name the wait in progress logs and errors ("web-g3", "instances to
/// terminate").
pub async fn wait_until<F, Fut>(
    deadline: Instant,
    stop: &CancellationToken,
    subject: &str,
    what: &str,
    mut done: F,
) -> Result<(), WaitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, AwsError>>,
{
    let mut backoff = Backoff::new();
    let started = Instant::now();
    let stopped = || WaitError::Stopped {
        subject: subject.to_owned(),
        what: what.to_owned(),
    };
    loop {
        // Stop abandons a poll in flight too, not only the sleep between polls: a call to an
        // endpoint that does not answer must not hold Ctrl-C up until its timeout.
        let polled = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(stopped()),
            polled = done() => polled,
        };
        if polled? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(WaitError::Timeout {
                subject: subject.to_owned(),
                what: what.to_owned(),
                waited: started.elapsed(),
            });
        }
        tracing::info!(
            "{subject}: waiting for {what} ({}s)",
            started.elapsed().as_secs()
        );
        tokio::select! {
            () = stop.cancelled() => return Err(stopped()),
            () = tokio::time::sleep(backoff.next_delay()) => {}
        }
    }
}
