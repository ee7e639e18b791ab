//! With the `tracing` and `metrics` features: the spans and events of a
//! good delivery and of each way one is refused, with their exact fields;
//! a recognisable secret and body never in anything recorded, at any
//! level; the counters after known counts per outcome; 10,000 random
//! unknown event names adding one label value; the same span on axum,
//! actix-web and the tower layer; the inbox workers' job
//! spans, counters and gauges. Each test installs its subscriber and
//! recorder on its own thread and runs its server there (a current-thread
//! runtime), so tests running side by side do not see each other's.

mod capture;
mod frameworks;
mod jobs;
mod metrics;
mod recorder;
mod server;
mod spans;
