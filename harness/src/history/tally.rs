//! The drift tally over the history: for each event, kind and path, how
//! many deliveries showed it and since when, most frequent first.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{DriftFinding, History, HistoryError};

/// One line of the tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TallyLine {
    /// The event name.
    pub event: String,
    /// The finding's kind.
    pub kind: String,
    /// The finding's path.
    pub path: String,
    /// How many deliveries showed it.
    pub count: u64,
    /// The first, in milliseconds since the Unix epoch.
    pub first_seen_ms: i64,
    /// The last, in milliseconds since the Unix epoch.
    pub last_seen_ms: i64,
}

/// The tally of `rows` (event, findings, time), most frequent first, then
/// the oldest first seen.
pub(super) fn of(rows: Vec<(String, Vec<DriftFinding>, SystemTime)>) -> Vec<TallyLine> {
    let mut lines: BTreeMap<(String, String, String), TallyLine> = BTreeMap::new();
    for (event, findings, at) in rows {
        let at = millis(at);
        for finding in findings {
            let line = lines
                .entry((event.clone(), finding.kind.clone(), finding.path.clone()))
                .or_insert_with(|| TallyLine {
                    event: event.clone(),
                    kind: finding.kind,
                    path: finding.path,
                    count: 0,
                    first_seen_ms: at,
                    last_seen_ms: at,
                });
            line.count += 1;
            line.first_seen_ms = line.first_seen_ms.min(at);
            line.last_seen_ms = line.last_seen_ms.max(at);
        }
    }
    let mut lines: Vec<TallyLine> = lines.into_values().collect();
    lines.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.first_seen_ms.cmp(&b.first_seen_ms))
    });
    lines
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// The drift tally over `history`.
///
/// # Errors
/// When the database fails.
pub async fn tally(history: &History) -> Result<Vec<TallyLine>, HistoryError> {
    Ok(of(history.drifts().await?))
}
