//! `listen --log-format json`: a tracing-subscriber `Layer` that writes
//! one JSON object per event, in the shape of tracing-subscriber's own
//! JSON formatter (`timestamp`, `level`, `fields` with the `message`,
//! `target`, `span`: the current span's fields and `name`, and `spans`,
//! root first; for an event with an explicit parent, that parent and its
//! scope), and keeps each span's fields as values until an event
//! needs them. tracing-subscriber's fmt layer writes a span's fields out as
//! JSON when the span opens and again on each record, though most of the
//! SDK's delivery spans (every delivery answered 2xx at `info`) close with
//! no event to show them in: that writing was four fifths of what tracing
//! cost a load run (`bench/README.md`).
//!
//! Besides the explicit parent's scope, two things differ from
//! tracing-subscriber's lines, neither of which the SDK's spans meet: a
//! span's fields keep the order they are declared in (there they
//! are sorted by name), and a field given as bytes is a string of hex
//! digits (there an array of numbers).

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::ops::Range;

use serde::ser::{Serialize, SerializeMap as _, SerializeSeq as _, Serializer};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// The JSON log layer, writing each line to what `make_writer` makes.
#[derive(Debug)]
pub(super) struct JsonLog<W> {
    make_writer: W,
}

impl<W> JsonLog<W> {
    pub(super) fn new(make_writer: W) -> Self {
        Self { make_writer }
    }
}

impl<S, W> tracing_subscriber::Layer<S> for JsonLog<W>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut values = Values::for_fields(attributes.metadata().fields().len());
        attributes.record(&mut values);
        span.extensions_mut().insert(values);
    }

    fn on_record(&self, id: &Id, record: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(values) = extensions.get_mut::<Values>() {
            record.record(values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut timestamp = String::new();
        // The clock as tracing-subscriber's formatter writes it.
        let _ = SystemTime.format_time(&mut Writer::new(&mut timestamp));
        let mut fields = Values::for_fields(event.metadata().fields().len());
        event.record(&mut fields);
        let current = event
            .parent()
            .and_then(|id| ctx.span(id))
            .or_else(|| ctx.lookup_current());
        let line = Line {
            timestamp: &timestamp,
            level: event.metadata().level().as_str(),
            fields: &fields,
            target: event.metadata().target(),
            current: current.as_ref(),
        };
        let Ok(mut json) = serde_json::to_vec(&line) else {
            return;
        };
        json.push(b'\n');
        // Nowhere to tell of a log that cannot be written.
        let _ = self.make_writer.make_writer().write_all(&json);
    }
}

/// One event's line.
struct Line<'a, 'span, S: for<'lookup> LookupSpan<'lookup>> {
    timestamp: &'a str,
    level: &'a str,
    fields: &'a Values,
    target: &'a str,
    current: Option<&'a SpanRef<'span, S>>,
}

impl<S: for<'lookup> LookupSpan<'lookup>> Serialize for Line<'_, '_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let mut line = serializer.serialize_map(None)?;
        line.serialize_entry("timestamp", self.timestamp)?;
        line.serialize_entry("level", self.level)?;
        line.serialize_entry("fields", &Object::fields(self.fields))?;
        line.serialize_entry("target", self.target)?;
        if let Some(current) = self.current {
            line.serialize_entry("span", &SpanObject(current))?;
            line.serialize_entry("spans", &Scope(current))?;
        }
        line.end()
    }
}

/// The spans from the root to `0`, each as its object.
struct Scope<'a, 'span, S: for<'lookup> LookupSpan<'lookup>>(&'a SpanRef<'span, S>);

impl<S: for<'lookup> LookupSpan<'lookup>> Serialize for Scope<'_, '_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let mut spans = serializer.serialize_seq(None)?;
        for span in self.0.scope().from_root() {
            spans.serialize_element(&SpanObject(&span))?;
        }
        spans.end()
    }
}

/// A span as its fields and then its `name`.
struct SpanObject<'a, 'span, S: for<'lookup> LookupSpan<'lookup>>(&'a SpanRef<'span, S>);

impl<S: for<'lookup> LookupSpan<'lookup>> Serialize for SpanObject<'_, '_, S> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let extensions = self.0.extensions();
        let object = Object {
            values: extensions.get::<Values>(),
            name: Some(self.0.name()),
        };
        object.serialize(serializer)
    }
}

/// Recorded values as a JSON object, with a `name` entry last if any.
struct Object<'a> {
    values: Option<&'a Values>,
    name: Option<&'a str>,
}

impl<'a> Object<'a> {
    fn fields(values: &'a Values) -> Self {
        Self {
            values: Some(values),
            name: None,
        }
    }
}

impl Serialize for Object<'_> {
    fn serialize<T: Serializer>(&self, serializer: T) -> Result<T::Ok, T::Error> {
        let mut object = serializer.serialize_map(None)?;
        if let Some(values) = self.values {
            for (name, value) in values.slots.iter().flatten() {
                object.serialize_key(name)?;
                match value {
                    Value::U64(number) => object.serialize_value(number)?,
                    Value::I64(number) => object.serialize_value(number)?,
                    Value::F64(number) => object.serialize_value(number)?,
                    Value::Bool(flag) => object.serialize_value(flag)?,
                    Value::Text(range) => {
                        object.serialize_value(values.text.get(range.clone()).unwrap_or(""))?;
                    }
                }
            }
        }
        if let Some(name) = self.name {
            object.serialize_entry("name", name)?;
        }
        object.end()
    }
}

/// Fields as recorded, each at its index in its span's or event's
/// callsite (the order they are declared in): a field recorded again takes
/// the new value in its place, found without a search. The text of every
/// string is in one buffer.
#[derive(Debug)]
struct Values {
    slots: Vec<Option<(&'static str, Value)>>,
    text: String,
}

#[derive(Debug, Clone)]
enum Value {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A string, where it is in the text.
    Text(Range<usize>),
}

impl Values {
    /// Room for a callsite's `count` fields.
    fn for_fields(count: usize) -> Self {
        Self {
            slots: vec![None; count],
            text: String::new(),
        }
    }

    /// Room for the SDK's spans' text without growing.
    const TEXT: usize = 128;
    /// The text's length past which replaced strings are dropped from it.
    const COMPACT_AT: usize = 4 * Self::TEXT;

    fn set(&mut self, field: &Field, value: Value) {
        let name = field.name();
        // tracing's macros name a raw identifier's field without its `r#`;
        // a field named by hand with one loses it, as in tracing-subscriber's
        // JSON for a value given by `Debug`.
        let name = name.strip_prefix("r#").unwrap_or(name);
        let index = field.index();
        if index >= self.slots.len() {
            self.slots.resize(index + 1, None);
        }
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = Some((name, value));
        }
    }

    /// Writes a string's text with `write`, and sets it as `field`'s value.
    fn set_text(&mut self, field: &Field, write: impl FnOnce(&mut String) -> fmt::Result) {
        if self.text.is_empty() {
            self.text.reserve(Self::TEXT);
        }
        let start = self.text.len();
        if write(&mut self.text).is_err() {
            self.text.truncate(start);
        }
        let value = Value::Text(start..self.text.len());
        self.set(field, value);
        if self.text.len() > Self::COMPACT_AT {
            self.compact();
        }
    }

    /// The text again with only the strings still set, when those replaced
    /// take more room than they do: a span recorded over and over keeps a
    /// bounded buffer.
    fn compact(&mut self) {
        let live: usize = self
            .slots
            .iter()
            .flatten()
            .map(|(_, value)| match value {
                Value::Text(range) => range.len(),
                _ => 0,
            })
            .sum();
        if self.text.len() - live <= live {
            return;
        }
        let mut text = String::with_capacity(live.max(Self::TEXT));
        for (_, value) in self.slots.iter_mut().flatten() {
            if let Value::Text(range) = value {
                let start = text.len();
                text.push_str(self.text.get(range.clone()).unwrap_or(""));
                *range = start..text.len();
            }
        }
        self.text = text;
    }
}

impl Visit for Values {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.set(field, Value::F64(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(field, Value::U64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.set_text(field, |text| {
            text.push_str(value);
            Ok(())
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.set_text(field, |text| write!(text, "{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// What a layer wrote.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Self;

        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    impl Lines {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }

        fn parsed(&self) -> Vec<serde_json::Value> {
            self.text()
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect()
        }
    }

    /// Spans in spans, fields given at creation, recorded later and
    /// recorded again, strings that need escapes, every kind of value, an
    /// event with an explicit parent and one outside any span.
    fn scenario() {
        let outer = tracing::info_span!(
            "icr_webhooks.delivery",
            delivery_id = "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c",
            hook_id = 7_u64,
            outcome = tracing::field::Empty,
            status = tracing::field::Empty
        );
        let inner = outer.in_scope(|| {
            tracing::info_span!(
                "inner",
                r#type = "quoted \"name\"\n\u{1}",
                ratio = -0.5_f64,
                signed = tracing::field::Empty,
                offset = tracing::field::Empty,
            )
        });
        outer.record("outcome", "claimed");
        tracing::record_all!(outer, outcome = "signature_mismatch", status = 401_u16);
        tracing::record_all!(inner, signed = true, offset = -3_i64);
        inner.in_scope(|| {
            tracing::warn!(target: "icr_webhooks", outcome = "signature_mismatch", status = 401_u16, detail = ?vec!["é"], "delivery refused: bad signature");
        });
        tracing::error!(parent: &outer, "with an explicit parent");
        tracing::info!(answered = false, "outside any span");
    }

    #[test]
    fn the_lines_are_those_tracing_subscribers_json_formatter_writes() {
        let ours = Lines::default();
        let theirs = Lines::default();
        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(JsonLog::new(ours.clone())),
            scenario,
        );
        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(theirs.clone()),
            ),
            scenario,
        );
        // A field recorded again is written once, with its last value
        // (the lines parse into maps, which would hide a second one).
        let first_line = ours.text().lines().next().unwrap().to_owned();
        assert_eq!(
            (
                first_line.matches("\"outcome\":").count(),
                first_line.matches("\"outcome\":\"claimed\"").count()
            ),
            // The event's own, and the delivery span's in `spans`.
            (2, 0),
            "{first_line}"
        );
        let (mut ours, mut theirs) = (ours.parsed(), theirs.parsed());
        assert_eq!(ours.len(), 3);
        for line in ours.iter_mut().chain(theirs.iter_mut()) {
            let timestamp = line.as_object_mut().unwrap().remove("timestamp").unwrap();
            // RFC 3339, in UTC.
            let timestamp = timestamp.as_str().unwrap();
            assert!(
                icr_webhooks::chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
                "{timestamp}"
            );
        }
        // One difference: an event with an explicit parent lists that
        // parent's scope here; tracing-subscriber lists the scope current
        // on the thread (none here).
        let spans = |lines: &mut Vec<serde_json::Value>| {
            lines[1].as_object_mut().unwrap().remove("spans").unwrap()
        };
        let (our_spans, their_spans) = (spans(&mut ours), spans(&mut theirs));
        assert_eq!(ours, theirs);
        assert_eq!(their_spans, serde_json::json!([]));
        let delivery = serde_json::json!({
            "name": "icr_webhooks.delivery",
            "delivery_id": "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c",
            "hook_id": 7,
            "outcome": "signature_mismatch",
            "status": 401,
        });
        let inner = serde_json::json!({
            "name": "inner",
            "type": "quoted \"name\"\n\u{1}",
            "ratio": -0.5,
            "signed": true,
            "offset": -3,
        });
        assert_eq!(
            ours[0],
            serde_json::json!({
                "level": "WARN",
                "fields": {
                    "message": "delivery refused: bad signature",
                    "outcome": "signature_mismatch",
                    "status": 401,
                    "detail": "[\"é\"]",
                },
                "target": "icr_webhooks",
                "span": inner,
                "spans": [delivery, inner],
            })
        );
        assert_eq!(ours[1]["span"], delivery);
        assert_eq!(our_spans, serde_json::json!([delivery]));
        assert_eq!(
            ours[2],
            serde_json::json!({
                "level": "INFO",
                "fields": {"message": "outside any span", "answered": false},
                "target": module_path!(),
            })
        );
    }

    /// A span whose string field is recorded over and over: its text stays
    /// bounded.
    fn recorded_over_and_over() {
        let span = tracing::info_span!("long", status = tracing::field::Empty, step = 0_u64);
        for step in 0..1_000_u64 {
            tracing::record_all!(span, status = format!("{step:0>100}").as_str(), step = step);
        }
        let kept = tracing::dispatcher::get_default(|dispatch| {
            let registry = dispatch
                .downcast_ref::<tracing_subscriber::Registry>()
                .unwrap();
            let data = registry.span(&span.id().unwrap()).unwrap();
            let extensions = data.extensions();
            extensions.get::<Values>().unwrap().text.len()
        });
        assert!(kept <= Values::COMPACT_AT + 100, "{kept}");
        span.in_scope(|| tracing::info!("done"));
    }

    #[test]
    fn a_span_recorded_over_and_over_keeps_a_bounded_buffer_and_its_last_values() {
        let lines = Lines::default();
        tracing::subscriber::with_default(
            tracing_subscriber::registry().with(JsonLog::new(lines.clone())),
            recorded_over_and_over,
        );
        assert_eq!(
            lines.parsed()[0]["span"],
            serde_json::json!({"name": "long", "status": format!("{:0>100}", 999), "step": 999})
        );
    }
}
