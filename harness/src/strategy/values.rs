//! Strategies for the leaves of a payload: bounded integers with their edge
//! values, printable text, the formats in use (`date-time`, `date`, `uri`),
//! identifiers and small arbitrary JSON. Each shrinks toward the smallest
//! case: the lower bound, the empty string, `1900-01-01T00:00:00Z`, `null`.

use std::ops::RangeInclusive;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::SBoxedStrategy;
use serde_json::{Map, Value};

use super::trees::{Chars, Int, Pool, Weighted};

/// A boxed strategy that is `Send + Sync`, so the compiled schema is too.
pub(crate) type Gen<T> = SBoxedStrategy<T>;

/// The largest ID ICR sends: 2^53 - 1.
pub(crate) const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

const fn pool(ranges: &'static [RangeInclusive<char>]) -> [Pool; 1] {
    [Pool { weight: 1, ranges }]
}

const LOWER: &[Pool] = &pool(&['a'..='z']);
const IDENT_TAIL: &[Pool] = &pool(&['a'..='z', '0'..='9', '_'..='_']);
const DIGITS: &[Pool] = &pool(&['0'..='9']);
const SEGMENT: &[Pool] = &pool(&['a'..='z', '0'..='9', '-'..='-']);
const HOSTS: &[&str] = &[
    "registry.icr.example",
    "icr.example",
    "app.example.org",
    "localhost:8443",
];

/// Printable ASCII mostly; sometimes printable ASCII with a few printable
/// non-ASCII blocks: Latin-1 and Latin Extended, Greek, Cyrillic, CJK
/// ideographs, emoji (outside the BMP).
const TEXT: &[Pool] = &[
    Pool {
        weight: 3,
        ranges: &[' '..='~'],
    },
    Pool {
        weight: 1,
        ranges: &[
            ' '..='~',
            '\u{a1}'..='\u{24f}',
            '\u{391}'..='\u{3a1}',
            '\u{3a3}'..='\u{3c9}',
            '\u{410}'..='\u{44f}',
            '\u{4e00}'..='\u{9fff}',
            '\u{1f300}'..='\u{1f64f}',
        ],
    },
];

/// One of `options` by weight, shrinking toward the first.
pub(crate) fn weighted<T: std::fmt::Debug + 'static>(options: Vec<(u32, Gen<T>)>) -> Gen<T> {
    Weighted::new(options).sboxed()
}

/// One of `values` by weight, shrinking toward the first.
fn weighted_just<T: Clone + std::fmt::Debug + Send + Sync + 'static>(
    values: &[(u32, T)],
) -> Gen<T> {
    weighted(
        values
            .iter()
            .map(|(weight, value)| (*weight, Just(value.clone()).sboxed()))
            .collect(),
    )
}

/// A string of `min..=max` characters from `pools`.
fn chars(pools: &'static [Pool], min: usize, max: usize) -> Gen<String> {
    Chars::new(pools, min, max).sboxed()
}

/// A lower-case identifier, `[a-z][a-z0-9_]{0,11}`: unknown field names,
/// map keys, unknown enum values, actions and events.
pub(crate) fn identifier() -> Gen<String> {
    (chars(LOWER, 1, 1), chars(IDENT_TAIL, 0, 11))
        .prop_map(|(first, rest)| first + &rest)
        .sboxed()
}

/// Printable text of `min..=max` characters (code points, as JSON Schema
/// counts them): mostly ASCII, sometimes with non-ASCII letters, CJK and
/// emoji; now and then a quote, backslash or other character that needs care.
pub(crate) fn text(min: usize, max: usize) -> Gen<String> {
    chars(TEXT, min, max)
}

/// An integer in `lo..=hi` (`lo <= hi`): mostly near the value nearest
/// zero, sometimes an edge value (`lo`, `lo + 1`, `hi - 1`, `hi`), sometimes
/// anywhere. Shrinks toward the value nearest zero.
pub(crate) fn integer(lo: i64, hi: i64) -> Gen<i64> {
    Int::new(lo, hi).sboxed()
}

/// A small count in `lo..=hi`, as `u32`.
fn small(lo: u32, hi: u32) -> Gen<u32> {
    Int::new(i64::from(lo), i64::from(hi))
        .prop_map(|n| u32::try_from(n).unwrap_or_default())
        .sboxed()
}

/// A finite number in `lo..=hi`, the bounds themselves excluded when asked:
/// whole numbers mostly, fractions sometimes.
pub(crate) fn number(lo: f64, hi: f64, exclude_lo: bool, exclude_hi: bool) -> Gen<f64> {
    if lo == hi {
        return Just(lo).sboxed();
    }
    let mut whole_lo = lo.ceil();
    if exclude_lo && whole_lo == lo {
        whole_lo += 1.0;
    }
    let mut whole_hi = hi.floor();
    if exclude_hi && whole_hi == hi {
        whole_hi -= 1.0;
    }
    let fractional = (lo..=hi).sboxed();
    let strategy = if whole_lo <= whole_hi {
        let whole = (whole_lo..=whole_hi.min(whole_lo + 1000.0))
            .prop_map(f64::floor)
            .sboxed();
        weighted(vec![(3, whole), (1, fractional)])
    } else {
        fractional
    };
    strategy
        .prop_filter("exclusive bound", move |&x| {
            x.is_finite() && !(exclude_lo && x == lo) && !(exclude_hi && x == hi)
        })
        .sboxed()
}

/// Days in `month` of `year` (proleptic Gregorian).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn date_parts() -> Gen<(u32, u32, u32)> {
    (small(1900, 2199), small(1, 12), small(1, 31))
        .prop_map(|(year, month, day)| (year, month, day.min(days_in_month(year, month))))
        .sboxed()
}

/// A `date` (RFC 3339 `full-date`, `YYYY-MM-DD`), 1900 to 2199.
pub(crate) fn date() -> Gen<String> {
    date_parts()
        .prop_map(|(year, month, day)| format!("{year:04}-{month:02}-{day:02}"))
        .sboxed()
}

/// A `date-time` in any RFC 3339 form a receiver must accept: mostly UTC
/// with `Z` and whole seconds as ICR writes them; sometimes with 1 to 12
/// fractional digits, lower-case `t` or `z`, `+00:00`, or another offset
/// (`-23:59` to `+23:59`, `-00:00` included). No leap seconds.
pub(crate) fn date_time() -> Gen<String> {
    let separator = weighted_just(&[(9, 'T'), (1, 't')]);
    let numeric = (
        weighted_just(&[(1, '+'), (1, '-')]),
        small(0, 23),
        small(0, 59),
    )
        .prop_map(|(sign, hours, minutes)| format!("{sign}{hours:02}:{minutes:02}"))
        .sboxed();
    let offset = weighted(vec![
        (12, Just("Z".to_owned()).sboxed()),
        (1, Just("z".to_owned()).sboxed()),
        (2, Just("+00:00".to_owned()).sboxed()),
        (4, numeric),
    ]);
    let fraction = weighted(vec![
        (3, Just(String::new()).sboxed()),
        (
            1,
            chars(DIGITS, 1, 12)
                .prop_map(|digits| format!(".{digits}"))
                .sboxed(),
        ),
    ]);
    let time = (small(0, 23), small(0, 59), small(0, 59));
    (date_parts(), separator, time, fraction, offset)
        .prop_map(
            |((year, month, day), separator, (hour, minute, second), fraction, offset)| {
                format!(
                    "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{offset}"
                )
            },
        )
        .sboxed()
}

/// An absolute `uri`: `https://registry.icr.example/<segment>/...` and a few
/// other hosts and schemes.
pub(crate) fn uri() -> Gen<String> {
    (
        weighted_just(&[(4, "https"), (1, "http")]),
        select(HOSTS),
        prop::collection::vec(chars(SEGMENT, 1, 10), 0..=3),
    )
        .prop_map(|(scheme, host, segments)| format!("{scheme}://{host}/{}", segments.join("/")))
        .sboxed()
}

/// A finite `f64`: mostly of moderate size, sometimes any finite value
/// (subnormals and extremes included).
fn finite_f64() -> Gen<f64> {
    use prop::num::f64 as float;
    let any_finite =
        float::POSITIVE | float::NEGATIVE | float::NORMAL | float::SUBNORMAL | float::ZERO;
    weighted(vec![
        (3, (-1.0e6..1.0e6).sboxed()),
        (1, any_finite.sboxed()),
    ])
}

/// Arbitrary small JSON, for schemas without a type (`changes.*.from`) and
/// for the values of unknown fields: `null`, booleans, numbers, strings, and
/// arrays and objects of up to 3 entries, nested at most twice.
pub(crate) fn any_json() -> Gen<Value> {
    let leaf = weighted(vec![
        (1, Just(Value::Null).sboxed()),
        (1, any::<bool>().prop_map(Value::Bool).sboxed()),
        (2, integer(-1000, 1000).prop_map(Value::from).sboxed()),
        (1, finite_f64().prop_map(Value::from).sboxed()),
        (2, text(0, 8).prop_map(Value::String).sboxed()),
    ]);
    let inner = nest(leaf.clone(), leaf.clone());
    nest(leaf, inner)
}

/// `leaf`, or an array or object of up to 3 values of `inner`.
fn nest(leaf: Gen<Value>, inner: Gen<Value>) -> Gen<Value> {
    let array = prop::collection::vec(inner.clone(), 0..=3)
        .prop_map(Value::Array)
        .sboxed();
    let object = prop::collection::btree_map(identifier(), inner, 0..=3)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>()))
        .sboxed();
    weighted(vec![(4, leaf), (1, array), (1, object)])
}

#[cfg(test)]
mod tests {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    use super::*;

    fn samples<T: std::fmt::Debug>(strategy: &Gen<T>, n: usize) -> Vec<T> {
        let mut runner = TestRunner::deterministic();
        (0..n)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .collect()
    }

    #[test]
    fn integers_stay_in_bounds_and_reach_the_edges() {
        let values = samples(&integer(1, MAX_SAFE_INTEGER), 400);
        assert!(values.iter().all(|v| (1..=MAX_SAFE_INTEGER).contains(v)));
        assert!(values.contains(&1));
        assert!(values.contains(&MAX_SAFE_INTEGER));
        let values = samples(&integer(5, 5), 20);
        assert!(values.iter().all(|&v| v == 5));
        let values = samples(&integer(i64::MIN, i64::MAX), 200);
        assert!(values.contains(&i64::MIN) && values.contains(&i64::MAX));
    }

    #[test]
    fn dates_are_real_days() {
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2023, 4), 30);
        for value in samples(&date(), 300) {
            assert_eq!(value.len(), 10, "{value}");
        }
    }

    #[test]
    fn numbers_respect_exclusive_bounds() {
        for value in samples(&number(0.0, 1.0, true, true), 200) {
            assert!(value > 0.0 && value < 1.0, "{value}");
        }
    }
}
