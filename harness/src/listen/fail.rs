//! The failing app: which first attempts are answered 500 and which first
//! processing attempts fail, picked by a hash of the GUID and a seed.

use futures_util::FutureExt as _;
use icr_webhooks::once::{Claimed, DEFAULT_LEASE, DeliveryKey};
use icr_webhooks::once::{DeliveryStore, MemoryStore};
use icr_webhooks::receive::DeliveryId;

/// Decides which first attempts fail: a fraction `rate` of GUIDs, chosen
/// by a hash of the GUID and a seed (the same seed fails the same GUIDs),
/// each failed on its first attempt only.
pub(super) struct FailRate {
    pub(super) rate: f64,
    pub(super) seed: u64,
    /// The GUIDs failed once: their redelivery is processed. Bounded like
    /// any store (three days, a million GUIDs).
    pub(super) failed: MemoryStore,
}

impl FailRate {
    /// Whether to answer this attempt of `id` with 500.
    pub(super) fn fails(&self, id: &DeliveryId) -> bool {
        if self.rate <= 0.0 || !self.picks(id) {
            return false;
        }
        // A `MemoryStore` answers at once: its futures are ready when made.
        let key = DeliveryKey::new(None, id.clone());
        match self.failed.claim(&key, DEFAULT_LEASE).now_or_never() {
            Some(Ok(Claimed::New(lease))) => {
                let _ = self.failed.complete(&key, lease.token).now_or_never();
                true
            }
            _ => false,
        }
    }

    /// Whether the first processing attempt of `id` fails: another
    /// fraction `rate` of GUIDs, picked independently of [`Self::picks`].
    pub(super) fn picks_processing(&self, id: &DeliveryId) -> bool {
        self.rate > 0.0 && self.pick(id, self.seed ^ 0x5bd1_e995_9e37_79b9)
    }

    /// Whether `id` is among the fraction `rate` of GUIDs.
    fn picks(&self, id: &DeliveryId) -> bool {
        self.pick(id, self.seed)
    }

    /// Whether `id` is among the fraction `rate` of GUIDs for `seed`.
    fn pick(&self, id: &DeliveryId, seed: u64) -> bool {
        // FNV-1a over the GUID, then splitmix64's finalizer with the seed.
        let mut hash = id
            .as_str()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        hash ^= seed;
        hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        hash ^= hash >> 31;
        let unit = (hash >> 11) as f64 / (1_u64 << 53) as f64;
        unit < self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u32) -> DeliveryId {
        format!("{n:08x}-0000-4000-8000-000000000000")
            .parse()
            .unwrap()
    }

    #[test]
    fn the_fail_rate_picks_about_its_fraction_and_fails_each_once() {
        for (rate, low, high) in [
            (0.0, 0, 0),
            (0.1, 900, 1100),
            (0.5, 4800, 5200),
            (1.0, 10_000, 10_000),
        ] {
            let fail = FailRate {
                rate,
                seed: 42,
                failed: MemoryStore::new(),
            };
            let failed = (0..10_000).filter(|n| fail.fails(&id(*n))).count();
            assert!((low..=high).contains(&failed), "rate {rate}: {failed}");
            assert_eq!((0..10_000).filter(|n| fail.fails(&id(*n))).count(), 0);
        }
    }

    #[test]
    fn the_seed_decides_which_guids_fail() {
        let picked = |seed| {
            let fail = FailRate {
                rate: 0.3,
                seed,
                failed: MemoryStore::new(),
            };
            (0..200).filter(|n| fail.picks(&id(*n))).collect::<Vec<_>>()
        };
        assert_eq!(picked(1), picked(1));
        assert_ne!(picked(1), picked(2));
    }
}
