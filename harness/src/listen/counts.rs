//! What the receiver answered, counted as it goes.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the receiver answered, counted as it goes.
#[derive(Debug, Default)]
pub struct Counts {
    pub(super) processed: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) in_progress: AtomicU64,
    pub(super) injected: AtomicU64,
    pub(super) refused: AtomicU64,
    pub(super) stored: AtomicU64,
    pub(super) unavailable: AtomicU64,
    pub(super) processing_failures: AtomicU64,
    pub(super) fenced: AtomicU64,
    pub(super) forwarded: AtomicU64,
    pub(super) forward_failed: AtomicU64,
}

impl Counts {
    /// Deliveries processed (reported on the channel): one per GUID.
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    /// Repeated GUIDs acknowledged with 200 without processing.
    pub fn duplicates(&self) -> u64 {
        self.duplicates.load(Ordering::Relaxed)
    }

    /// Repeated GUIDs answered 409 because the first copy was still being
    /// processed.
    pub fn in_progress(&self) -> u64 {
        self.in_progress.load(Ordering::Relaxed)
    }

    /// First attempts answered 500 on purpose (`--fail-rate`).
    pub fn injected_failures(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// Requests refused by the SDK's checks (4xx).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Deliveries written to the inbox.
    pub fn stored(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    /// Requests answered 503 because the store failed.
    pub fn unavailable(&self) -> u64 {
        self.unavailable.load(Ordering::Relaxed)
    }

    /// Completions refused because the claim had been taken over (its lease
    /// ran out): nothing was recorded.
    pub fn fenced(&self) -> u64 {
        self.fenced.load(Ordering::Relaxed)
    }

    /// Deliveries forwarded to the app that answered (`--forward-to`).
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }

    /// Deliveries the app behind `--forward-to` did not answer (502).
    pub fn forward_failed(&self) -> u64 {
        self.forward_failed.load(Ordering::Relaxed)
    }

    /// Inbox processing attempts failed on purpose (`--fail-rate`).
    pub fn processing_failures(&self) -> u64 {
        self.processing_failures.load(Ordering::Relaxed)
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "processed {}  duplicates acknowledged {}  in progress (409) {}  injected failures (500) {}  refused {}  store unavailable (503) {}",
            self.processed(),
            self.duplicates(),
            self.in_progress(),
            self.injected_failures(),
            self.refused(),
            self.unavailable()
        )?;
        if self.stored() > 0 || self.processing_failures() > 0 {
            write!(
                f,
                "  stored {}  injected processing failures {}",
                self.stored(),
                self.processing_failures()
            )?;
        }
        if self.forwarded() > 0 || self.forward_failed() > 0 {
            write!(
                f,
                "  forwarded {}  not answered by the app (502) {}",
                self.forwarded(),
                self.forward_failed()
            )?;
        }
        if self.fenced() > 0 {
            write!(f, "  completions refused (fenced) {}", self.fenced())?;
        }
        Ok(())
    }
}
