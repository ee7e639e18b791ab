//! `Event`: one variant per event, its parse, the catalogue and the
//! `EventPayload` impls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::common::{Generics, doc_attr};
use crate::generic::TextTypes;
use crate::model::Model;

/// `Event`: one variant per event, the parse that picks the type by the
/// event name and the catalogue; and, as text (one `event_payload!` line
/// per type), the `EventPayload` impls.
pub(super) fn event_enum(model: &Model, text: &TextTypes) -> (TokenStream, String) {
    let generic = model.events.iter().any(|e| text.has(&e.payload));
    let event = format_ident!("Event");
    let Generics {
        params,
        ty,
        plain,
        ser,
        ..
    } = Generics::of(&event, generic);
    let mut variants = Vec::new();
    let mut parse_arms = Vec::new();
    let mut name_arms = Vec::new();
    let mut action_arms = Vec::new();
    let mut known_arms = Vec::new();
    let mut serialize_arms = Vec::new();
    let mut owned_arms = Vec::new();
    let mut specs = Vec::new();
    let mut payload_impls = String::new();
    for item in &model.events {
        let ident = format_ident!("{}", item.ident);
        let payload = format_ident!("{}", item.payload);
        let payload_ty = text.ty(&item.payload);
        let wire = &item.name;
        let doc = doc_attr(item.doc.as_deref());
        let description = item.doc.clone().unwrap_or_default();
        let convert = if text.has(&item.payload) {
            quote! { ::icr_webhooks::__private::IntoOwned::into_owned(inner) }
        } else {
            quote! { inner }
        };
        owned_arms.push(quote! { Self::#ident(inner) => Event::#ident(#convert), });
        name_arms.push(quote! { Self::#ident(_) => #wire, });
        let union = model.unions.get(&item.payload).filter(|_| item.has_actions);
        if let Some(union) = union {
            let actions = union.variants.iter().map(|v| &v.value);
            variants.push(quote! { #doc #ident(#payload_ty), });
            parse_arms.push(quote! {
                #wire => ::icr_webhooks::__private::parse_tagged::<#payload_ty>(json, #wire).map(Self::#ident),
            });
            action_arms.push(quote! { Self::#ident(inner) => Some(inner.action()), });
            known_arms.push(quote! { Self::#ident(inner) => !inner.is_unknown(), });
            serialize_arms.push(
                quote! { Self::#ident(inner) => ::serde::Serialize::serialize(inner, serializer), },
            );
            specs.push(
                quote! { ::icr_webhooks::__private::event_spec(#wire, &[#(#actions),*], #description), },
            );
            payload_impls.push_str(&format!(
                "::icr_webhooks::__private::event_payload!(whole Event::{ident}({payload}), {wire:?});\n"
            ));
            for variant in &union.variants {
                let (action_ident, action_payload, action) =
                    (&variant.ident, &variant.payload, &variant.value);
                payload_impls.push_str(&format!(
                    "::icr_webhooks::__private::event_payload!(action Event::{ident}({payload}::{action_ident}({action_payload})), {wire:?}, {action:?});\n"
                ));
            }
        } else {
            variants.push(quote! { #doc #ident(::std::boxed::Box<#payload_ty>), });
            parse_arms.push(quote! {
                #wire => ::icr_webhooks::__private::parse::<#payload_ty>(json, #wire, None).map(|v| Self::#ident(::std::boxed::Box::new(v))),
            });
            action_arms.push(quote! { Self::#ident(_) => None, });
            known_arms.push(quote! { Self::#ident(_) => true, });
            serialize_arms.push(quote! { Self::#ident(inner) => ::serde::Serialize::serialize(&**inner, serializer), });
            specs.push(quote! { ::icr_webhooks::__private::event_spec(#wire, &[], #description), });
            payload_impls.push_str(&format!(
                "::icr_webhooks::__private::event_payload!(boxed Event::{ident}({payload}), {wire:?});\n"
            ));
        }
    }
    let parse_impl = if generic {
        quote! { impl<'a, S: ::serde::Deserialize<'a>> Event<S> }
    } else {
        quote! { impl Event }
    };
    let parse_input = if generic {
        quote! { &'a [u8] }
    } else {
        quote! { &[u8] }
    };
    let borrowed = generic.then(|| {
        quote! {
            impl<'a> Event<::icr_webhooks::__private::Text<'a>> {
                /// [`from_slice`](Event::from_slice), borrowing the strings
                /// from `json` (see [`Text`](::icr_webhooks::__private::Text)).
                ///
                /// # Errors
                /// As [`from_slice`](Event::from_slice).
                pub fn from_slice_borrowed(event: &str, json: &'a [u8]) -> ::std::result::Result<Self, ::icr_webhooks::__private::ParseError> {
                    Self::parse(event, json)
                }

                /// The owned event, with every string copied out of the body.
                pub fn into_owned(self) -> Event {
                    ::icr_webhooks::__private::IntoOwned::into_owned(self)
                }
            }

            impl<'a> ::icr_webhooks::__private::IntoOwned for Event<::icr_webhooks::__private::Text<'a>> {
                type Owned = Event;
                fn into_owned(self) -> Event {
                    match self {
                        #(#owned_arms)*
                        Self::Unknown { event, raw } => Event::Unknown { event, raw },
                    }
                }
            }
        }
    });
    let tokens = quote! {
        /// The bundled JSON Schema of every payload (draft-07, every `$ref`
        /// internal): `definitions` holds each type, `x-icr-events` maps each
        /// event name to its payload schema.
        pub const SCHEMA_JSON: &str = include_str!("schema.json");

        /// Every event this version knows, sorted by name, with its actions.
        pub const CATALOGUE: &[::icr_webhooks::__private::EventSpec] = &[#(#specs)*];

        /// One webhook payload, typed by its `X-ICR-Event` name and, for
        /// events with actions, by its `action`.
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum Event #params {
            #(#variants)*
            /// An event this version does not know, with its whole JSON object.
            Unknown {
                /// The `X-ICR-Event` name.
                event: ::std::string::String,
                /// The whole JSON object.
                raw: ::std::boxed::Box<::serde_json::Value>,
            },
        }

        #plain #ty {
            /// The event name, as in `X-ICR-Event`.
            pub fn name(&self) -> &str {
                match self {
                    #(#name_arms)*
                    Self::Unknown { event, .. } => event.as_str(),
                }
            }

            /// The `action`, for events that have actions.
            pub fn action(&self) -> ::std::option::Option<&str> {
                match self {
                    #(#action_arms)*
                    Self::Unknown { raw, .. } => raw.get("action").and_then(::serde_json::Value::as_str),
                }
            }

            /// Whether both the event and its action are ones this version knows.
            pub fn is_known(&self) -> bool {
                match self {
                    #(#known_arms)*
                    Self::Unknown { .. } => false,
                }
            }
        }

        #parse_impl {
            fn parse(event: &str, json: #parse_input) -> ::std::result::Result<Self, ::icr_webhooks::__private::ParseError> {
                match event {
                    #(#parse_arms)*
                    _ => Ok(Self::Unknown {
                        event: event.to_owned(),
                        raw: ::std::boxed::Box::new(::icr_webhooks::__private::parse_object(json)?),
                    }),
                }
            }
        }

        impl Event {
            /// Parses a payload, picking its type by the event name (the
            /// `X-ICR-Event` header) and then by its `action`; never by
            /// trying types in turn.
            ///
            /// # Errors
            /// [`ParseError`](::icr_webhooks::__private::ParseError) when the bytes are
            /// not a JSON object or do not fit the type of a known event and
            /// action. Unknown events and actions are not errors.
            pub fn from_slice(event: &str, json: &[u8]) -> ::std::result::Result<Self, ::icr_webhooks::__private::ParseError> {
                Self::parse(event, json)
            }
        }

        #borrowed

        #ser ::serde::Serialize for #ty {
            /// Serializes the payload alone (the event name is not part of it).
            fn serialize<Ser: ::serde::Serializer>(&self, serializer: Ser) -> ::std::result::Result<Ser::Ok, Ser::Error> {
                match self {
                    #(#serialize_arms)*
                    Self::Unknown { raw, .. } => ::serde::Serialize::serialize(&**raw, serializer),
                }
            }
        }

    };
    (tokens, payload_impls)
}
