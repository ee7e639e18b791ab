//! Routing deliveries to handlers by event and action: each handler is
//! registered for one payload type ([`EventPayload`]), found by a map lookup
//! on the typed event's name and action, and handed that type.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use crate::BoxError;
use crate::delivery::{Delivery, DeliveryInfo};
use crate::types::Event;
use crate::types::EventPayload;

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// A handler with its payload type erased: `None` when the event is not of
/// its type (which the lookup rules out).
type Erased = Box<dyn Fn(DeliveryInfo, Event) -> Option<BoxFuture> + Send + Sync + 'static>;

/// What [`Router::dispatch`] did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// A handler (or the fallback) ran and succeeded.
    Handled,
    /// No handler is registered for the event and action, and there is no
    /// fallback: the delivery is acknowledged and skipped.
    Skipped,
}

/// Routes each delivery to the handler registered for its event and action.
///
/// A handler is an async function of the [`DeliveryInfo`] and one payload
/// type: a type for one action (`CreditTransferCompleted`) or for a whole
/// event (`CreditTransferEvent`, every action including unknown ones;
/// `PingEvent`). The type says what it handles, through [`EventPayload`],
/// and the handler receives it already taken out of the [`Event`].
///
/// For a delivery, the handler of its exact event and action runs if there
/// is one, else the handler of its whole event, else the
/// [`fallback`](Self::fallback), else nothing: it is
/// [skipped](Outcome::Skipped). Lookups are map lookups on the already typed
/// event; nothing is parsed twice.
///
/// ```
/// use icr_webhooks::types::{CreditTransferCompleted, InventoryEvent, PingEvent};
/// use icr_webhooks::receive::DeliveryInfo;
/// use icr_webhooks::router::Router;
///
/// let router = Router::new()
///     .on(|info: DeliveryInfo, completed: CreditTransferCompleted| async move {
///         println!("{}: transfer {} completed", info.id, completed.transfer.id);
///         Ok(())
///     })
///     .on(|_, inventory: InventoryEvent| async move {
///         println!("inventory {}", inventory.action());
///         Ok(())
///     })
///     .on(|_, ping: PingEvent| async move {
///         println!("ping: {}", ping.zen);
///         Ok(())
///     });
/// assert!(router.handles("credit_transfer", Some("completed")));
/// assert!(router.handles("inventory", Some("renamed")));
/// assert!(!router.handles("credit_transfer", Some("created")));
/// ```
///
/// Then, for each [`Delivery`]: `router.dispatch(delivery).await?`, which
/// gives an [`Outcome`].
#[derive(Default)]
#[must_use]
pub struct Router {
    events: HashMap<&'static str, Routes>,
    fallback: Option<Erased>,
}

#[derive(Default)]
struct Routes {
    actions: HashMap<&'static str, Erased>,
    whole: Option<Erased>,
}

impl Router {
    /// A router with no handler: every delivery is skipped.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for the payload type `T`: one action of an event
    /// when `T::ACTION` is `Some`, the whole event when it is `None`. A
    /// handler registered earlier for the same type is replaced.
    ///
    /// The type is usually given on the closure's second argument
    /// (`|info, done: CreditTransferCompleted| async move { … }`).
    pub fn on<T, F, Fut>(mut self, handler: F) -> Self
    where
        T: EventPayload + 'static,
        F: Fn(DeliveryInfo, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let erased: Erased = Box::new(move |info, event| match T::from_event(event) {
            Ok(payload) => Some(Box::pin(handler(info, payload)) as BoxFuture),
            Err(_) => None,
        });
        let routes = self.events.entry(T::EVENT).or_default();
        match T::ACTION {
            Some(action) => {
                routes.actions.insert(action, erased);
            }
            None => routes.whole = Some(erased),
        }
        self
    }

    /// Registers the handler for every delivery no other handler takes,
    /// unknown events included. Without one, those deliveries are skipped.
    pub fn fallback<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(DeliveryInfo, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.fallback = Some(Box::new(move |info, event| {
            Some(Box::pin(handler(info, event)) as BoxFuture)
        }));
        self
    }

    /// Whether a handler (other than the fallback) is registered for this
    /// event and action.
    pub fn handles(&self, event: &str, action: Option<&str>) -> bool {
        self.find(event, action).is_some()
    }

    fn find(&self, event: &str, action: Option<&str>) -> Option<&Erased> {
        let routes = self.events.get(event)?;
        action
            .and_then(|action| routes.actions.get(action))
            .or(routes.whole.as_ref())
    }

    /// Runs the handler for the delivery's event and action.
    ///
    /// The handler is chosen now; the returned future owns everything it
    /// needs (it does not borrow the router), so it can be spawned.
    ///
    /// # Errors
    /// The handler's error, as it returned it.
    pub fn dispatch(
        &self,
        delivery: Delivery,
    ) -> impl Future<Output = Result<Outcome, BoxError>> + Send + 'static {
        let (info, event) = delivery.into_parts();
        let handler = self
            .find(event.name(), event.action())
            .or(self.fallback.as_ref());
        let future = handler.and_then(|handler| handler(info, event));
        async move {
            match future {
                Some(future) => future.await.map(|()| Outcome::Handled),
                None => Ok(Outcome::Skipped),
            }
        }
    }
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<String> = self
            .events
            .iter()
            .flat_map(|(event, routes)| {
                let actions = routes
                    .actions
                    .keys()
                    .map(move |action| crate::contract::EventKey::join(event, Some(action)));
                let whole = routes.whole.as_ref().map(|_| (*event).to_owned());
                actions.chain(whole)
            })
            .collect();
        keys.sort();
        f.debug_struct("Router")
            .field("routes", &keys)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}
