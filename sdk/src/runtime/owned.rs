//! [`IntoOwned`]: from a payload that borrows from the body to the same
//! payload owning its strings.

use compact_str::CompactString;

use super::text::Text;

/// Converts a payload that borrows its strings from the body (`T<Text<'a>>`)
/// into the same payload owning them (`T`, whose string type is
/// [`CompactString`]).
///
/// Every generated type that holds a string implements it, as do `Event`
/// (which also has an inherent `into_owned`) and the containers of the
/// model. Strings of up to 24 bytes are copied inline; longer ones are
/// allocated once, as the owned parse would.
///
/// ```
/// use icr_webhooks::types::User;
/// use icr_webhooks::types::{IntoOwned, Text};
///
/// let json = r#"{"id":7,"node_id":"U_7","login":"mika","name":null,"type":"User","url":"https://icr.example/mika"}"#;
/// let borrowed: User<Text<'_>> = serde_json::from_str(json)?;
/// assert!(borrowed.login.is_borrowed());
/// let owned: User = borrowed.into_owned();
/// assert_eq!(owned.login, "mika");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait IntoOwned {
    /// The owned type.
    type Owned;
    /// Converts, copying the strings that borrow from the body.
    fn into_owned(self) -> Self::Owned;
}

impl IntoOwned for Text<'_> {
    type Owned = CompactString;
    fn into_owned(self) -> CompactString {
        self.into_compact()
    }
}

/// Map keys stay `CompactString` in both forms of the model.
impl IntoOwned for CompactString {
    type Owned = Self;
    fn into_owned(self) -> Self {
        self
    }
}

impl<T: IntoOwned> IntoOwned for Option<T> {
    type Owned = Option<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.map(T::into_owned)
    }
}

impl<T: IntoOwned> IntoOwned for Vec<T> {
    type Owned = Vec<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.into_iter().map(T::into_owned).collect()
    }
}

impl<T: IntoOwned> IntoOwned for Box<T> {
    type Owned = Box<T::Owned>;
    fn into_owned(self) -> Self::Owned {
        Box::new((*self).into_owned())
    }
}

impl<K: IntoOwned, V: IntoOwned> IntoOwned for std::collections::BTreeMap<K, V>
where
    K::Owned: Ord,
{
    type Owned = std::collections::BTreeMap<K::Owned, V::Owned>;
    fn into_owned(self) -> Self::Owned {
        self.into_iter()
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect()
    }
}
