//! The realistic mode ([`Mode::Realistic`](super::Mode::Realistic)): the
//! leaves of a payload drawn the way ICR writes them, and each object
//! arranged once drawn.
//!
//! - Timestamps are UTC with `Z` and whole seconds, in the 30 days before
//!   a fixed instant ([`REALISTIC_SINCE`] to [`REALISTIC_NOW`]), and in
//!   order within their object ([`time::rank`]): `created_at` (or
//!   `issued_at`) no later than `updated_at`, no later than `completed_at`,
//!   `suspended_at`, `revoked_at` and the rest. Days (`date`) are in the
//!   three years before, a period's `start` no later than its `end`.
//! - Strings are what a person or ICR would write there ([`text`]): names,
//!   logins, memos, purposes, reasons, node IDs, serial numbers; patterns
//!   are met with real values where the pattern is known (`country`,
//!   `full_name`) and with letters, digits, `.`, `_` and `-` otherwise.
//!   Nothing holds a control character, a line break or an unpaired code
//!   point.
//! - Integers are of a believable size for their field (IDs, quantities,
//!   vintages), within the schema's bounds.
//! - Within an object: a `quantity` is the sum of its `blocks`', a block's
//!   serial numbers span its quantity, an inventory's `full_name` ends with
//!   its `name`, a user's or organization's `login` goes with its `name`,
//!   and a `url` names the object it belongs to.
//!
//! The window is fixed, not read from the clock, so that one seed gives
//! the same bytes on every machine and every day (fixtures, snapshots and
//! bug reports stay reproducible); it is moved forward by hand now and
//! then.

mod text;
mod time;
mod words;

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::node::{Node, Object, Text, Typed};
use super::values::Gen;

/// The end of the realistic window: no realistic timestamp is later.
pub const REALISTIC_NOW: &str = "2026-12-01T00:00:00Z";
/// The start of the realistic window, 30 days before [`REALISTIC_NOW`]: no
/// realistic timestamp is earlier.
pub const REALISTIC_SINCE: &str = "2026-11-01T00:00:00Z";

/// Where a node sits: the names from the definition it belongs to (or the
/// event) down to it. Only the realistic mode reads it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Site {
    path: Vec<String>,
}

impl Site {
    /// Nowhere in particular.
    pub(crate) fn root() -> Self {
        Self::default()
    }

    /// The top of the definition (or event) `name`.
    pub(crate) fn of(name: &str) -> Self {
        Self {
            path: vec![name.to_owned()],
        }
    }

    /// The property (or `*`, an entry of a map) `name` of this site.
    pub(crate) fn child(&self, name: &str) -> Self {
        let mut path = self.path.clone();
        path.push(name.to_owned());
        Self { path }
    }

    /// The last name: the property, or the definition at its top.
    fn field(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// The name before the last: the object that holds the property.
    fn parent(&self) -> &str {
        self.path
            .len()
            .checked_sub(2)
            .and_then(|i| self.path.get(i))
            .map_or("", String::as_str)
    }
}

/// A realistic string for `text` at `site`.
pub(crate) fn string(text: &Text, site: &Site) -> Gen<String> {
    match text {
        Text::Plain { min, limit, .. } => text::fit(text::plain(site), *min, *limit),
        Text::Pattern { source, plain, .. } => match (site.field(), source.as_str()) {
            (_, "^[A-Z]{2}$") => text::country(),
            ("full_name", "^[^/]+/[^/]+$") => text::full_name(),
            _ => plain.clone(),
        },
        Text::DateTime => time::date_time(),
        Text::Date => time::date(),
        Text::Uri => text::uri(site),
    }
}

/// A realistic integer in `lo..=hi` (`lo <= hi`) at `site`, uniformly in a
/// range that suits the field; shrinks toward the range's start.
pub(crate) fn integer(lo: i64, hi: i64, site: &Site) -> Gen<i64> {
    let field = site.field();
    let (from, to) = match field {
        "id" if site.parent().starts_with("Installation") => (7_000_000, 7_999_999),
        "app_id" => (10_000, 99_999),
        "id" | "hook_id" => (1, 99_999),
        "quantity" => (1, 5_000),
        "credit_balance" => (0, 250_000),
        "vintage" => (2015, 2025),
        "reporting_year" => (2024, 2026),
        _ => (0, 1_000),
    };
    let (from, to) = if from.max(lo) <= to.min(hi) {
        (from.max(lo), to.min(hi))
    } else {
        (lo, hi.min(lo.saturating_add(1_000)))
    };
    (from..=to).sboxed()
}

/// A realistic value where the schema allows any (a previous value in a
/// project's `changes`): a few words, a number, `true` or `false`, `null`.
pub(crate) fn any_json(site: &Site) -> Gen<Value> {
    prop_oneof![
        3 => text::plain(site).prop_map(Value::String),
        1 => (1..=5_000_i64).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
    .sboxed()
}

/// A realistic key of a map at `site`: a field of a project for `changes`.
pub(crate) fn map_key(site: &Site) -> Gen<String> {
    let keys = if site.field() == "changes" {
        words::PROJECT_FIELDS
    } else {
        words::WORDS
    };
    proptest::sample::select(keys)
        .prop_map(str::to_owned)
        .sboxed()
}

/// What a drawn object of one schema needs to look as ICR writes it: the
/// order of its timestamps and days, and which of its fields follow others.
#[derive(Debug)]
pub(crate) struct Arrangement {
    /// The `date-time` fields, in the order their values must be in.
    instants: Vec<String>,
    /// The `date` fields, likewise.
    days: Vec<String>,
    /// An integer `quantity` beside an array of `blocks`: the blocks' sum,
    /// when it is within these bounds.
    quantity: Option<(i64, i64)>,
    /// Plain `serial_start` and `serial_end` beside a `quantity`.
    serials: bool,
    /// A plain `name` beside a `full_name` of the form `owner/name`.
    full_name: bool,
    /// A `uri` `url` of an object of this kind (`User`, `Organization`,
    /// `Inventory`).
    url: Option<String>,
    /// In a payload whose `action` is a `const`: the objects whose
    /// `status` says what the action did, with that status.
    statuses: Vec<(String, Value)>,
}

impl Arrangement {
    /// The arrangement of objects of `object`, at `site`.
    pub(crate) fn of(object: &Object, site: &Site) -> Self {
        let text = |name: &str| object.property(name).and_then(|p| text_of(&p.node));
        let ordered = |wanted: fn(&Text) -> bool| {
            let mut fields: Vec<(u8, String)> = object
                .properties
                .iter()
                .filter(|p| text_of(&p.node).is_some_and(wanted))
                .map(|p| (time::rank(&p.name), p.name.clone()))
                .collect();
            fields.sort();
            fields.into_iter().map(|(_, name)| name).collect()
        };
        let plain = |name: &str| matches!(text(name), Some(Text::Plain { .. }));
        let quantity = object
            .property("quantity")
            .and_then(|p| integer_of(&p.node));
        let has_blocks = object.property("blocks").is_some();
        let full_name = plain("name")
            && matches!(text("full_name"), Some(Text::Pattern { source, .. }) if source == "^[^/]+/[^/]+$");
        let kind = site.field();
        let url = (matches!(text("url"), Some(Text::Uri))
            && matches!(kind, "User" | "Organization" | "Inventory"))
        .then(|| kind.to_owned());
        Self {
            instants: ordered(|t| matches!(t, Text::DateTime)),
            days: ordered(|t| matches!(t, Text::Date)),
            quantity: quantity.filter(|_| has_blocks),
            serials: plain("serial_start") && plain("serial_end") && quantity.is_some(),
            full_name,
            url,
            statuses: statuses(object),
        }
    }

    /// Arranges one drawn object.
    pub(crate) fn apply(&self, map: &mut Map<String, Value>) {
        order(map, &self.instants);
        order(map, &self.days);
        if let Some((lo, hi)) = self.quantity {
            sum_blocks(map, lo, hi);
        }
        if self.serials {
            serials(map);
        }
        if self.full_name {
            full_name(map);
        }
        if let Some(kind) = &self.url {
            if let Some(login) = map
                .get("name")
                .and_then(Value::as_str)
                .and_then(|name| text::login_of(kind, name))
            {
                map.insert("login".to_owned(), Value::from(login));
            }
            url(map, kind);
        }
        for (field, status) in &self.statuses {
            if let Some(Value::Object(inner)) = map.get_mut(field) {
                inner.insert("status".to_owned(), status.clone());
            }
        }
    }
}

/// For an object with a `const` `action`, its properties that are objects
/// with a `status` enum listing the action (or `pending` for `created`),
/// and that status: a `credit_transfer.completed`'s transfer is
/// `completed`, a `credit_transfer.created`'s is `pending`.
fn statuses(object: &Object) -> Vec<(String, Value)> {
    let Some(Node::Const(Value::String(action))) =
        object.property("action").map(|p| p.node.resolved())
    else {
        return Vec::new();
    };
    let wanted = [
        action.as_str(),
        if action == "created" {
            "pending"
        } else {
            action
        },
    ];
    object
        .properties
        .iter()
        .filter_map(|property| {
            let Node::Typed(types) = property.node.resolved() else {
                return None;
            };
            let Typed::Object(inner) = types.first.as_ref() else {
                return None;
            };
            let Node::Enum(values) = inner.property("status")?.node.resolved() else {
                return None;
            };
            let status = wanted
                .iter()
                .rev()
                .map(|w| Value::from(*w))
                .find(|w| values.iter().any(|v| v == w))?;
            Some((property.name.clone(), status))
        })
        .collect()
}

/// The string a node generates, behind `$ref`s and beside `null`.
fn text_of(node: &Node) -> Option<&Text> {
    match node.resolved() {
        Node::Typed(types) => types.iter().find_map(|t| match t {
            Typed::String(text) => Some(text),
            _ => None,
        }),
        _ => None,
    }
}

/// The bounds of the integers a node generates, behind `$ref`s.
fn integer_of(node: &Node) -> Option<(i64, i64)> {
    match node.resolved() {
        Node::Typed(types) => types.iter().find_map(|t| match t {
            Typed::Integer { lo, hi } => Some((*lo, *hi)),
            _ => None,
        }),
        _ => None,
    }
}

/// Puts the string values of `fields` (those present) in ascending order,
/// field by field. Realistic instants and days have one width, so their
/// text sorts as their time does.
fn order(map: &mut Map<String, Value>, fields: &[String]) {
    let present: Vec<&String> = fields
        .iter()
        .filter(|f| map.get(f.as_str()).is_some_and(Value::is_string))
        .collect();
    let mut values: Vec<Value> = present
        .iter()
        .filter_map(|f| map.get(f.as_str()).cloned())
        .collect();
    values.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    for (field, value) in present.into_iter().zip(values) {
        map.insert(field.clone(), value);
    }
}

fn sum_blocks(map: &mut Map<String, Value>, lo: i64, hi: i64) {
    let Some(Value::Array(blocks)) = map.get("blocks") else {
        return;
    };
    let sum = blocks.iter().try_fold(0_i64, |sum, block| {
        block
            .get("quantity")
            .and_then(Value::as_i64)
            .and_then(|q| sum.checked_add(q))
    });
    if let Some(sum) = sum.filter(|s| (lo..=hi).contains(s)) {
        map.insert("quantity".to_owned(), Value::from(sum));
    }
}

/// `ICR-2024-FI-0042-000001` to `…-001500` for 1,500 credits of vintage
/// 2024 from project 42 in Finland, the first number kept as drawn.
fn serials(map: &mut Map<String, Value>) {
    let int = |value: Option<&Value>| value.and_then(Value::as_i64);
    let (Some(quantity), Some(vintage)) = (int(map.get("quantity")), int(map.get("vintage")))
    else {
        return;
    };
    let project = map.get("project");
    let country = project
        .and_then(|p| p.get("country"))
        .and_then(Value::as_str)
        .unwrap_or("XX");
    let project = int(project.and_then(|p| p.get("id"))).unwrap_or(1) % 10_000;
    let first = map
        .get("serial_start")
        .and_then(Value::as_str)
        .and_then(|s| s.rsplit('-').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(1);
    let prefix = format!("ICR-{vintage}-{country}-{project:04}");
    let last = first.saturating_add(quantity).saturating_sub(1);
    map.insert(
        "serial_start".to_owned(),
        Value::from(format!("{prefix}-{first:06}")),
    );
    map.insert(
        "serial_end".to_owned(),
        Value::from(format!("{prefix}-{last:06}")),
    );
}

/// Whether `text` can stand in a URL path and in `owner/name` as it is.
fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// `full_name` as `<its owner's login, or its own owner part>/<name>`.
fn full_name(map: &mut Map<String, Value>) {
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| is_slug(n));
    let owner = map
        .get("owner")
        .and_then(|o| o.get("login"))
        .and_then(Value::as_str)
        .filter(|o| is_slug(o))
        .or_else(|| {
            map.get("full_name")
                .and_then(Value::as_str)
                .and_then(|f| f.split_once('/'))
                .map(|(owner, _)| owner)
                .filter(|o| is_slug(o))
        });
    if let (Some(owner), Some(name)) = (owner, name) {
        let full = format!("{owner}/{name}");
        map.insert("full_name".to_owned(), Value::from(full));
    }
}

/// `url` as ICR's page of the object: a user, an organization, an inventory.
fn url(map: &mut Map<String, Value>, kind: &str) {
    let get = |field: &str| map.get(field).and_then(Value::as_str);
    let path = match kind {
        "User" => get("login")
            .filter(|l| is_slug(l))
            .map(|l| format!("users/{l}")),
        "Organization" => get("login")
            .filter(|l| is_slug(l))
            .map(|l| format!("orgs/{l}")),
        _ => get("full_name")
            .and_then(|f| f.split_once('/'))
            .filter(|(owner, name)| is_slug(owner) && is_slug(name))
            .map(|(owner, name)| format!("orgs/{owner}/inventories/{name}")),
    };
    if let Some(path) = path {
        map.insert(
            "url".to_owned(),
            Value::from(format!("{}/{path}", text::REGISTRY)),
        );
    }
}
