//! The span fields of `listen --log-format json`: a JSON object, as
//! tracing-subscriber's `JsonFields` writes, that a later `record` extends
//! in place. `JsonFields` parses a span's fields back into a map and writes
//! them all again on every `record`, which for the SDK's delivery span
//! (three fields at creation, seven recorded when it closes) cost about
//! 20,000 instructions a delivery, half of all the observability's cost
//! (callgrind, `bench/README.md`). Here a record drops the object's closing
//! brace and appends. A field recorded twice is then in the object twice;
//! tracing-subscriber's JSON event formatter reads span fields into a map,
//! so the last value is the one written, as with `JsonFields`.

use std::cell::RefCell;
use std::fmt;

use tracing::field::{Field, Visit};
use tracing::span::Record;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::{FormatFields, Writer};

/// Span fields as one JSON object, extended in place by a record.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct AppendedJsonFields;

impl<'writer> FormatFields<'writer> for AppendedJsonFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        entries(
            |entries| {
                entries.json.push(b'{');
                fields.record(entries);
                entries.json.push(b'}');
            },
            |object| writer.write_str(object),
        )
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &Record<'_>,
    ) -> fmt::Result {
        // The entries go straight into the object's own bytes, before its
        // closing brace.
        let mut json = std::mem::take(&mut current.fields).into_bytes();
        // Room for the SDK's late fields at once, not grown push by push.
        json.reserve(ROOM);
        if json.last() == Some(&b'}') {
            json.pop();
        } else {
            // Nothing formatted yet, or not an object: a new one.
            json.clear();
            json.push(b'{');
        }
        let mut entries = Entries {
            count: usize::from(json.len() > 1),
            json: &mut json,
            failed: false,
        };
        fields.record(&mut entries);
        let failed = entries.failed;
        json.push(b'}');
        // Only whole UTF-8 strings and ASCII were written.
        current.fields = String::from_utf8(json)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        if failed { Err(fmt::Error) } else { Ok(()) }
    }
}

/// Room for the entries of a span of the SDK's, without growing.
const ROOM: usize = 256;

thread_local! {
    /// The buffer the entries are written in, kept from span to span.
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(ROOM));
}

/// Writes the entries `record` visits, then hands their text to `write`.
fn entries(
    record: impl FnOnce(&mut Entries<'_>),
    write: impl FnOnce(&str) -> fmt::Result,
) -> fmt::Result {
    let run = |json: &mut Vec<u8>| {
        json.clear();
        let mut entries = Entries {
            json,
            count: 0,
            failed: false,
        };
        record(&mut entries);
        if entries.failed {
            return Err(fmt::Error);
        }
        write(std::str::from_utf8(entries.json).map_err(|_| fmt::Error)?)
    };
    let mut run = Some(run);
    let kept = BUFFER.try_with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut json) => run.take().map(|run| run(&mut json)),
        // Formatting a value logged a span of its own: a buffer of its own.
        Err(_) => None,
    });
    match (kept, run) {
        (Ok(Some(written)), _) => written,
        (_, Some(run)) => run(&mut Vec::new()),
        (_, None) => Err(fmt::Error),
    }
}

/// The `"name":value` entries of a set of fields, comma-separated, as
/// serde_json writes names and values.
#[derive(Debug)]
struct Entries<'a> {
    json: &'a mut Vec<u8>,
    /// The entries written so far.
    count: usize,
    failed: bool,
}

impl Entries<'_> {
    fn entry(&mut self, field: &Field, value: &(impl serde::Serialize + ?Sized)) {
        self.name(field);
        let written = serde_json::to_writer(&mut *self.json, value).is_ok();
        self.failed |= !written;
    }

    /// A string value: as serde_json writes it, copied as it is when
    /// nothing in it needs an escape (the GUIDs, names and codes of the
    /// SDK's spans).
    fn text(&mut self, field: &Field, value: &str) {
        self.name(field);
        self.string(value);
    }

    /// The comma before the entry, if another is before it, and its name.
    fn name(&mut self, field: &Field) {
        let name = field.name();
        // As `JsonFields`: a raw identifier's field is named without `r#`.
        let name = name.strip_prefix("r#").unwrap_or(name);
        if self.count > 0 {
            self.json.push(b',');
        }
        self.count += 1;
        self.string(name);
        self.json.push(b':');
    }

    fn string(&mut self, text: &str) {
        if needs_no_escape(text) {
            self.json.reserve(text.len() + 2);
            self.json.push(b'"');
            self.json.extend_from_slice(text.as_bytes());
            self.json.push(b'"');
        } else {
            let written = serde_json::to_writer(&mut *self.json, text).is_ok();
            self.failed |= !written;
        }
    }
}

/// Whether serde_json writes `text` as it is between quotes: it escapes
/// only the quote, the backslash and the control characters below U+0020.
fn needs_no_escape(text: &str) -> bool {
    // Every byte looked at (no early exit), which the compiler vectorizes.
    text.bytes().fold(true, |plain, byte| {
        plain & (byte >= 0x20) & (byte != b'"') & (byte != b'\\')
    })
}

impl Visit for Entries<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.entry(field, &value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.entry(field, &value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.entry(field, &value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.entry(field, &value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.entry(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;
    use tracing_subscriber::fmt::format::JsonFields;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    /// What a subscriber wrote, one line per event.
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

    /// What each JSON line of the events `scenario` emits says of its span.
    fn logged_spans(
        fields: impl for<'w> FormatFields<'w> + Send + Sync + 'static,
        scenario: fn(),
    ) -> Vec<serde_json::Value> {
        let lines = Lines::default();
        let layer = tracing_subscriber::fmt::layer()
            .json()
            .fmt_fields(fields)
            .with_writer(lines.clone());
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, scenario);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["span"].clone())
            .collect()
    }

    /// A span with fields at its creation, more recorded in two steps (one
    /// of them again), and an event inside it.
    fn recorded_twice() {
        let span = tracing::info_span!(
            "delivery",
            delivery_id = "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
            hook_id = 7_u64,
            r#type = "quoted \"name\"\n",
            outcome = tracing::field::Empty,
            status = tracing::field::Empty,
            ratio = tracing::field::Empty,
            signed = tracing::field::Empty,
            detail = tracing::field::Empty,
        );
        span.record("outcome", "claimed");
        tracing::record_all!(
            span,
            outcome = "verified",
            status = 200_u16,
            ratio = -0.5_f64,
            signed = true,
            detail = tracing::field::debug(vec!["é", "\u{1}"]),
        );
        span.in_scope(|| tracing::info!(answered = true, "delivery answered"));
    }

    /// A span with no value at its creation, given some later.
    fn empty_then_recorded() {
        let span = tracing::info_span!(
            "job",
            outcome = tracing::field::Empty,
            attempt = tracing::field::Empty
        );
        span.in_scope(|| tracing::info!("before"));
        span.record("attempt", 2_u32);
        span.in_scope(|| tracing::info!("after"));
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut texts: Vec<String> = (0_u8..0x80)
            .map(|byte| format!("a{}b", char::from(byte)))
            .collect();
        texts.extend(["", "plain", "é ünï 🦀", "\u{2028}", "end\\", "\"start"].map(String::from));
        for text in &texts {
            let mut json = Vec::new();
            Entries {
                json: &mut json,
                count: 0,
                failed: false,
            }
            .string(text);
            assert_eq!(
                String::from_utf8(json).unwrap(),
                serde_json::to_string(text).unwrap(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn entries_written_while_others_are_get_a_buffer_of_their_own() {
        // As when formatting a value logs a span under the global
        // subscriber (a scoped one, as in these tests, refuses to nest).
        let (mut inner, mut outer) = (String::new(), String::new());
        entries(
            |outer_entries| {
                outer_entries.json.extend_from_slice(b"\"a\":1");
                entries(
                    |inner_entries| inner_entries.json.extend_from_slice(b"\"b\":2"),
                    |text| {
                        inner.push_str(text);
                        Ok(())
                    },
                )
                .unwrap();
                outer_entries.json.extend_from_slice(b",\"c\":3");
            },
            |text| {
                outer.push_str(text);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            (inner.as_str(), outer.as_str()),
            ("\"b\":2", "\"a\":1,\"c\":3")
        );
    }

    #[test]
    fn a_span_is_logged_as_json_fields_logs_it() {
        let ours = logged_spans(AppendedJsonFields, recorded_twice);
        assert_eq!(ours, logged_spans(JsonFields::new(), recorded_twice));
        assert_eq!(
            ours,
            [serde_json::json!({
                "name": "delivery",
                "delivery_id": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
                "hook_id": 7,
                "type": "quoted \"name\"\n",
                "outcome": "verified",
                "status": 200,
                "ratio": -0.5,
                "signed": true,
                "detail": "[\"é\", \"\\u{1}\"]",
            })]
        );
    }

    #[test]
    fn a_span_without_values_at_its_creation_is_an_object_before_and_after_a_record() {
        let ours = logged_spans(AppendedJsonFields, empty_then_recorded);
        assert_eq!(ours, logged_spans(JsonFields::new(), empty_then_recorded));
        assert_eq!(
            ours,
            [
                serde_json::json!({"name": "job"}),
                serde_json::json!({"name": "job", "attempt": 2}),
            ]
        );
    }
}
