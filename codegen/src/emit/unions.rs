//! The tagged unions: each enum with its tag, serde both ways and
//! `IntoOwned`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::emit::common::{Generics, doc_attr};
use crate::generic::TextTypes;
use crate::model::Union;

/// "A" or "An", for a word in a doc sentence.
fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "An"
    } else {
        "A"
    }
}

/// A tagged union: the enum, its tag, serde both ways (dispatching on the
/// tag while streaming), and when it holds strings `IntoOwned`.
pub(super) fn union(item: &Union, text: &TextTypes) -> TokenStream {
    let name = format_ident!("{}", item.name);
    let generic = text.has(&item.name);
    let Generics {
        params,
        ty,
        plain,
        ser,
        de,
    } = Generics::of(&name, generic);
    let doc = doc_attr(item.doc.as_deref());
    let tag = &item.tag;
    let tag_ident = format_ident!("{}", item.tag);
    let idents: Vec<_> = item
        .variants
        .iter()
        .map(|v| format_ident!("{}", v.ident))
        .collect();
    let payloads: Vec<TokenStream> = item.variants.iter().map(|v| text.ty(&v.payload)).collect();
    let values: Vec<&String> = item.variants.iter().map(|v| &v.value).collect();
    let variant_docs = item.variants.iter().map(|v| doc_attr(v.doc.as_deref()));
    let expecting = format!("a `{}` object told apart by `{tag}`", item.name);
    let unknown_doc = format!(
        " {} `{tag}` this version does not know, with the whole JSON object (the `{tag}` included).",
        article(tag)
    );
    let (fields, unwrap, build): (Vec<TokenStream>, TokenStream, Vec<TokenStream>) = if item.boxed {
        (
            payloads
                .iter()
                .map(|p| quote! { ::std::boxed::Box<#p> })
                .collect(),
            quote! { &** },
            idents
                .iter()
                .map(|i| quote! { |v| Self::#i(::std::boxed::Box::new(v)) })
                .collect(),
        )
    } else {
        (
            payloads.clone(),
            quote! {},
            idents.iter().map(|i| quote! { Self::#i }).collect(),
        )
    };
    let (from_slice, from_slice_borrowed) = match &item.event {
        Some(event) => (
            quote! {
                /// Parses a payload of this event from its JSON bytes in one
                /// streaming pass: the `action` picks the one type the rest of
                /// the object is parsed into (when `action` is not the first key,
                /// only the keys before it are held).
                ///
                /// # Errors
                /// [`ParseError`](::icr_webhooks::__private::ParseError) when the bytes are
                /// not a JSON object, lack a string `action`, or do not fit the
                /// type of a known action.
                pub fn from_slice(json: &[u8]) -> ::std::result::Result<Self, ::icr_webhooks::__private::ParseError> {
                    ::icr_webhooks::__private::parse_tagged::<Self>(json, #event)
                }
            },
            generic.then(|| quote! {
                impl<'a> #name<::icr_webhooks::__private::Text<'a>> {
                    /// [`from_slice`](#name::from_slice), borrowing the strings from `json`.
                    ///
                    /// # Errors
                    /// As [`from_slice`](#name::from_slice).
                    pub fn from_slice_borrowed(json: &'a [u8]) -> ::std::result::Result<Self, ::icr_webhooks::__private::ParseError> {
                        ::icr_webhooks::__private::parse_tagged::<Self>(json, #event)
                    }
                }
            }),
        ),
        None => (quote! {}, None),
    };
    let into_owned = generic.then(|| {
        let arms = item.variants.iter().zip(&idents).map(|(variant, ident)| {
            if text.has(&variant.payload) {
                quote! { Self::#ident(v) => #name::#ident(::icr_webhooks::__private::IntoOwned::into_owned(v)), }
            } else {
                quote! { Self::#ident(v) => #name::#ident(v), }
            }
        });
        quote! {
            impl<'a> ::icr_webhooks::__private::IntoOwned for #name<::icr_webhooks::__private::Text<'a>> {
                type Owned = #name;
                fn into_owned(self) -> #name {
                    match self {
                        #(#arms)*
                        Self::Unknown { #tag_ident, raw } => #name::Unknown { #tag_ident, raw },
                    }
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq)]
        #[non_exhaustive]
        pub enum #name #params {
            #( #variant_docs #idents(#fields), )*
            #[doc = #unknown_doc]
            Unknown {
                /// The tag's value.
                #tag_ident: ::std::string::String,
                /// The whole JSON object.
                raw: ::std::boxed::Box<::serde_json::Value>,
            },
        }

        #plain #ty {
            /// The tag's value, as on the wire.
            pub fn #tag_ident(&self) -> &str {
                match self {
                    #( Self::#idents(_) => #values, )*
                    Self::Unknown { #tag_ident, .. } => #tag_ident.as_str(),
                }
            }

            /// Whether the tag is one this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown { .. })
            }
        }

        impl #name {
            /// The tag values this version knows, in schema order.
            pub const KNOWN: &'static [&'static str] = &[#(#values),*];

            /// Builds the value from parsed JSON, dispatching on the tag.
            ///
            /// # Errors
            /// When the value is not an object, has no string tag, or does
            /// not fit the type of a known tag.
            pub fn from_value(value: ::serde_json::Value) -> ::std::result::Result<Self, ::serde_json::Error> {
                <Self as ::serde::Deserialize>::deserialize(value)
            }

            #from_slice
        }

        #from_slice_borrowed

        #ser ::serde::Serialize for #ty {
            fn serialize<Ser: ::serde::Serializer>(&self, serializer: Ser) -> ::std::result::Result<Ser::Ok, Ser::Error> {
                match self {
                    #( Self::#idents(v) => ::icr_webhooks::__private::serialize_tagged(#unwrap v, #tag, #values, serializer), )*
                    Self::Unknown { raw, .. } => ::serde::Serialize::serialize(&**raw, serializer),
                }
            }
        }

        #de ::icr_webhooks::__private::TaggedUnion<'de> for #ty {
            const TAG: &'static str = #tag;
            const EXPECTING: &'static str = #expecting;

            fn is_known(tag: &str) -> bool {
                matches!(tag, #(#values)|*)
            }

            fn known<A: ::serde::de::MapAccess<'de>>(tag: &str, map: A) -> ::std::result::Result<Self, A::Error> {
                let rest = ::serde::de::value::MapAccessDeserializer::new(map);
                match tag {
                    #( #values => <#payloads as ::serde::Deserialize>::deserialize(rest).map(#build), )*
                    other => Err(<A::Error as ::serde::de::Error>::unknown_variant(other, &[#(#values),*])),
                }
            }

            fn unknown(tag: ::std::string::String, raw: ::serde_json::Value) -> Self {
                Self::Unknown { #tag_ident: tag, raw: ::std::boxed::Box::new(raw) }
            }
        }

        #de ::serde::Deserialize<'de> for #ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                ::icr_webhooks::__private::deserialize_tagged(deserializer)
            }
        }

        #into_owned
    }
}
