//! What the extractors take from the router's state, as traits that name
//! the missing piece in the compile error ([`ReceiverState`],
//! [`OnceState`], [`InboxState`]), implemented for [`WebhookState`], the
//! ready-made state of the common case (the [`Receiver`] and the
//! [`ExactlyOnce`] together), and for the `Receiver` and the `Inbox`.

use std::sync::Arc;

use crate::glue::WebhookState;
use crate::once::{ExactlyOnce, Inbox};
use crate::receiver::Receiver;

/// A router state that holds the [`Receiver`] the
/// [`Delivery`](crate::Delivery) and
/// [`DeliveryInfo`](crate::receive::DeliveryInfo) extractors check with:
/// a `Receiver` itself, a [`WebhookState`], an [`Inbox`], an `Arc` of one,
/// or your own state with a one-line impl.
///
/// ```
/// use icr_webhooks::Receiver;
/// use icr_webhooks::axum::ReceiverState;
///
/// #[derive(Clone)]
/// struct App {
///     receiver: Receiver,
///     // ... the rest of your state
/// }
///
/// impl ReceiverState for App {
///     fn receiver(&self) -> &Receiver {
///         &self.receiver
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "the router's state `{Self}` has no `icr_webhooks::Receiver` for the webhook extractors",
    label = "the extractor needs a `Receiver` from this state",
    note = "use `WebhookState::new(receiver, once)` or the `Receiver` itself as the state (`.with_state(...)`), or implement `icr_webhooks::axum::ReceiverState` for `{Self}`"
)]
pub trait ReceiverState: Send + Sync {
    /// The receiver that checks each delivery.
    fn receiver(&self) -> &Receiver;
}

/// A router state that holds, beside its [`Receiver`], the
/// [`ExactlyOnce`] the [`OnceDelivery`](super::OnceDelivery) extractor
/// claims deliveries in: a [`WebhookState`], or your own state with an
/// impl of this trait and of [`ReceiverState`].
#[diagnostic::on_unimplemented(
    message = "the router's state `{Self}` has no `icr_webhooks::once::ExactlyOnce` for `OnceDelivery`",
    label = "`OnceDelivery` needs a `Receiver` and an `ExactlyOnce` from this state",
    note = "use `WebhookState::new(receiver, ExactlyOnce::new(store))` as the state, or implement `icr_webhooks::axum::OnceState` (and `ReceiverState`) for `{Self}`"
)]
pub trait OnceState: ReceiverState {
    /// The exactly-once processing deliveries are claimed in.
    fn exactly_once(&self) -> &ExactlyOnce;
}

/// A router state that holds the [`Inbox`] the
/// [`Enqueued`](super::Enqueued) extractor accepts deliveries into: the
/// `Inbox` itself, an `Arc` of one, or your own state with an impl.
#[diagnostic::on_unimplemented(
    message = "the router's state `{Self}` has no `icr_webhooks::once::Inbox` for `Enqueued`",
    label = "`Enqueued` needs an `Inbox` from this state",
    note = "use the `Inbox` itself as the state (`.with_state(inbox)`), or implement `icr_webhooks::axum::InboxState` for `{Self}`"
)]
pub trait InboxState: Send + Sync {
    /// The inbox deliveries are accepted into.
    fn inbox(&self) -> &Inbox;
}

impl ReceiverState for Receiver {
    fn receiver(&self) -> &Receiver {
        self
    }
}

impl ReceiverState for WebhookState {
    fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl OnceState for WebhookState {
    fn exactly_once(&self) -> &ExactlyOnce {
        &self.once
    }
}

impl ReceiverState for Inbox {
    fn receiver(&self) -> &Receiver {
        Inbox::receiver(self)
    }
}

impl InboxState for Inbox {
    fn inbox(&self) -> &Inbox {
        self
    }
}

impl<T: ReceiverState> ReceiverState for Arc<T> {
    fn receiver(&self) -> &Receiver {
        (**self).receiver()
    }
}

impl<T: OnceState> OnceState for Arc<T> {
    fn exactly_once(&self) -> &ExactlyOnce {
        (**self).exactly_once()
    }
}

impl<T: InboxState> InboxState for Arc<T> {
    fn inbox(&self) -> &Inbox {
        (**self).inbox()
    }
}
