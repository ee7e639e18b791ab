//! [`DeliveryStore`] for [`SqliteStore`]: each call queued to the
//! connection's thread, and its answer unpacked.

use std::time::{Duration, SystemTime};

use super::SqliteStore;
use super::call::{Answer, Op, Reply};
use crate::headers::DeliveryId;
use crate::once::{
    Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Lease, ListFilter, Purge, Purged,
    Record, Stats, StoreFuture, StoredDelivery, Token,
};

impl DeliveryStore for SqliteStore {
    fn claim<'a>(
        &'a self,
        key: &'a DeliveryKey,
        lease: Duration,
    ) -> StoreFuture<'a, Claimed<Lease>> {
        self.call(Op::Claim(key.clone(), lease), |answer| match answer {
            Answer::Claim(begin) => Some(begin),
            _ => None,
        })
    }

    fn renew<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        lease: Duration,
    ) -> StoreFuture<'a, SystemTime> {
        self.call(
            Op::Renew(key.clone(), token, lease),
            |answer| match answer {
                Answer::Expires(at) => Some(at),
                _ => None,
            },
        )
    }

    fn complete<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.call(Op::Complete(key.clone(), token), unit)
    }

    fn abort<'a>(&'a self, key: &'a DeliveryKey, token: Token) -> StoreFuture<'a, ()> {
        self.call(Op::Abort(key.clone(), token), unit)
    }

    fn release(&self, key: &DeliveryKey, token: Token) {
        let _ = self.send(Op::Abort(key.clone(), token), Reply::Done(Box::new(|_| ())));
    }

    fn accept(&self, delivery: StoredDelivery) -> StoreFuture<'_, Accepted> {
        self.call(Op::Accept(delivery), |answer| match answer {
            Answer::Accepted(accepted) => Some(accepted),
            _ => None,
        })
    }

    fn claim_jobs(&self, max: usize, lease: Duration) -> StoreFuture<'_, Vec<ClaimedJob>> {
        self.call(Op::ClaimJobs(max, lease), |answer| match answer {
            Answer::Jobs(jobs) => Some(jobs),
            _ => None,
        })
    }

    fn fail<'a>(
        &'a self,
        key: &'a DeliveryKey,
        token: Token,
        retry_at: Option<SystemTime>,
        reason: &'a str,
    ) -> StoreFuture<'a, ()> {
        self.call(
            Op::Fail(key.clone(), token, retry_at, reason.to_owned()),
            unit,
        )
    }

    fn stats(&self) -> StoreFuture<'_, Stats> {
        self.call(Op::Stats, |answer| match answer {
            Answer::Stats(stats) => Some(stats),
            _ => None,
        })
    }

    fn list(&self, filter: ListFilter, limit: usize) -> StoreFuture<'_, Vec<Record>> {
        self.call(Op::List(filter, limit), |answer| match answer {
            Answer::Records(records) => Some(records),
            _ => None,
        })
    }

    fn get<'a>(
        &'a self,
        id: &'a DeliveryId,
    ) -> StoreFuture<'a, Vec<(Record, Option<StoredDelivery>)>> {
        self.call(Op::Get(id.clone()), |answer| match answer {
            Answer::Found(found) => Some(found),
            _ => None,
        })
    }

    fn retry<'a>(&'a self, id: Option<&'a DeliveryId>) -> StoreFuture<'a, u64> {
        self.call(Op::Retry(id.cloned()), |answer| match answer {
            Answer::Count(count) => Some(count),
            _ => None,
        })
    }

    fn purge(&self, purge: Purge) -> StoreFuture<'_, Purged> {
        self.call(Op::Purge(purge), |answer| match answer {
            Answer::Purged(purged) => Some(purged),
            _ => None,
        })
    }
}

fn unit(answer: Answer) -> Option<()> {
    matches!(answer, Answer::Unit).then_some(())
}
