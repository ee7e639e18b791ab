//! The bounded label values: an event or action name from the catalogue
//! as itself, anything else as [`UNKNOWN`], so that what a sender writes
//! cannot grow the label space or reach a log unchecked.

use crate::types::CATALOGUE;

/// The label of every event or action the catalogue does not name.
pub(crate) const UNKNOWN: &str = "unknown";

/// `name` when the catalogue has an event of that name, else [`UNKNOWN`].
pub(crate) fn event(name: &str) -> &'static str {
    CATALOGUE
        .iter()
        .find(|spec| spec.name == name)
        .map_or(UNKNOWN, |spec| spec.name)
}

#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
/// `action` when the catalogue's event `event` has it, `None` when there
/// is no action, else [`UNKNOWN`].
pub(crate) fn action(event: &str, action: Option<&str>) -> Option<&'static str> {
    let action = action?;
    Some(
        CATALOGUE
            .iter()
            .find(|spec| spec.name == event)
            .and_then(|spec| spec.actions.iter().find(|known| **known == action))
            .map_or(UNKNOWN, |known| *known),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_catalogue_names_pass() {
        assert_eq!(super::event("credit_transfer"), "credit_transfer");
        assert_eq!(super::event("ping"), "ping");
        assert_eq!(super::event("Ping"), "unknown");
        assert_eq!(super::event("whsec_SEKRIT"), "unknown");
        assert_eq!(super::event(""), "unknown");
        assert_eq!(
            super::action("credit_transfer", Some("completed")),
            Some("completed")
        );
        assert_eq!(
            super::action("credit_transfer", Some("teleported")),
            Some("unknown")
        );
        assert_eq!(super::action("nope", Some("completed")), Some("unknown"));
        assert_eq!(super::action("ping", None), None);
    }
}
