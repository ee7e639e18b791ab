//! Unit tests of the memory store's internals: the GUID as a number, the
//! bounded order queue, and `Debug`.

use super::rows::{guid_number, guid_text};
use super::*;
use crate::headers::DeliveryId;
use crate::once::{Claimed, DeliveryStore};

#[test]
fn the_guid_is_kept_as_its_number_and_written_back_in_lower_case() {
    let upper: DeliveryId = "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C".parse().unwrap();
    assert_eq!(
        guid_number(&upper),
        0x9b2e_4c1a_0f3d_4e5b_8a7c_6d1e_2f3a_4b5c
    );
    assert_eq!(
        guid_text(guid_number(&upper)).as_str(),
        "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"
    );
}

#[test]
fn the_order_queue_stays_bounded_under_churn() {
    let store = MemoryStore::builder().capacity(10).build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for round in 0..10_000_u32 {
            let key = DeliveryKey::new(
                None,
                format!("{:08x}-0000-4000-8000-000000000000", round % 5)
                    .parse()
                    .unwrap(),
            );
            let Claimed::New(lease) = store.claim(&key, Duration::from_secs(60)).await.unwrap()
            else {
                panic!("not new");
            };
            store.abort(&key, lease.token).await.unwrap();
        }
    });
    let rows = store.lock();
    assert!(rows.order.len() <= 2 * rows.rows.len() + 65);
}

#[test]
fn debug_shows_no_keys() {
    let store = MemoryStore::new();
    assert_eq!(
        format!("{store:?}"),
        "MemoryStore { len: 0, window: 259200s, capacity: 1000000 }"
    );
}
