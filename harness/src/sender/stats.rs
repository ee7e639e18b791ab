//! Statistics over a run's attempts: counts, statuses, latency percentiles
//! and throughput.

use std::time::Duration;

use super::{Attempt, Duplicate};

/// Latency percentiles and counts over a set of attempts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Distinct deliveries.
    pub deliveries: usize,
    /// Attempts made (first deliveries and redeliveries).
    pub attempts: usize,
    /// Deliveries whose last attempt was answered 2xx.
    pub delivered: usize,
    /// Count of each status seen, over all attempts.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Attempts that got no answer.
    pub failures: usize,
    /// Redeliveries made.
    pub redeliveries: usize,
    /// Median latency.
    pub p50: Duration,
    /// 90th percentile latency.
    pub p90: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest attempt.
    pub max: Duration,
    /// Wall time of the whole run, when known.
    pub elapsed: Option<Duration>,
    /// Duplicates sent concurrently with their first attempt (the same GUID
    /// and body); counted apart, in none of the fields above.
    pub duplicates_at_once: usize,
    /// Duplicates sent after their first attempt's answer.
    pub duplicates_after_answer: usize,
    /// Count of each status the duplicates were answered with.
    pub duplicate_statuses: std::collections::BTreeMap<u16, usize>,
    /// Duplicates that got no answer.
    pub duplicate_failures: usize,
}

impl Summary {
    /// Summarizes `attempts`; duplicates ([`Attempt::duplicate`]) are
    /// counted apart.
    pub fn of(attempts: &[Attempt]) -> Self {
        let (duplicates, attempts): (Vec<&Attempt>, Vec<&Attempt>) =
            attempts.iter().partition(|a| a.duplicate.is_some());
        let mut summary = Self {
            attempts: attempts.len(),
            ..Self::default()
        };
        for duplicate in &duplicates {
            match duplicate.duplicate {
                Some(Duplicate::AtOnce) => summary.duplicates_at_once += 1,
                _ => summary.duplicates_after_answer += 1,
            }
            match duplicate.status {
                Some(status) => *summary.duplicate_statuses.entry(status).or_default() += 1,
                None => summary.duplicate_failures += 1,
            }
        }
        let mut last: std::collections::HashMap<&str, &Attempt> = std::collections::HashMap::new();
        for &attempt in &attempts {
            if let Some(status) = attempt.status {
                *summary.statuses.entry(status).or_default() += 1;
            }
            if attempt.status.is_none() {
                summary.failures += 1;
            }
            if attempt.attempt > 1 {
                summary.redeliveries += 1;
            }
            let entry = last.entry(attempt.id.as_str()).or_insert(attempt);
            if attempt.attempt >= entry.attempt {
                *entry = attempt;
            }
        }
        summary.deliveries = last.len();
        summary.delivered = last.values().filter(|a| a.delivered()).count();
        let mut latencies: Vec<Duration> = attempts.iter().map(|a| a.latency).collect();
        latencies.sort();
        let at = |q: f64| -> Duration {
            if latencies.is_empty() {
                return Duration::ZERO;
            }
            let rank = ((latencies.len() as f64) * q).ceil() as usize;
            latencies
                .get(rank.saturating_sub(1).min(latencies.len() - 1))
                .copied()
                .unwrap_or_default()
        };
        summary.p50 = at(0.50);
        summary.p90 = at(0.90);
        summary.p99 = at(0.99);
        summary.max = latencies.last().copied().unwrap_or_default();
        summary
    }

    /// Summarizes `attempts` made in `elapsed` of wall time.
    pub fn timed(attempts: &[Attempt], elapsed: Duration) -> Self {
        Self {
            elapsed: Some(elapsed),
            ..Self::of(attempts)
        }
    }

    /// Attempts per second of wall time, when the wall time is known.
    pub fn throughput(&self) -> Option<f64> {
        let seconds = self.elapsed?.as_secs_f64();
        (seconds > 0.0).then(|| self.attempts as f64 / seconds)
    }

    /// Duplicates sent, at once and after the answer.
    pub fn duplicates(&self) -> usize {
        self.duplicates_at_once + self.duplicates_after_answer
    }

    /// Whether every delivery was finally answered 2xx.
    pub fn all_delivered(&self) -> bool {
        self.delivered == self.deliveries
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        writeln!(
            f,
            "deliveries {}  attempts {}  delivered (2xx) {}  not delivered {}",
            self.deliveries,
            self.attempts,
            self.delivered,
            self.deliveries - self.delivered
        )?;
        writeln!(
            f,
            "statuses {{{}}}  no answer {}  redeliveries {}",
            statuses.join(", "),
            self.failures,
            self.redeliveries
        )?;
        if self.duplicates() > 0 {
            let statuses: Vec<String> = self
                .duplicate_statuses
                .iter()
                .map(|(status, count)| format!("{status}: {count}"))
                .collect();
            writeln!(
                f,
                "duplicates {} (at once {}, after the answer {})  statuses {{{}}}  no answer {}",
                self.duplicates(),
                self.duplicates_at_once,
                self.duplicates_after_answer,
                statuses.join(", "),
                self.duplicate_failures
            )?;
        }
        write!(
            f,
            "latency p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )?;
        if let (Some(elapsed), Some(rate)) = (self.elapsed, self.throughput()) {
            write!(
                f,
                "\nelapsed {:.2} s  throughput {rate:.0} attempts/s",
                elapsed.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
