//! Instants and days as ICR writes them: UTC, `Z`, whole seconds, within a
//! fixed window; and the order of the timestamps of one object, by the
//! fields' names.

use proptest::prelude::*;

use crate::strategy::values::Gen;

/// The end of the window, as Unix seconds: 2026-12-01T00:00:00Z.
pub(super) const NOW: i64 = 1_796_083_200;
/// The window's length: 30 days.
pub(super) const WINDOW_SECONDS: i64 = 30 * SECONDS_PER_DAY;
/// Days (`date`) reach this far back before [`NOW`]: three years, as a
/// monitoring period does.
const DATE_DAYS: i64 = 3 * 365;
const SECONDS_PER_DAY: i64 = 86_400;

/// A `date-time` in the window `NOW - WINDOW_SECONDS ..= NOW`, uniformly;
/// shrinks toward [`NOW`].
pub(super) fn date_time() -> Gen<String> {
    (0..=WINDOW_SECONDS)
        .prop_map(|back| instant(NOW - back))
        .sboxed()
}

/// A `date` in the three years up to [`NOW`]'s day.
pub(super) fn date() -> Gen<String> {
    (0..=DATE_DAYS)
        .prop_map(|back| day(NOW.div_euclid(SECONDS_PER_DAY) - back))
        .sboxed()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(super) fn instant(unix: i64) -> String {
    let seconds = unix.rem_euclid(SECONDS_PER_DAY);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        day(unix.div_euclid(SECONDS_PER_DAY)),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// Days since 1970-01-01 as `YYYY-MM-DD` (proleptic Gregorian; H. Hinnant's
/// `civil_from_days`).
fn day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Where a timestamp field comes in its object: what starts a thing first
/// (`created_at`, `issued_at`, a period's `start`), then `updated_at`, then
/// what ends or changes it (`completed_at`, `suspended_at`, `revoked_at`,
/// a period's `end`, and any other).
pub(super) fn rank(field: &str) -> u8 {
    match field {
        "created_at" | "issued_at" | "requested_at" | "start" => 0,
        "updated_at" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc_with_whole_seconds() {
        assert_eq!(instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(instant(NOW), "2026-12-01T00:00:00Z");
        assert_eq!(instant(NOW - WINDOW_SECONDS), "2026-11-01T00:00:00Z");
        assert_eq!(instant(951_782_399), "2000-02-28T23:59:59Z");
        assert_eq!(instant(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(instant(-1), "1969-12-31T23:59:59Z");
        assert_eq!(day(NOW / SECONDS_PER_DAY - DATE_DAYS), "2023-12-02");
    }

    #[test]
    fn ranks_put_creation_first_and_endings_last() {
        assert_eq!(
            ["created_at", "updated_at", "completed_at", "start", "end"].map(rank),
            [0, 1, 2, 0, 2]
        );
    }
}
