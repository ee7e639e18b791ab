//! Realistic strings by where they sit: a user's `name` is a person's
//! name, an organization's `login` its slug, a transfer's `memo` a memo;
//! identifiers have the shapes ICR gives them (`USR_kwDO…`,
//! `ICR-2024-FI-0042-000001`); text with no list of its own is a few words.

use proptest::prelude::*;
use proptest::sample::select;

use super::Site;
use super::words::{
    APPS, COUNTRIES, FAMILY, GIVEN, INVENTORIES, LABELS, MEMOS, METHODOLOGIES, ORGANIZATIONS,
    PROJECTS, PURPOSES, REASONS, REGISTRIES, WEBHOOKS, WORDS, ZEN,
};
use crate::strategy::values::Gen;

/// The host of ICR's own URLs.
pub(super) const REGISTRY: &str = "https://registry.icr.example";
/// The characters of a node ID after its prefix.
const NODE_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// One entry of `list`.
fn pick(list: &'static [&'static str]) -> Gen<String> {
    select(list).prop_map(str::to_owned).sboxed()
}

/// A person: given and family names, each as written and as in a login.
fn person() -> impl Strategy<Value = ((&'static str, &'static str), (&'static str, &'static str))> {
    (select(GIVEN), select(FAMILY))
}

fn person_name() -> Gen<String> {
    person()
        .prop_map(|((given, _), (family, _))| format!("{given} {family}"))
        .sboxed()
}

pub(super) fn user_login() -> Gen<String> {
    person()
        .prop_map(|((_, given), (_, family))| format!("{given}.{family}"))
        .sboxed()
}

fn organization_name() -> Gen<String> {
    select(ORGANIZATIONS)
        .prop_map(|(name, _)| name.to_owned())
        .sboxed()
}

pub(super) fn organization_login() -> Gen<String> {
    select(ORGANIZATIONS)
        .prop_map(|(_, login)| login.to_owned())
        .sboxed()
}

pub(super) fn inventory() -> Gen<String> {
    pick(INVENTORIES)
}

/// `owner/inventory`, as an inventory's `full_name`.
pub(super) fn full_name() -> Gen<String> {
    (organization_login(), inventory())
        .prop_map(|(owner, name)| format!("{owner}/{name}"))
        .sboxed()
}

pub(super) fn country() -> Gen<String> {
    pick(COUNTRIES)
}

/// `ICR-P-0042`.
fn registry_reference() -> Gen<String> {
    (1..=999_u32).prop_map(|n| format!("ICR-P-{n:04}")).sboxed()
}

/// A serial number of the first or last credit of a block:
/// `ICR-<vintage>-<country>-<project>-<credit>`.
fn serial() -> Gen<String> {
    (
        2015..=2025_u32,
        select(COUNTRIES),
        1..=999_u32,
        1..=99_999_u32,
    )
        .prop_map(|(vintage, country, project, n)| {
            format!("ICR-{vintage}-{country}-{project:04}-{n:06}")
        })
        .sboxed()
}

/// `ACR-CL-000318`.
fn account_reference() -> Gen<String> {
    (select(COUNTRIES), 1..=999_999_u32)
        .prop_map(|(country, n)| format!("ACR-{country}-{n:06}"))
        .sboxed()
}

fn email() -> Gen<String> {
    (person(), select(ORGANIZATIONS))
        .prop_map(|(((_, given), (_, family)), (_, org))| format!("{given}.{family}@{org}.example"))
        .sboxed()
}

/// `USR_kwDOAAAD3w`: the prefix of the object's kind, then 10 characters.
fn node_id(prefix: &'static str) -> Gen<String> {
    any::<u64>()
        .prop_map(move |mut bits| {
            let mut id = format!("{prefix}_kwDO");
            for _ in 0..6 {
                let index = usize::try_from(bits % 62).unwrap_or_default();
                id.push(NODE_ID_ALPHABET.get(index).map_or('A', |&b| char::from(b)));
                bits /= 62;
            }
            id
        })
        .sboxed()
}

/// The node ID prefix of an object of `kind`, as ICR writes them.
fn node_prefix(kind: &str) -> &'static str {
    match kind {
        "User" => "USR",
        "Organization" => "ORG",
        "Inventory" | "InventoryRef" => "INV",
        "Installation" | "InstallationRef" => "INS",
        "Transfer" => "TRF",
        "Retirement" => "RET",
        "Issuance" => "ISS",
        "Project" | "ProjectRef" => "PRJ",
        _ => "NOD",
    }
}

/// The names of the events of the catalogue.
fn event_name() -> Gen<String> {
    let names: Vec<String> = icr_webhooks::types::CATALOGUE
        .iter()
        .map(|spec| spec.name.to_owned())
        .collect();
    select(names).sboxed()
}

/// Two to four words.
fn words() -> Gen<String> {
    prop::collection::vec(select(WORDS), 2..=4)
        .prop_map(|words| words.join(" "))
        .sboxed()
}

/// A plain string at `site`.
pub(super) fn plain(site: &Site) -> Gen<String> {
    let (parent, field) = (site.parent(), site.field());
    match field {
        "node_id" => node_id(node_prefix(parent)),
        "login" if parent == "Organization" => organization_login(),
        "login" => user_login(),
        "name" => match parent {
            "User" => person_name(),
            "Organization" => organization_name(),
            "Inventory" | "InventoryRef" => inventory(),
            "Project" | "ProjectRef" => pick(PROJECTS),
            "beneficiary" => prop_oneof![organization_name(), person_name()].sboxed(),
            _ => words(),
        },
        // A previous value in `changes`.
        "from" => match parent {
            "name" => inventory(),
            "login" => organization_login(),
            _ => words(),
        },
        "email" => email(),
        "memo" => pick(MEMOS),
        "purpose" => pick(PURPOSES),
        "reason" => pick(REASONS),
        "zen" => pick(ZEN),
        "serial_start" | "serial_end" => serial(),
        "registry_reference" => registry_reference(),
        "methodology" => pick(METHODOLOGIES),
        "app_slug" => pick(APPS),
        "labels" => pick(LABELS),
        "events" => event_name(),
        "registry_name" => pick(REGISTRIES),
        "account_reference" => account_reference(),
        _ => words(),
    }
}

/// The login that goes with the `name` of a `User` or an `Organization`
/// of the word lists: `Aino Virtanen` is `aino.virtanen`.
pub(super) fn login_of(kind: &str, name: &str) -> Option<String> {
    let slug = |list: &[(&str, &'static str)], word: &str| {
        list.iter().find(|(w, _)| *w == word).map(|(_, slug)| *slug)
    };
    match kind {
        "User" => {
            let (given, family) = name.split_once(' ')?;
            Some(format!("{}.{}", slug(GIVEN, given)?, slug(FAMILY, family)?))
        }
        "Organization" => slug(ORGANIZATIONS, name).map(str::to_owned),
        _ => None,
    }
}

/// A `uri` at `site`: ICR's own pages, or an app's webhook.
pub(super) fn uri(site: &Site) -> Gen<String> {
    let (parent, field) = (site.parent(), site.field());
    match (parent, field) {
        ("config", _) => pick(WEBHOOKS),
        (_, "certificate_url") => (1..=99_999_u32)
            .prop_map(|n| format!("{REGISTRY}/retirements/{n}/certificate.pdf"))
            .sboxed(),
        ("User", _) => user_login()
            .prop_map(|login| format!("{REGISTRY}/users/{login}"))
            .sboxed(),
        ("Inventory", _) => full_name()
            .prop_map(|full| {
                let (owner, name) = full.split_once('/').unwrap_or((&full, ""));
                format!("{REGISTRY}/orgs/{owner}/inventories/{name}")
            })
            .sboxed(),
        ("Project", _) => registry_reference()
            .prop_map(|reference| format!("{REGISTRY}/projects/{reference}"))
            .sboxed(),
        _ => organization_login()
            .prop_map(|login| format!("{REGISTRY}/orgs/{login}"))
            .sboxed(),
    }
}

/// `strings`, each cut to `max` characters (when there is a maximum) and
/// padded with `x` to `min`.
pub(super) fn fit(strings: Gen<String>, min: usize, max: Option<usize>) -> Gen<String> {
    strings
        .prop_map(move |text| {
            let mut text: String = text.chars().take(max.unwrap_or(usize::MAX)).collect();
            let count = text.chars().count();
            text.extend(std::iter::repeat_n('x', min.saturating_sub(count)));
            text
        })
        .sboxed()
}
