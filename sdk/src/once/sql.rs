//! What the SQLite and PostgreSQL stores share: the version of their
//! tables, how headers are written, and how a row is read back.

use std::time::SystemTime;

use super::{DeliveryKey, ListFilter, Record, State, StoreError, StoredDelivery, from_millis};
use crate::headers::DeliveryId;

/// The version of the tables this crate creates and reads. A database at a
/// newer version is refused ([`StoreError::SchemaTooNew`]); an older one is
/// migrated when the store opens.
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// The headers of a stored delivery as JSON: `[["name","value"],…]`.
pub(crate) fn headers_json(headers: &[(String, String)]) -> Result<String, StoreError> {
    serde_json::to_string(headers).map_err(StoreError::backend)
}

/// The headers back from their JSON.
pub(crate) fn headers_from_json(json: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(json).map_err(StoreError::backend)
}

/// A state read from its column.
pub(crate) fn state_of(name: &str) -> Result<State, StoreError> {
    State::from_name(name).ok_or_else(|| {
        StoreError::backend(std::io::Error::other(format!(
            "unknown delivery state `{name}` in the store"
        )))
    })
}

/// A GUID read from its column (written by this crate, so hyphenated and
/// lower case).
pub(crate) fn guid_of(text: &str) -> Result<DeliveryId, StoreError> {
    text.parse::<DeliveryId>().map_err(StoreError::backend)
}

/// The columns of a row as read, before they become a [`Record`].
pub(crate) struct RowColumns {
    pub(crate) hook_id: i64,
    pub(crate) guid: String,
    pub(crate) state: String,
    pub(crate) due: i64,
    pub(crate) attempts: i64,
    pub(crate) updated_at: i64,
    pub(crate) received_at: Option<i64>,
    pub(crate) last_error: Option<String>,
    pub(crate) body_len: Option<i64>,
}

impl RowColumns {
    /// The record these columns describe.
    pub(crate) fn record(self) -> Result<Record, StoreError> {
        let state = state_of(&self.state)?;
        Ok(Record {
            key: key_of(self.hook_id, &self.guid)?,
            state,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            received_at: self.received_at.map(from_millis),
            updated_at: from_millis(self.updated_at),
            due: matches!(state, State::Pending | State::Active).then(|| from_millis(self.due)),
            last_error: self.last_error,
            body_len: self.body_len.and_then(|len| u64::try_from(len).ok()),
        })
    }
}

/// A key read from its columns.
pub(crate) fn key_of(hook_id: i64, guid: &str) -> Result<DeliveryKey, StoreError> {
    Ok(DeliveryKey {
        hook_id: u64::from_ne_bytes(hook_id.to_ne_bytes()),
        id: guid_of(guid)?,
    })
}

/// A hook ID as the databases store it (a signed 64-bit integer, the same
/// bits).
pub(crate) fn hook_column(key: &DeliveryKey) -> Result<i64, StoreError> {
    // The same 64 bits: hook IDs from 2^63 on are stored as negative numbers.
    Ok(i64::from_ne_bytes(key.hook_id.to_ne_bytes()))
}

/// A stored delivery read from its columns.
pub(crate) fn stored_of(
    key: DeliveryKey,
    headers: &str,
    body: Vec<u8>,
    received_at: i64,
) -> Result<StoredDelivery, StoreError> {
    Ok(StoredDelivery {
        key,
        headers: headers_from_json(headers)?,
        body: body.into(),
        received_at: from_millis(received_at),
    })
}

/// The `WHERE` condition of a list filter, over the columns `state` and
/// `attempts`.
pub(crate) fn filter_condition(filter: ListFilter) -> String {
    match filter {
        ListFilter::All => "TRUE".to_owned(),
        ListFilter::State(state) => format!("state = '{}'", state.as_str()),
        ListFilter::Failed => "state = 'pending' AND attempts > 0".to_owned(),
    }
}

/// A time as milliseconds, for a column.
pub(crate) fn millis(time: SystemTime) -> i64 {
    super::to_millis(time)
}
