//! What the union and event emitters share: doc attributes and an enum's
//! generic string parameter.

use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn doc_attr(doc: Option<&str>) -> TokenStream {
    match doc {
        Some(text) => {
            let lines = text.lines().map(|line| format!(" {line}"));
            quote! { #( #[doc = #lines] )* }
        }
        None => quote! {},
    }
}

/// How a generated enum names itself: with the parameter `S` when it holds
/// a string, bare otherwise.
pub(super) struct Generics {
    /// The definition's parameter list.
    pub(super) params: TokenStream,
    /// The type inside generic impls (`Name<S>` or `Name`).
    pub(super) ty: TokenStream,
    /// `impl<S>` or `impl`.
    pub(super) plain: TokenStream,
    /// `impl<S: Serialize>` or `impl`.
    pub(super) ser: TokenStream,
    /// `impl<'de, S: Deserialize<'de>>` or `impl<'de>`.
    pub(super) de: TokenStream,
}

impl Generics {
    pub(super) fn of(name: &syn::Ident, generic: bool) -> Self {
        if generic {
            Self {
                params: quote! { <S = ::icr_webhooks::__private::CompactString> },
                ty: quote! { #name<S> },
                plain: quote! { impl<S> },
                ser: quote! { impl<S: ::serde::Serialize> },
                de: quote! { impl<'de, S: ::serde::Deserialize<'de>> },
            }
        } else {
            Self {
                params: quote! {},
                ty: quote! { #name },
                plain: quote! { impl },
                ser: quote! { impl },
                de: quote! { impl<'de> },
            }
        }
    }
}
