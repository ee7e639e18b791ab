//! A test subscriber: a `tracing_subscriber::Layer` that keeps every span
//! (its name, level, parent and every field recorded on it, at any time)
//! and every event (level, message, fields, the span it happened in), each
//! field formatted as a subscriber would write it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// A span as recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SpanRecord {
    pub(crate) name: &'static str,
    pub(crate) target: String,
    pub(crate) level: Level,
    pub(crate) fields: BTreeMap<String, String>,
    /// The events inside it, in order.
    pub(crate) events: Vec<EventRecord>,
}

/// An event as recorded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventRecord {
    pub(crate) target: String,
    pub(crate) level: Level,
    /// Every field, the message (`message`) among them.
    pub(crate) fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Inner {
    /// By span ID, in creation order.
    spans: Vec<(u64, SpanRecord)>,
    /// Events outside any span.
    loose: Vec<EventRecord>,
}

/// What the layer saw; clone it to read it while the layer records.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Inner>>);

impl Captured {
    /// Every span recorded, in creation order.
    pub(crate) fn spans(&self) -> Vec<SpanRecord> {
        let inner = self.0.lock().unwrap();
        inner.spans.iter().map(|(_, span)| span.clone()).collect()
    }

    /// The spans named `name`, in creation order.
    pub(crate) fn named(&self, name: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name)
            .collect()
    }

    /// Everything recorded as text: each span's name and fields, each
    /// event's fields, formatted.
    pub(crate) fn text(&self) -> String {
        let inner = self.0.lock().unwrap();
        let mut text = format!("{:?}", inner.loose);
        for (_, span) in &inner.spans {
            text.push_str(&format!("{span:?}\n"));
        }
        text
    }

    /// Makes this layer (every level) the process's subscriber, for
    /// servers that run on threads of their own.
    pub(crate) fn install_global(&self) {
        let subscriber = tracing_subscriber::registry().with(Recording(self.clone()));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    }

    /// Runs `f` with this layer (every level, TRACE included) as the
    /// thread's subscriber.
    pub(crate) fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        let subscriber = tracing_subscriber::registry().with(Recording(self.clone()));
        tracing::subscriber::with_default(subscriber, f)
    }
}

struct Recording(Captured);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recording {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        self.0.0.lock().unwrap().spans.push((
            id.into_u64(),
            SpanRecord {
                name: meta.name(),
                target: meta.target().to_owned(),
                level: *meta.level(),
                fields,
                events: Vec::new(),
            },
        ));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut inner = self.0.0.lock().unwrap();
        if let Some((_, span)) = inner
            .spans
            .iter_mut()
            .rev()
            .find(|(i, _)| *i == id.into_u64())
        {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let record = EventRecord {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields,
        };
        let within = ctx.event_span(event).map(|span| span.id().into_u64());
        let mut inner = self.0.0.lock().unwrap();
        match within.and_then(|id| inner.spans.iter_mut().rev().find(|(i, _)| *i == id)) {
            Some((_, span)) => span.events.push(record),
            None => inner.loose.push(record),
        }
    }
}
