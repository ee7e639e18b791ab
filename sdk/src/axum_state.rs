//! [`WebhookState`], the ready-made router state of the common case: the
//! [`Receiver`] and the [`ExactlyOnce`] that the [`Delivery`](crate::Delivery)
//! and [`Once`](crate::Once) extractors take from the state, with their
//! `FromRef` impls, so that exactly-once is as short to write as `Delivery`.

use axum::extract::FromRef;

use crate::{ExactlyOnce, Receiver};

/// The router state for [`Delivery`](crate::Delivery),
/// [`DeliveryInfo`](crate::DeliveryInfo) and [`Once`](crate::Once): a
/// [`Receiver`] and an [`ExactlyOnce`]. Cloning it is cheap (both are
/// handles).
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use icr_webhooks::once::MemoryStore;
/// use icr_webhooks::{ExactlyOnce, Once, Receiver, WebhookState};
///
/// async fn webhook(Once(delivery, claim): Once) -> &'static str {
///     println!("{} {:?}", delivery.event.name(), delivery.event.action());
///     // Complete the claim once the work is done; dropping it unfinished
///     // lets ICR's redelivery process the delivery again.
///     let _ = claim.complete().await;
///     "ok"
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
/// // `SqliteStore::open(path).await?` or `PostgresStore` to survive restarts
/// // and to share the claims between replicas.
/// let once = ExactlyOnce::new(MemoryStore::new());
/// let app: Router = Router::new()
///     .route("/webhook", post(webhook))
///     .with_state(WebhookState::new(receiver, once));
/// # let _ = app;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct WebhookState {
    receiver: Receiver,
    once: ExactlyOnce,
}

impl WebhookState {
    /// The state of `receiver` and `once`.
    pub fn new(receiver: Receiver, once: ExactlyOnce) -> Self {
        Self { receiver, once }
    }

    /// The receiver.
    pub fn receiver(&self) -> &Receiver {
        &self.receiver
    }

    /// The exactly-once processing.
    pub fn once(&self) -> &ExactlyOnce {
        &self.once
    }
}

impl FromRef<WebhookState> for Receiver {
    fn from_ref(state: &WebhookState) -> Self {
        state.receiver.clone()
    }
}

impl FromRef<WebhookState> for ExactlyOnce {
    fn from_ref(state: &WebhookState) -> Self {
        state.once.clone()
    }
}
