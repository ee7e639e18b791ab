//! The string type of the one payload model. A generated type that holds a
//! string, directly or through a field or a variant, takes a type parameter
//! `S` for it: `S = CompactString` (the default) is the owned model, `S =
//! Text<'a>` the same type borrowing from the body. Types without a string
//! take no parameter and serve both. Here: which types hold a string, the
//! retyping of typify's structs, and their `IntoOwned` from borrowed to
//! owned.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use crate::model::Model;

/// The owned string type the typify pass leaves in fields.
const OWNED_STRING: &str = "CompactString";

/// The types that hold a string: the ones generic over `S`.
#[derive(Debug, Clone, Default)]
pub struct TextTypes(BTreeSet<String>);

impl TextTypes {
    /// Finds them over the structs (as typify emitted them, strings as
    /// `CompactString`) and the model's unions, to a fixed point. A map key
    /// is not a string of the model (keys stay `CompactString`).
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

    /// Whether `name` is generic over `S`.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Whether any type is.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// The type `name` inside generic code: `Name<S>` or `Name`.
    pub fn ty(&self, name: &str) -> TokenStream {
        let ident = format_ident!("{}", name);
        if self.has(name) {
            quote! { #ident<S> }
        } else {
            quote! { #ident }
        }
    }

    /// Makes typify's struct generic over `S` when it holds a string.
    pub fn retype(&self, item: &mut syn::ItemStruct) {
        if !self.has(&item.ident.to_string()) {
            return;
        }
        Retype(self).visit_item_struct_mut(item);
        item.generics = syn::parse_quote!(<S = ::icr_webhooks::__private::CompactString>);
        // serde infers no bound from a field with `deserialize_with`.
        item.attrs
            .push(syn::parse_quote!(#[serde(bound(deserialize = "S: ::serde::Deserialize<'de>"))]));
    }

    /// `IntoOwned` from `Name<Text<'a>>` to `Name`, for a struct retyped by
    /// [`retype`](Self::retype): fields that hold a string convert, the
    /// others move.
    pub fn into_owned(&self, item: &syn::ItemStruct) -> TokenStream {
        if !self.has(&item.ident.to_string()) {
            return quote! {};
        }
        let name = &item.ident;
        let fields = item.fields.iter().filter_map(|field| {
            let ident = field.ident.as_ref()?;
            let mut names = Names::default();
            names.visit_type(&field.ty);
            Some(if names.0.contains("S") {
                quote! { #ident: ::icr_webhooks::__private::IntoOwned::into_owned(self.#ident), }
            } else {
                quote! { #ident: self.#ident, }
            })
        });
        quote! {
            impl<'a> ::icr_webhooks::__private::IntoOwned for #name<::icr_webhooks::__private::Text<'a>> {
                type Owned = #name;
                fn into_owned(self) -> #name {
                    #name { #(#fields)* }
                }
            }
        }
    }
}

/// Every identifier named in a type path, to tell what a type refers to.
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Visit<'_> for Names {
    fn visit_path_segment(&mut self, segment: &syn::PathSegment) {
        let ident = segment.ident.to_string();
        // The key of a map is not a string of the model.
        if ident == "BTreeMap" {
            if let syn::PathArguments::AngleBracketed(args) = &segment.arguments {
                for arg in args.args.iter().skip(1) {
                    self.visit_generic_argument(arg);
                }
            }
            return;
        }
        self.0.insert(ident);
        syn::visit::visit_path_segment(self, segment);
    }
}

/// Retypes a struct's fields: `CompactString` becomes `S` (map keys
/// excepted) and each generic type `Name` becomes `Name<S>`.
struct Retype<'t>(&'t TextTypes);

impl VisitMut for Retype<'_> {
    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if let syn::Type::Path(path) = ty {
            let text = quote!(#path).to_string().replace(' ', "");
            if text == "::icr_webhooks::__private::CompactString" {
                *ty = syn::parse_quote!(S);
                return;
            }
            if path.qself.is_none() && path.path.segments.len() == 1 {
                if let Some(segment) = path.path.segments.first_mut() {
                    if segment.arguments.is_empty() && self.0.has(&segment.ident.to_string()) {
                        segment.arguments =
                            syn::PathArguments::AngleBracketed(syn::parse_quote!(<S>));
                        return;
                    }
                }
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_path_segment_mut(&mut self, segment: &mut syn::PathSegment) {
        if segment.ident == "BTreeMap" {
            if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                for arg in args.args.iter_mut().skip(1) {
                    self.visit_generic_argument_mut(arg);
                }
            }
            return;
        }
        syn::visit_mut::visit_path_segment_mut(self, segment);
    }
}
