//! [`open_enum!`](crate::__private::open_enum), the one definition of an
//! open string enumeration: the generated code lists the values and their
//! docs, and every enum gets the same behaviour from here (the known values,
//! `as_str`, `is_unknown`, an `Unknown` that keeps the string and writes it
//! back unchanged, conversions and serde).

/// Defines an open string enumeration from its values.
///
/// ```
/// icr_webhooks::__private::open_enum! {
///     /// How a credit came about.
///     pub enum Origin {
///         /// `removal`
///         Removal = "removal",
///         /// `avoidance`
///         Avoidance = "avoidance",
///     }
/// }
///
/// assert_eq!(Origin::from("removal"), Origin::Removal);
/// assert_eq!(Origin::from("storage").as_str(), "storage");
/// assert!(Origin::from("storage").is_unknown());
/// assert_eq!(Origin::KNOWN, ["removal", "avoidance"]);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $value:literal, )*
        }
    ) => {
        $(#[$meta])*
        ///
        /// Open: a value ICR adds later arrives as `Unknown`, keeping the string.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A value this version does not know, kept as received. Parsing
            /// never puts a known value here.
            Unknown(::std::string::String),
        }

        impl $name {
            /// The values this version knows, in schema order.
            pub const KNOWN: &'static [&'static str] = &[$($value),*];

            /// The value as it is on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }

            fn known(value: &str) -> ::std::option::Option<Self> {
                match value {
                    $( $value => ::std::option::Option::Some(Self::$variant), )*
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::known(value).unwrap_or_else(|| Self::Unknown(value.to_owned()))
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::known(&value).unwrap_or(Self::Unknown(value))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::convert::AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                $crate::__private::deserialize_open_enum(deserializer)
            }
        }
    };
}

/// Implements [`EventPayload`](crate::types::EventPayload) and `From<payload> for
/// Event` for a generated payload type: `whole` for the payload of a whole
/// event (`boxed` when `Event` holds it in a `Box`), `action` for the payload
/// of one action, boxed in its union.
#[doc(hidden)]
#[macro_export]
macro_rules! __event_payload {
    (whole $event:ident::$variant:ident($payload:ident), $name:literal) => {
        impl $crate::__private::EventPayload<$event> for $payload {
            const EVENT: &'static str = $name;
            const ACTION: ::std::option::Option<&'static str> = ::std::option::Option::None;
            fn from_event(event: $event) -> ::std::result::Result<Self, $event> {
                match event {
                    $event::$variant(inner) => Ok(inner),
                    other => Err(other),
                }
            }
        }
        impl ::std::convert::From<$payload> for $event {
            fn from(inner: $payload) -> Self {
                Self::$variant(inner)
            }
        }
    };
    (boxed $event:ident::$variant:ident($payload:ident), $name:literal) => {
        impl $crate::__private::EventPayload<$event> for $payload {
            const EVENT: &'static str = $name;
            const ACTION: ::std::option::Option<&'static str> = ::std::option::Option::None;
            fn from_event(event: $event) -> ::std::result::Result<Self, $event> {
                match event {
                    $event::$variant(inner) => Ok(*inner),
                    other => Err(other),
                }
            }
        }
        impl ::std::convert::From<$payload> for $event {
            fn from(inner: $payload) -> Self {
                Self::$variant(::std::boxed::Box::new(inner))
            }
        }
    };
    (action $event:ident::$variant:ident($union:ident::$action:ident($payload:ident)), $name:literal, $value:literal) => {
        impl $crate::__private::EventPayload<$event> for $payload {
            const EVENT: &'static str = $name;
            const ACTION: ::std::option::Option<&'static str> = ::std::option::Option::Some($value);
            fn from_event(event: $event) -> ::std::result::Result<Self, $event> {
                match event {
                    $event::$variant($union::$action(inner)) => Ok(*inner),
                    other => Err(other),
                }
            }
        }
        impl ::std::convert::From<$payload> for $event {
            fn from(inner: $payload) -> Self {
                Self::$variant($union::$action(::std::boxed::Box::new(inner)))
            }
        }
    };
}
