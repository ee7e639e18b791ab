//! An ICR webhook receiver on AWS Lambda (behind API Gateway or a Function
//! URL): `lambda_http::run` serves the tower service of `service.rs`.
//!
//! ```text
//! cd sdk/examples/lambda_receiver && cargo lambda build --release
//! ```
//!
//! The secret comes from `ICR_WEBHOOK_SECRET`. Each invocation is one
//! delivery: refused by the layer with the contract's status, or answered
//! by the handler, which prints one JSON line (CloudWatch). Lambda ends an
//! invocation with its answer, so there is nothing to shut down; a store
//! (`ExactlyOnce`, an `Inbox`) must be a database the functions share.

mod service;

use icr_webhooks::Receiver;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let secret = std::env::var("ICR_WEBHOOK_SECRET")
        .map_err(|_| "ICR_WEBHOOK_SECRET must hold the webhook secret")?;
    let receiver = Receiver::new(secret)?;
    lambda_http::run(service::service::<lambda_http::Body>(receiver)).await
}
