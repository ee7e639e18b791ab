//! The drift tally over the history: the SDK's [`DriftTally`] fed with
//! each recorded delivery's findings, most frequent first, then the
//! earliest first seen.

use icr_webhooks::drift::{DriftTally, TallyEntry};

use super::{History, HistoryError};

/// The drift tally over `history`.
///
/// # Errors
/// When the database fails.
pub async fn tally(history: &History) -> Result<Vec<TallyEntry>, HistoryError> {
    let mut tally = DriftTally::new();
    for (event, drift, at) in history.drifts().await? {
        tally.add(&event, &drift, at);
    }
    Ok(tally.entries())
}
