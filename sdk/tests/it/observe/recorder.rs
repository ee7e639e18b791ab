//! A test `metrics` recorder: every counter, gauge and histogram by its
//! name and sorted labels (`name{a=x,b=y}`), installed for one thread.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use metrics::{
    Counter, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// A gauge's value.
#[derive(Debug, Default)]
struct GaugeCell(Mutex<f64>);

impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        *self.0.lock().unwrap() += value;
    }
    fn decrement(&self, value: f64) {
        *self.0.lock().unwrap() -= value;
    }
    fn set(&self, value: f64) {
        *self.0.lock().unwrap() = value;
    }
}

/// A histogram's samples.
#[derive(Debug, Default)]
struct Samples(Mutex<Vec<f64>>);

impl HistogramFn for Samples {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

#[derive(Default)]
struct Inner {
    counters: BTreeMap<String, Arc<AtomicU64>>,
    gauges: BTreeMap<String, Arc<GaugeCell>>,
    histograms: BTreeMap<String, Arc<Samples>>,
}

/// Everything recorded.
#[derive(Clone, Default)]
pub(crate) struct Metrics(Arc<Mutex<Inner>>);

/// `name{a=x,b=y}`, labels sorted; the bare name without labels.
fn name(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|label| format!("{}={}", label.key(), label.value()))
        .collect();
    labels.sort();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

impl Metrics {
    /// Runs `f` with this recorder as the thread's.
    pub(crate) fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self, f)
    }

    /// Every counter whose name starts with `prefix`, with its value.
    pub(crate) fn counters(&self, prefix: &str) -> BTreeMap<String, u64> {
        let inner = self.0.lock().unwrap();
        inner
            .counters
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.clone(), value.load(Ordering::SeqCst)))
            .collect()
    }

    /// Every gauge whose name starts with `prefix`, with its value.
    pub(crate) fn gauges(&self, prefix: &str) -> BTreeMap<String, f64> {
        let inner = self.0.lock().unwrap();
        inner
            .gauges
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, value)| (name.clone(), *value.0.lock().unwrap()))
            .collect()
    }

    /// How many samples each histogram whose name starts with `prefix`
    /// has.
    pub(crate) fn histogram_counts(&self, prefix: &str) -> BTreeMap<String, usize> {
        self.histograms(prefix)
            .into_iter()
            .map(|(name, samples)| (name, samples.len()))
            .collect()
    }

    /// The samples of each histogram whose name starts with `prefix`.
    pub(crate) fn histograms(&self, prefix: &str) -> BTreeMap<String, Vec<f64>> {
        let inner = self.0.lock().unwrap();
        inner
            .histograms
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(name, samples)| (name.clone(), samples.0.lock().unwrap().clone()))
            .collect()
    }
}

impl Recorder for Metrics {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let mut inner = self.0.lock().unwrap();
        Counter::from_arc(Arc::clone(inner.counters.entry(name(key)).or_default()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        let mut inner = self.0.lock().unwrap();
        Gauge::from_arc(Arc::clone(inner.gauges.entry(name(key)).or_default()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let mut inner = self.0.lock().unwrap();
        Histogram::from_arc(Arc::clone(inner.histograms.entry(name(key)).or_default()))
    }
}
