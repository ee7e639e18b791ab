//! The inbox's pool of [`Workers`]: the dispatcher that claims due
//! deliveries as workers come free, and each job's run (parse, handler,
//! lease renewals beside it, then its settlement, retried while the store
//! fails).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Handler, Inbox, Job};
use crate::contract::header;
use crate::delivery::Delivery;
use crate::observe::{self, JobObserved, JobOutcome, StoreOp};
use crate::once::{ClaimedJob, StoreError, StoreFuture};

impl Inbox {
    /// The dispatcher: claims as many due jobs as there are free workers,
    /// runs each on its own task, and waits for more.
    pub(super) async fn dispatch(
        &self,
        concurrency: usize,
        handler: Arc<dyn Handler>,
        mut stopped: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(concurrency));
        let mut running = JoinSet::new();
        let mut idle_for = self.inner.poll;
        // Dropping `Workers` leaves the pool running: a closed channel is
        // then no longer watched (it would wake the loop at once, forever).
        let mut watching = true;
        let mut gauges_read: Option<Instant> = None;
        loop {
            if *stopped.borrow() {
                break;
            }
            if observe::GAUGES && gauges_read.is_none_or(|read| read.elapsed() >= GAUGES_EVERY) {
                self.read_gauges().await;
                gauges_read = Some(Instant::now());
            }
            while running.try_join_next().is_some() {}
            let mut free = slots.available_permits();
            // Claims go out in batches: with jobs still running, wait a
            // little (at most 5 ms) for a quarter of the workers to be free,
            // rather than ask the store (a commit each) for one job at a
            // time.
            let batch = (concurrency / 4).max(1);
            if free > 0 && free < batch && !running.is_empty() {
                let wanted = u32::try_from(batch).unwrap_or(u32::MAX);
                let _ = tokio::time::timeout(Duration::from_millis(5), slots.acquire_many(wanted))
                    .await;
                free = slots.available_permits();
            }
            let claimed = if free == 0 {
                Ok(Vec::new())
            } else {
                let claiming = self.inner.store.claim_jobs(free, self.inner.lease);
                observe::store(StoreOp::ClaimJobs, claiming).await
            };
            let wait = match claimed {
                Ok(jobs) if !jobs.is_empty() => {
                    idle_for = self.inner.poll;
                    for job in jobs {
                        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                            // Never more jobs than permits; give it back.
                            let _ = self
                                .inner
                                .store
                                .abort(&job.delivery.key, job.lease.token)
                                .await;
                            continue;
                        };
                        let inbox = self.clone();
                        let handler = Arc::clone(&handler);
                        running.spawn(async move {
                            inbox.run_job(job, handler.as_ref()).await;
                            drop(permit);
                        });
                    }
                    None
                }
                Ok(_) => Some(self.inner.poll),
                Err(_) => {
                    // The store is down: back off, up to 5 s.
                    idle_for = (idle_for * 2).min(Duration::from_secs(5));
                    Some(idle_for)
                }
            };
            if let Some(wait) = wait {
                tokio::select! {
                    () = self.inner.accepted.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                    _ = slots.acquire(), if free == 0 => {}
                    changed = stopped.changed(), if watching => {
                        watching = changed.is_ok();
                    }
                }
            }
        }
        // Shutting down: the jobs in flight finish and settle.
        while running.join_next().await.is_some() {}
        if observe::GAUGES {
            self.read_gauges().await;
        }
    }

    /// Sets the inbox's gauges from the store's counts.
    async fn read_gauges(&self) {
        if let Ok(stats) = self.inner.store.stats().await {
            observe::inbox_gauges(stats.pending, stats.dead);
        }
    }

    /// Runs one attempt at a claimed job inside its span, and closes it.
    async fn run_job(&self, claimed: ClaimedJob, handler: &dyn Handler) {
        let event = claimed.delivery.headers.iter().find_map(|(name, value)| {
            name.eq_ignore_ascii_case(header::EVENT)
                .then_some(value.as_str())
        });
        let key = &claimed.delivery.key;
        let observed = JobObserved::start(
            key.id.as_str(),
            event.unwrap_or_default(),
            key.hook_id,
            claimed.attempt,
        );
        let outcome = observed
            .instrument(self.attempt(claimed, handler, &observed))
            .await;
        observed.finish(outcome);
    }

    /// Parses and processes one claimed job, renewing its lease while the
    /// handler runs, and settles it.
    async fn attempt(
        &self,
        claimed: ClaimedJob,
        handler: &dyn Handler,
        observed: &JobObserved,
    ) -> JobOutcome {
        let ClaimedJob {
            delivery,
            lease,
            attempt,
        } = claimed;
        let key = delivery.key.clone();
        let store = &self.inner.store;
        let parsed = Delivery::from_verified(&delivery.headers, delivery.body.clone());
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                // A stored delivery that no longer parses will not parse on
                // a retry either: dead at once, kept for an operator.
                let reason = format!("stored delivery does not parse: {error}");
                let failing = store.fail(&key, lease.token, None, &reason);
                let _ = observe::store(StoreOp::Fail, failing).await;
                return JobOutcome::Unparsable;
            }
        };
        observed.action(&parsed.info.event_name, parsed.event.action());
        let completed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let job = Job {
            delivery: parsed,
            attempt,
            received_at: delivery.received_at,
            key: key.clone(),
            token: lease.token,
            completed: Arc::clone(&completed),
        };
        let mut work = handler.handle(job);
        let renew_every = (self.inner.lease / 3).max(Duration::from_millis(10));
        // Until when the claim is surely ours, by this process's clock.
        let held_until = std::sync::Mutex::new(Instant::now() + self.inner.lease);
        // Renewals run beside the handler, never pausing it (a handler
        // holding a pool connection must go on while a renewal waits).
        let renewals = async {
            loop {
                tokio::time::sleep(renew_every).await;
                let asked = Instant::now();
                // A renewal refused means the job was taken over; the
                // settlement below is then refused too.
                if store
                    .renew(&key, lease.token, self.inner.lease)
                    .await
                    .is_ok()
                {
                    *held_until
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        asked + self.inner.lease;
                }
            }
        };
        let mut renewals = std::pin::pin!(renewals);
        let outcome = tokio::select! {
            outcome = &mut work => outcome,
            never = &mut renewals => never,
        };
        observed.handled();
        let held_until = *held_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            // Fenced: completed in the handler's own transaction, or taken
            // over; either way nothing more to write.
            Ok(()) if completed.load(std::sync::atomic::Ordering::Acquire) => JobOutcome::Done,
            Ok(()) => {
                let complete = || store.complete(&key, lease.token);
                settle(held_until, StoreOp::Complete, complete).await;
                JobOutcome::Done
            }
            Err(error) => {
                let delay = self.inner.retry.delay_after(attempt);
                let retry_at = delay.map(|delay| self.inner.clock.now() + delay);
                let reason = error_chain(error.as_ref());
                settle(held_until, StoreOp::Fail, || {
                    store.fail(&key, lease.token, retry_at, &reason)
                })
                .await;
                delay.map_or(JobOutcome::Dead, JobOutcome::Retry)
            }
        }
    }
}

/// Writes a job's settlement, again and again while the store fails (50 ms
/// apart, doubling to 2 s) and the claim is still held: a completion lost to
/// a passing database error would otherwise run the handler again once the
/// lease ran out. Past the lease another worker may have taken the job
/// over, and the write would be refused anyway.
async fn settle<'a>(
    held_until: Instant,
    op: StoreOp,
    mut write: impl FnMut() -> StoreFuture<'a, ()>,
) {
    let mut pause = Duration::from_millis(50);
    loop {
        match observe::store(op, write()).await {
            Ok(()) | Err(StoreError::Fenced) => return,
            Err(_) if Instant::now() + pause < held_until => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(_) => return,
        }
    }
}

/// How often, at most, the dispatcher reads the store's counts for the
/// inbox's gauges.
const GAUGES_EVERY: Duration = Duration::from_secs(1);

/// The pool started by [`Inbox::workers`].
#[derive(Debug)]
#[must_use = "dropping `Workers` leaves the pool running; call `shutdown` to stop it"]
pub struct Workers {
    pub(super) stop: watch::Sender<bool>,
    pub(super) task: tokio::task::JoinHandle<()>,
}

impl Workers {
    /// Stops claiming, lets the jobs in flight finish and settle, and
    /// returns once they have.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// An error and its causes, `: `-separated, at most 1,000 bytes.
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if text.len() > 1000 {
        let mut end = 1000;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}
