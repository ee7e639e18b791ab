//! The structs: typify run over the object views, its output checked, and
//! its fields fixed for the parse path (`CompactString`, strict RFC 3339
//! timestamps, optional properties that refuse `null`).

use std::collections::BTreeSet;

use quote::quote;
use syn::visit_mut::VisitMut;
use typify::{TypeSpace, TypeSpaceSettings};

use crate::error::{CodegenError, Result};
use crate::model::Model;

/// Runs typify over the object views; enums and unions are replaced by the
/// types emitted here.
pub(super) fn typify_structs(model: &Model) -> Result<Vec<syn::ItemStruct>> {
    let mut settings = TypeSpaceSettings::default();
    settings
        .with_derive("PartialEq".to_owned())
        .with_attr("#[non_exhaustive]".to_owned())
        .with_map_type("::std::collections::BTreeMap")
        .with_struct_builder(false);
    for name in model.enums.keys().chain(model.unions.keys()) {
        settings.with_replacement(name, name, std::iter::empty());
    }
    let mut definitions = Vec::new();
    for (name, item) in &model.structs {
        definitions.push((name.clone(), schema_of(name, &item.view, model)?));
    }
    for name in model.enums.keys().chain(model.unions.keys()) {
        definitions.push((name.clone(), schemars::schema::Schema::Bool(true)));
    }
    let outcome = std::panic::catch_unwind(move || {
        let mut space = TypeSpace::new(&settings);
        space.add_ref_types(definitions).map(|()| space.to_stream())
    });
    let stream = match outcome {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            let name = typify_error_name(&error);
            return Err(CodegenError::Typify {
                location: model.origins.get(&name).cloned().unwrap_or_default(),
                name,
                reason: error.to_string(),
            });
        }
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "typify panicked".to_owned());
            return Err(CodegenError::Typify {
                name: "<unknown>".to_owned(),
                location: "schema/".to_owned(),
                reason: format!("typify panicked: {reason}"),
            });
        }
    };
    let file: syn::File = syn::parse2(stream).map_err(|e| CodegenError::Syntax {
        file: "types.rs".to_owned(),
        reason: e.to_string(),
    })?;
    check_items(&file, model)?;

    let mut structs = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Struct(mut item) => {
                FastFields.visit_item_struct_mut(&mut item);
                if let Some(schema) = model.structs.get(&item.ident.to_string()) {
                    optional_fields(&mut item, &schema.view);
                }
                structs.push(item);
            }
            syn::Item::Mod(m) if m.ident == "error" => {}
            other => {
                return Err(CodegenError::Typify {
                    name: "<unknown>".to_owned(),
                    location: "schema/".to_owned(),
                    reason: format!(
                        "typify emitted an item that is not a struct: {}",
                        quote!(#other)
                            .to_string()
                            .chars()
                            .take(80)
                            .collect::<String>()
                    ),
                });
            }
        }
    }
    Ok(structs)
}

/// Optional properties (absent from `required`) keep typify's `Option<T>`
/// but refuse `null` unless the schema allows it: `null` is not absent
/// (contract section 4). An optional and nullable property becomes
/// `Option<Option<T>>`: absent `None`, `null` `Some(None)`.
fn optional_fields(item: &mut syn::ItemStruct, view: &serde_json::Value) {
    let required: BTreeSet<&str> = view
        .get("required")
        .and_then(serde_json::Value::as_array)
        .map(|names| names.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    let properties = view.get("properties");
    for field in &mut item.fields {
        let Some(ident) = &field.ident else {
            continue;
        };
        let name = serde_rename(&field.attrs).unwrap_or_else(|| ident.to_string());
        let ty = &field.ty;
        // typify gives an optional array or map `default` instead of an
        // `Option`: `null` does not fit it either way.
        let option = quote!(#ty)
            .to_string()
            .replace(' ', "")
            .starts_with("::std::option::Option<");
        if required.contains(name.as_str()) || !option {
            continue;
        }
        let nullable = properties
            .and_then(|p| p.get(&name))
            .is_some_and(is_nullable);
        let timestamp = quote!(#ty)
            .to_string()
            .replace(' ', "")
            .ends_with("::chrono::DateTime<::chrono::offset::Utc>>");
        let with = match (timestamp, nullable) {
            (false, false) => "::icr_webhooks::__private::present",
            (false, true) => "::icr_webhooks::__private::present_nullable",
            (true, false) => "::icr_webhooks::__private::rfc3339_present",
            (true, true) => "::icr_webhooks::__private::rfc3339_present_nullable",
        };
        if nullable {
            let inner = field.ty.clone();
            field.ty = syn::parse_quote!(::std::option::Option<#inner>);
        }
        field.attrs.retain(|attr| {
            !attr.path().is_ident("serde") || serde_rename(std::slice::from_ref(attr)).is_some()
        });
        field.attrs.push(syn::parse_quote!(
            #[serde(default = "::icr_webhooks::__private::absent", deserialize_with = #with, skip_serializing_if = "::std::option::Option::is_none")]
        ));
    }
}

/// The JSON name of a field renamed with `#[serde(rename = "...")]`.
fn serde_rename(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| {
        let syn::Meta::List(list) = &attr.meta else {
            return None;
        };
        if !list.path.is_ident("serde") {
            return None;
        }
        let tokens = list.tokens.to_string().replace(' ', "");
        let rest = tokens.strip_prefix("rename=\"")?;
        rest.strip_suffix('"').map(str::to_owned)
    })
}

/// Whether a property view admits `null`.
fn is_nullable(view: &serde_json::Value) -> bool {
    let null_type = |t: &serde_json::Value| t.as_str() == Some("null");
    match view.get("type") {
        Some(serde_json::Value::Array(types)) if types.iter().any(null_type) => return true,
        Some(t) if null_type(t) => return true,
        _ => {}
    }
    view.get("oneOf")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|branches| {
            branches
                .iter()
                .any(|b| b.get("type").is_some_and(null_type))
        })
}

/// Retypes typify's fields for the parse path: strings become
/// `CompactString` (inline up to 24 bytes, so most identifiers, codes and
/// serial numbers cost no allocation) and timestamps are read by chrono's
/// strict RFC 3339 parser instead of its general-purpose `FromStr`.
struct FastFields;

impl VisitMut for FastFields {
    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        let ty = &field.ty;
        let text = quote!(#ty).to_string().replace(' ', "");
        let optional = text.starts_with("::std::option::Option<");
        if text.ends_with("::chrono::DateTime<::chrono::offset::Utc>>") && optional
            || text == "::chrono::DateTime<::chrono::offset::Utc>"
        {
            let with = if optional {
                "::icr_webhooks::__private::rfc3339_opt"
            } else {
                "::icr_webhooks::__private::rfc3339"
            };
            let existing = field.attrs.iter_mut().find_map(|attr| {
                let syn::Meta::List(list) = &mut attr.meta else {
                    return None;
                };
                let tokens = list.tokens.to_string().replace(' ', "");
                (list.path.is_ident("serde")
                    && tokens == "deserialize_with=\"::std::option::Option::deserialize\"")
                    .then_some(list)
            });
            match existing {
                Some(list) => list.tokens = quote!(deserialize_with = #with),
                // An optional field without `deserialize_with` is one typify
                // gave `default`; a missing value stays `None` either way.
                None => field
                    .attrs
                    .push(syn::parse_quote!(#[serde(deserialize_with = #with)])),
            }
        }
        syn::visit_mut::visit_field_mut(self, field);
    }

    fn visit_type_mut(&mut self, ty: &mut syn::Type) {
        if quote!(#ty).to_string().replace(' ', "") == "::std::string::String" {
            *ty = syn::parse_quote!(::icr_webhooks::__private::CompactString);
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

fn typify_error_name(error: &typify::Error) -> String {
    match error {
        typify::Error::InvalidSchema {
            type_name: Some(name),
            ..
        } => name.clone(),
        _ => "<unknown>".to_owned(),
    }
}

fn schema_of(
    name: &str,
    view: &serde_json::Value,
    model: &Model,
) -> Result<schemars::schema::Schema> {
    serde_json::from_value(view.clone()).map_err(|e| CodegenError::Typify {
        name: name.to_owned(),
        location: model.origins.get(name).cloned().unwrap_or_default(),
        reason: format!("the schema does not load into schemars: {e}"),
    })
}

/// typify must emit each struct of the model once and nothing else that
/// clashes: it merges or duplicates clashing names without a word.
fn check_items(file: &syn::File, model: &Model) -> Result<()> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for item in &file.items {
        let ident = match item {
            syn::Item::Struct(s) => s.ident.to_string(),
            syn::Item::Enum(e) => e.ident.to_string(),
            syn::Item::Type(t) => t.ident.to_string(),
            _ => continue,
        };
        let first = model.origins.get(&ident).cloned();
        if !seen.insert(ident.clone())
            || model.enums.contains_key(&ident)
            || model.unions.contains_key(&ident)
        {
            return Err(CodegenError::NameCollision {
                second: format!("a second item typify emitted for `{ident}`"),
                first: first.unwrap_or_else(|| "typify".to_owned()),
                name: ident,
            });
        }
        if !model.structs.contains_key(&ident) {
            return Err(CodegenError::Typify {
                name: ident.clone(),
                location: "schema/".to_owned(),
                reason: format!(
                    "typify invented the type `{ident}`; hoist the schema it came from"
                ),
            });
        }
    }
    for name in model.structs.keys() {
        if !seen.contains(name) {
            return Err(CodegenError::Typify {
                name: name.clone(),
                location: model.origins.get(name).cloned().unwrap_or_default(),
                reason: "typify emitted no item for this schema".to_owned(),
            });
        }
    }
    Ok(())
}
