//! Property tests of the order of the checks, of the extractors against
//! the receiver, and of a store under random operations.

use super::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn receive_follows_the_contract_order_exactly((headers, body, _) in delivery()) {
        let (signed, unsigned) = receivers();
        for (receiver, is_signed) in [(&signed, true), (&unsigned, false)] {
            let got = receiver.receive(&headers, body.clone()).map(|d| d.event);
            let want = expected(&headers, &body, is_signed);
            if let Err(error) = &got {
                typed(error);
            }
            prop_assert_eq!(&got, &want);
            // Every check but the parse, then the borrowed parse: the same
            // outcome.
            let borrowed = receiver
                .receive_unparsed(&headers, body.clone())
                .and_then(|info| info.parse_borrowed().map(icr_webhooks::Event::into_owned));
            prop_assert_eq!(borrowed, want);
            // The first two checks alone.
            let verified = receiver.verify_size_and_signature(&headers, &body);
            let want_verified = if body.len() as u64 > LIMIT {
                Err(ReceiveError::BodyTooLarge { limit: LIMIT })
            } else if is_signed {
                signature_check(&headers, &body)
            } else {
                Ok(())
            };
            prop_assert_eq!(verified, want_verified);
        }
        // Everything after the signature, on its own.
        let from_verified = Delivery::from_verified(&headers, body.clone()).map(|d| d.event);
        prop_assert_eq!(from_verified, after_signature(&headers, &body));
    }

    #[test]
    fn the_signature_alone_agrees_with_the_contract(value in value(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let (signed, _) = receivers();
        let headers = vec![(header::SIGNATURE_256.to_owned(), value.clone())];
        prop_assert_eq!(signed.verify_signature(Some(&value), &body), signature_check(&headers, &body));
        prop_assert_eq!(
            Signature::from_header(&value).is_ok(),
            !matches!(signature_check(&headers, &body), Err(ReceiveError::MalformedSignature))
        );
    }

    #[test]
    fn event_parsing_never_panics_and_round_trips(
        name in prop::sample::select(vec!["ping", "credit_transfer", "inventory", "project", "installation", "meta", "carbon_offset"]),
        body in any_body(),
    ) {
        let owned = Event::from_slice(name, &body);
        prop_assert_eq!(
            icr_webhooks::Event::from_slice_borrowed(name, &body).map(icr_webhooks::Event::into_owned),
            owned.clone()
        );
        match owned {
            Ok(event) => {
                prop_assert_eq!(event.name(), name);
                let written = serde_json::to_vec(&event).unwrap();
                prop_assert_eq!(Event::from_slice(name, &written).unwrap(), event);
            }
            Err(error) => typed(&ReceiveError::from(error)),
        }
    }
}

#[cfg(feature = "axum")]
mod over_axum {
    //! The axum extractors take the same arbitrary requests: each answer is
    //! the receiver's own, as a rejection with its status.

    use axum::body::Body;
    use axum::extract::FromRequest;
    use icr_webhooks::axum::{
        DeliveryRejection, OnceDelivery, OnceRejection, OnceState, ReceiverState,
    };
    use icr_webhooks::once::ExactlyOnce;

    use super::*;

    #[derive(Clone)]
    struct State {
        receiver: Receiver,
        once: ExactlyOnce,
    }

    impl ReceiverState for State {
        fn receiver(&self) -> &Receiver {
            &self.receiver
        }
    }

    impl OnceState for State {
        fn exactly_once(&self) -> &ExactlyOnce {
            &self.once
        }
    }

    /// The request, with the headers an `http::HeaderMap` can hold.
    fn to_request(
        headers: &[(String, Vec<u8>)],
        body: &[u8],
    ) -> (http::Request<Body>, http::HeaderMap) {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            // The extractor reads a `Content-Length` itself; `receive` does not.
            if name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                map.append(name, value);
            }
        }
        let mut request = http::Request::post("/webhook")
            .body(Body::from(body.to_vec()))
            .unwrap();
        *request.headers_mut() = map.clone();
        (request, map)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn the_extractors_answer_as_the_receiver_does((headers, body, _) in delivery()) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (signed, _) = receivers();
            let state = State { receiver: signed.clone(), once: ExactlyOnce::default() };
            let (request, map) = to_request(&headers, &body);
            let want = signed.receive(&map, body.clone()).map(|d| d.event);
            let got = runtime.block_on(Delivery::from_request(request, &state));
            match (&got, &want) {
                (Ok(delivery), Ok(event)) => prop_assert_eq!(&delivery.event, event),
                (Err(DeliveryRejection::Refused(error)), Err(expected)) => {
                    prop_assert_eq!(error, expected);
                }
                _ => prop_assert!(false, "extractor {got:?}, receiver {want:?}"),
            }
            // OnceDelivery: the same, then a second copy is done already.
            for copy in 0..2 {
                let (request, _) = to_request(&headers, &body);
                let once = runtime.block_on(OnceDelivery::from_request(request, &state));
                match (&once, &want, copy) {
                    (Ok(OnceDelivery::New(delivery, claim)), Ok(event), 0) => {
                        prop_assert_eq!(&delivery.event, event);
                        prop_assert_eq!(claim.id(), &delivery.info.id);
                    }
                    (Ok(OnceDelivery::Done(delivery)), Ok(event), 1) => {
                        prop_assert_eq!(&delivery.event, event);
                    }
                    (Err(OnceRejection::Refused(DeliveryRejection::Refused(error))), Err(expected), _) => {
                        prop_assert_eq!(error, expected);
                    }
                    _ => prop_assert!(false, "copy {copy}: {once:?}, receiver {want:?}"),
                }
                if let Ok(OnceDelivery::New(_, claim)) = once {
                    runtime.block_on(claim.complete()).unwrap();
                }
            }
        }
    }
}

/// One operation on a store.
#[derive(Debug, Clone)]
pub(super) enum Op {
    Claim(u8),
    Complete(u8),
    Abort(u8),
    Wait(u16),
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..12_u8).prop_map(Op::Claim),
        2 => (0..12_u8).prop_map(Op::Complete),
        1 => (0..12_u8).prop_map(Op::Abort),
        1 => (0..120_u16).prop_map(Op::Wait),
    ]
}

/// What the model knows of a GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Claimed under this token.
    Active(Token),
    /// Given back.
    Free,
    Done,
}

/// The store as its documentation states it: each GUID with its state and
/// the time and order it last changed; forgotten a window after that, the
/// oldest changed evicted beyond the capacity, but never a claim whose
/// lease holds.
#[derive(Default)]
pub(super) struct Model {
    entries: HashMap<u8, (Kind, u64, u64)>,
    touches: u64,
}

impl Model {
    /// Claims hold (their lease outlasts every window): never forgotten.
    fn expire(&mut self, now: u64, window: u64) {
        self.entries
            .retain(|_, (kind, at, _)| matches!(kind, Kind::Active(_)) || now - *at < window);
    }

    fn touch(&mut self, id: u8, kind: Kind, now: u64, capacity: usize) {
        self.touches += 1;
        self.entries.insert(id, (kind, now, self.touches));
        while self.entries.len() > capacity {
            let Some(oldest) = self
                .entries
                .iter()
                .filter(|(_, (kind, _, _))| !matches!(kind, Kind::Active(_)))
                .min_by_key(|(_, (_, _, touch))| *touch)
                .map(|(id, _)| *id)
            else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    fn active(&self) -> usize {
        self.entries
            .values()
            .filter(|(kind, _, _)| matches!(kind, Kind::Active(_)))
            .count()
    }

    fn kind(&self, id: u8) -> Option<Kind> {
        self.entries.get(&id).map(|(kind, _, _)| *kind)
    }
}

pub(super) fn key(id: u8) -> DeliveryKey {
    let guid: DeliveryId = format!("{id:08x}-0000-4000-8000-000000000000")
        .parse()
        .unwrap();
    DeliveryKey::new(Some(1), guid)
}

/// Longer than any window below: claims end by the window, not the lease.
pub(super) const LEASE: Duration = Duration::from_secs(10_000);

proptest! {
    #[test]
    fn the_memory_store_behaves_as_documented(
        ops in proptest::collection::vec(op(), 0..200),
        capacity in 1..8_usize,
        window in 1..200_u64,
    ) {
        let start = SystemTime::now();
        let now = Arc::new(Mutex::new(0_u64));
        let clock = Arc::clone(&now);
        let store = MemoryStore::builder()
            .capacity(capacity)
            .window(Duration::from_secs(window))
            .clock(Clock::from_fn(move || start + Duration::from_secs(*clock.lock().unwrap())))
            .build();
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let mut model = Model::default();
        for op in ops {
            let t = *now.lock().unwrap();
            match op {
                Op::Claim(id) => {
                    model.expire(t, window);
                    let begin = runtime.block_on(store.claim(&key(id), LEASE)).unwrap();
                    match (model.kind(id), begin) {
                        (Some(Kind::Done), Claimed::Done) => {}
                        (Some(Kind::Active(_)), Claimed::InProgress { expires: Some(_), .. }) => {}
                        (None | Some(Kind::Free), Claimed::New(lease)) => {
                            model.touch(id, Kind::Active(lease.token), t, capacity);
                        }
                        (want, got) => prop_assert!(false, "{op:?}: model {want:?}, store {got:?}"),
                    }
                }
                Op::Complete(id) => {
                    model.expire(t, window);
                    let done = match model.kind(id) {
                        Some(Kind::Active(token)) => {
                            prop_assert_eq!(runtime.block_on(store.complete(&key(id), token)).unwrap(), ());
                            true
                        }
                        _ => false,
                    };
                    if done {
                        model.touch(id, Kind::Done, t, capacity);
                    } else {
                        let stale = runtime.block_on(store.complete(&key(id), Token(u64::MAX)));
                        prop_assert!(matches!(stale, Err(StoreError::Fenced)), "{op:?}: {stale:?}");
                    }
                }
                Op::Abort(id) => {
                    model.expire(t, window);
                    match model.kind(id) {
                        Some(Kind::Active(token)) => {
                            prop_assert_eq!(runtime.block_on(store.abort(&key(id), token)).unwrap(), ());
                            model.touch(id, Kind::Free, t, capacity);
                        }
                        _ => {
                            let stale = runtime.block_on(store.abort(&key(id), Token(u64::MAX)));
                            prop_assert!(matches!(stale, Err(StoreError::Fenced)), "{op:?}: {stale:?}");
                        }
                    }
                }
                Op::Wait(seconds) => *now.lock().unwrap() += u64::from(seconds),
            }
            prop_assert_eq!(store.len(), model.entries.len());
            prop_assert!(store.len() <= capacity.max(model.active()));
        }
    }
}
