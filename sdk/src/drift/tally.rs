//! [`DriftTally`]: drift findings counted over many deliveries, with when
//! each was first and last seen, in bounded memory.

use std::collections::HashMap;
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use super::{Drift, Finding};

/// The most entries (distinct event and finding pairs) a tally keeps; a
/// finding that would make one more is counted in
/// [`DriftTally::dropped`] instead.
pub const MAX_TALLY_ENTRIES: usize = 1024;

/// The most characters of an event name a tally keeps; a longer name is
/// cut there.
pub const MAX_EVENT_LEN: usize = 64;

/// The most characters of a path a tally keeps; a longer path is cut there
/// and ends with `…`.
pub const MAX_PATH_LEN: usize = 256;

/// Drift findings counted over many deliveries, for `listen` and for
/// production apps: how often each (event, finding) pair was seen, and
/// since when.
///
/// Memory is bounded whatever the senders send: event names are cut to
/// [`MAX_EVENT_LEN`] characters, paths to [`MAX_PATH_LEN`], and at most
/// [`MAX_TALLY_ENTRIES`] pairs are kept (by default; see
/// [`with_capacity`](Self::with_capacity)); findings of further pairs are
/// only counted, in [`dropped`](Self::dropped).
#[derive(Debug, Clone)]
pub struct DriftTally {
    entries: HashMap<(String, Finding), Seen>,
    capacity: usize,
    dropped: u64,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    count: u64,
    first: SystemTime,
    last: SystemTime,
}

/// One (event, finding) pair of a [`DriftTally`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TallyEntry {
    /// The `X-ICR-Event` name, at most [`MAX_EVENT_LEN`] characters.
    pub event: String,
    /// What was found, and where.
    pub finding: Finding,
    /// In how many deliveries.
    pub count: u64,
    /// When first seen (RFC 3339 when serialized).
    #[serde(serialize_with = "rfc3339")]
    pub first_seen: SystemTime,
    /// When last seen (RFC 3339 when serialized).
    #[serde(serialize_with = "rfc3339")]
    pub last_seen: SystemTime,
}

fn rfc3339<S: Serializer>(at: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    let at: chrono::DateTime<chrono::Utc> = (*at).into();
    serializer.serialize_str(&at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl Default for DriftTally {
    fn default() -> Self {
        Self::new()
    }
}

impl DriftTally {
    /// An empty tally of at most [`MAX_TALLY_ENTRIES`] pairs.
    pub fn new() -> Self {
        Self::with_capacity(MAX_TALLY_ENTRIES)
    }

    /// An empty tally of at most `max_entries` pairs.
    pub fn with_capacity(max_entries: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: max_entries,
            dropped: 0,
        }
    }

    /// Counts the findings of one delivery of `event`, seen `at`.
    pub fn add(&mut self, event: &str, drift: &Drift, at: SystemTime) {
        let event = cut(event, MAX_EVENT_LEN, "");
        for finding in drift.findings() {
            let mut finding = finding.clone();
            finding.path = cut(&finding.path, MAX_PATH_LEN, "…");
            let key = (event.clone(), finding);
            if let Some(seen) = self.entries.get_mut(&key) {
                seen.count = seen.count.saturating_add(1);
                seen.first = seen.first.min(at);
                seen.last = seen.last.max(at);
            } else if self.entries.len() < self.capacity {
                self.entries.insert(
                    key,
                    Seen {
                        count: 1,
                        first: at,
                        last: at,
                    },
                );
            } else {
                self.dropped = self.dropped.saturating_add(1);
            }
        }
    }

    /// Every pair, the most frequent first, then the earliest first seen.
    pub fn entries(&self) -> Vec<TallyEntry> {
        let mut entries: Vec<TallyEntry> = self
            .entries
            .iter()
            .map(|((event, finding), seen)| TallyEntry {
                event: event.clone(),
                finding: finding.clone(),
                count: seen.count,
                first_seen: seen.first,
                last_seen: seen.last,
            })
            .collect();
        entries.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.first_seen.cmp(&b.first_seen))
                .then_with(|| (&a.event, &a.finding).cmp(&(&b.event, &b.finding)))
        });
        entries
    }

    /// How many pairs are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was found yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Findings not counted because the tally was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// `text` cut to `max` characters, `mark` ending a cut one.
fn cut(text: &str, max: usize, mark: &str) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => {
            let keep = text
                .char_indices()
                .nth(max.saturating_sub(mark.chars().count()))
                .map_or(end, |(at, _)| at);
            let mut out = text.get(..keep).unwrap_or_default().to_owned();
            out.push_str(mark);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::{DriftTally, MAX_EVENT_LEN, MAX_PATH_LEN, cut};
    use crate::drift::{Drift, Finding, FindingKind};

    fn drift(findings: &[(FindingKind, &str)]) -> Drift {
        Drift {
            findings: findings
                .iter()
                .map(|(kind, path)| Finding::new(*kind, *path))
                .collect(),
        }
    }

    #[test]
    fn entries_go_by_count_then_first_seen() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |s| t0 + Duration::from_secs(s);
        let mut tally = DriftTally::new();
        let field = drift(&[(FindingKind::UnknownField, "transfer.note")]);
        let value = drift(&[(FindingKind::UnknownEnumValue, "sender.type")]);
        tally.add("credit_transfer", &field, at(5));
        tally.add("credit_transfer", &value, at(1));
        tally.add("credit_transfer", &field, at(2));
        tally.add("credit_transfer", &value, at(9));
        tally.add("nova", &drift(&[(FindingKind::UnknownEvent, "")]), at(0));
        let entries = tally.entries();
        let got: Vec<(&str, &str, u64, SystemTime, SystemTime)> = entries
            .iter()
            .map(|e| {
                (
                    e.event.as_str(),
                    e.finding.path.as_str(),
                    e.count,
                    e.first_seen,
                    e.last_seen,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("credit_transfer", "sender.type", 2, at(1), at(9)),
                ("credit_transfer", "transfer.note", 2, at(2), at(5)),
                ("nova", "", 1, at(0), at(0)),
            ]
        );
        let json = serde_json::to_value(&entries[2]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "event": "nova",
                "finding": {"kind": "unknown_event", "path": ""},
                "count": 1,
                "first_seen": "2027-01-15T08:00:00.000Z",
                "last_seen": "2027-01-15T08:00:00.000Z",
            })
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut tally = DriftTally::with_capacity(2);
        let long_event = "e".repeat(1000);
        let long_path = "p".repeat(10_000);
        let now = SystemTime::UNIX_EPOCH;
        tally.add(
            &long_event,
            &drift(&[(FindingKind::UnknownField, &long_path)]),
            now,
        );
        tally.add("a", &drift(&[(FindingKind::UnknownField, "x")]), now);
        tally.add("b", &drift(&[(FindingKind::UnknownField, "x")]), now);
        tally.add("a", &drift(&[(FindingKind::UnknownField, "x")]), now);
        assert_eq!((tally.len(), tally.dropped()), (2, 1));
        let entries = tally.entries();
        let long = entries.iter().find(|e| e.event.starts_with('e')).unwrap();
        assert_eq!(long.event, "e".repeat(MAX_EVENT_LEN));
        assert_eq!(long.finding.path.chars().count(), MAX_PATH_LEN);
        assert!(long.finding.path.ends_with('…'));
    }

    #[test]
    fn cut_keeps_char_boundaries() {
        assert_eq!(cut("ééé", 2, ""), "éé");
        assert_eq!(cut("ééé", 3, "…"), "ééé");
        assert_eq!(cut("éééé", 3, "…"), "éé…");
    }
}
