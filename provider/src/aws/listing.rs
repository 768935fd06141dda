//! A listing taken once and shared by the reads of one plan: answered while it is younger
//! than its lifetime and older than no write of this process (the shared [`WriteEpoch`]),
//! and only when complete (a failed or capped listing answers nothing, so callers read
//! directly). [`super::TemplateReader`] and [`super::PolicyReader`] are built on it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::group_reader::WriteEpoch;

#[derive(Debug)]
pub struct Listing<T> {
    writes: WriteEpoch,
    ttl: Duration,
    taken: Mutex<Option<Taken<T>>>,
}

#[derive(Debug)]
struct Taken<T> {
    epoch: u64,
    at: Instant,
    /// `None` when the listing failed or was cut off.
    items: Option<Arc<Vec<T>>>,
}

impl<T> Listing<T> {
    /// `ttl` zero: never answers.
    pub fn new(writes: WriteEpoch, ttl: Duration) -> Self {
        Self {
            writes,
            ttl,
            taken: Mutex::new(None),
        }
    }

    /// The current listing, taken with `take` if there is none; `None` when no listing can
    /// vouch for what exists. `take` returns `None` for a failed or incomplete listing.
    pub async fn get<F, Fut>(&self, take: F) -> Option<Arc<Vec<T>>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Option<Vec<T>>>,
    {
        if self.ttl.is_zero() {
            return None;
        }
        let mut taken = self.taken.lock().await;
        let epoch = self.writes.current();
        let current = taken
            .as_ref()
            .is_some_and(|t| t.epoch == epoch && t.at.elapsed() < self.ttl);
        if !current {
            let at = Instant::now();
            let items = take().await.map(Arc::new);
            *taken = Some(Taken { epoch, at, items });
        }
        let taken = taken.as_ref()?;
        if taken.epoch != self.writes.current() {
            return None;
        }
        taken.items.clone()
    }
}
