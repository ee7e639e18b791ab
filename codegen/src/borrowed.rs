//! The borrowed twins of the payload types: the same structs, unions and
//! `Event`, with `Text<'a>` (a slice of the body unless the JSON string had
//! an escape) where the owned types have `CompactString`, and `into_owned`
//! back to the owned types. Only types that hold a string, directly or
//! through a field, get a twin; the rest are re-exported as they are.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::emit::{event_enum, union};
use crate::model::Model;

/// The owned string type the typify pass leaves in fields.
const OWNED_STRING: &str = "CompactString";

/// The types that hold a string, directly or through a field or payload:
/// the ones that get a lifetime in the borrowed model.
#[derive(Debug, Clone, Default)]
pub struct Lifetimes(BTreeSet<String>);

impl Lifetimes {
    /// Finds them over the owned structs (as typify emitted them) and the
    /// model's unions, to a fixed point.
    pub fn of(model: &Model, structs: &[syn::ItemStruct]) -> Self {
        let mut found = BTreeSet::new();
        loop {
            let before = found.len();
            for item in structs {
                let mut names = Names::default();
                names.visit_item_struct(item);
                if names.0.contains(OWNED_STRING) || names.0.iter().any(|n| found.contains(n)) {
                    found.insert(item.ident.to_string());
                }
            }
            for union in model.unions.values() {
                if union.variants.iter().any(|v| found.contains(&v.payload)) {
                    found.insert(union.name.clone());
                }
            }
            if found.len() == before {
                return Self(found);
            }
        }
    }

    /// Whether `name` gets a lifetime.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// The type `name` in the borrowed model: `Name<'a>` or `Name`.
    pub fn ty(&self, name: &str) -> TokenStream {
        let ident = format_ident!("{}", name);
        if self.has(name) {
            quote! { #ident<'a> }
        } else {
            quote! { #ident }
        }
    }
}

/// Every identifier named in a type path, to tell what a struct refers to.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Visit<'_> for Names {
    fn visit_path_segment(&mut self, segment: &syn::PathSegment) {
        self.0.insert(segment.ident.to_string());
        syn::visit::visit_path_segment(self, segment);
    }
}

/// Retypes a struct's fields for the borrowed model.
struct Borrow<'l>(&'l Lifetimes);

impl VisitMut for Borrow<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(path) = ty {
            let text = quote!(#path).to_string().replace(' ', "");
            if text == "::icr_webhooks::CompactString" {
                *ty = syn::parse_quote!(::icr_webhooks::Text<'a>);
                return;
            }
            if path.qself.is_none() && path.path.segments.len() == 1 {
                if let Some(segment) = path.path.segments.first_mut() {
                    if segment.arguments.is_empty() && self.0.has(&segment.ident.to_string()) {
                        segment.arguments =
                            syn::PathArguments::AngleBracketed(syn::parse_quote!(<'a>));
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// The contents of `borrowed.rs`, from the owned structs typify emitted.
pub fn emit(model: &Model, items: &[syn::Item]) -> TokenStream {
    let structs: Vec<syn::ItemStruct> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let lifetimes = Lifetimes::of(model, &structs);
    let mut twins = Vec::new();
    let mut shared = Vec::new();
    for item in &structs {
        let name = item.ident.to_string();
        if lifetimes.has(&name) {
            twins.push(struct_twin(item, &lifetimes));
        } else {
            shared.push(name);
        }
    }
    let unions: Vec<TokenStream> = model
        .unions
        .values()
        .filter(|u| lifetimes.has(&u.name))
        .map(|u| union(u, Some(&lifetimes)))
        .collect();
    shared.extend(
        model
            .unions
            .keys()
            .filter(|name| !lifetimes.has(name))
            .cloned(),
    );
    shared.extend(model.enums.keys().cloned());
    shared.sort();
    let shared: Vec<_> = shared.iter().map(|n| format_ident!("{}", n)).collect();
    let reexport = if shared.is_empty() {
        quote! {}
    } else {
        quote! {
            #[allow(unused_imports)]
            pub use super::{#(#shared),*};
        }
    };
    let event = event_enum(model, Some(&lifetimes));
    quote! {
        #![doc = " Borrowed payload types: the typed model with [`Text`](::icr_webhooks::Text) in place of `CompactString`, pointing into the body instead of copying it (see [`Text`](::icr_webhooks::Text) for the strings that are copies). Types without text fields are the owned ones, re-exported; `into_owned` converts to the owned model."]
        #[allow(unused_imports)]
        use super::*;

        #reexport

        #(#twins)*
        #(#unions)*
        #event

        #(
            impl ::icr_webhooks::__private::IntoOwned for super::#shared {
                type Owned = Self;
                fn into_owned(self) -> Self {
                    self
                }
            }
        )*
    }
}

/// A struct's borrowed twin, with its `IntoOwned` conversion.
fn struct_twin(item: &syn::ItemStruct, lifetimes: &Lifetimes) -> TokenStream {
    let mut twin = item.clone();
    twin.generics = syn::parse_quote!(<'a>);
    twin.attrs
        .push(syn::parse_quote!(#[serde(bound(deserialize = "'de: 'a"))]));
    Borrow(lifetimes).visit_item_struct_mut(&mut twin);
    let name = &item.ident;
    let fields: Vec<&syn::Ident> = item
        .fields
        .iter()
        .filter_map(|field| field.ident.as_ref())
        .collect();
    quote! {
        #twin

        impl<'a> #name<'a> {
            /// The owned value, with every string copied out of the body.
            pub fn into_owned(self) -> super::#name {
                ::icr_webhooks::__private::IntoOwned::into_owned(self)
            }
        }

        impl<'a> ::icr_webhooks::__private::IntoOwned for #name<'a> {
            type Owned = super::#name;
            fn into_owned(self) -> super::#name {
                super::#name {
                    #( #fields: ::icr_webhooks::__private::IntoOwned::into_owned(self.#fields), )*
                }
            }
        }
    }
}
