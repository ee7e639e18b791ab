//! End-to-end tests across the crates: the schemas, the examples and the
//! generated model, one binary with a module per concern.

mod model;
mod schema;
