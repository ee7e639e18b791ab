//! Naming: how schema names and enum values become Rust identifiers.

/// `credit_transfer` → `CreditTransfer`, `new_permissions_accepted` →
/// `NewPermissionsAccepted`, `0` → `V0`. Existing capitals are kept.
pub fn pascal(raw: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    for ch in raw.chars() {
        if ch.is_ascii_alphanumeric() {
            if upper_next {
                out.push(ch.to_ascii_uppercase());
            } else {
                out.push(ch);
            }
            upper_next = false;
        } else {
            upper_next = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// Whether `name` is usable as a PascalCase Rust type name.
pub fn is_pascal_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::{is_pascal_ident, pascal};

    #[track_caller]
    fn check(raw: &str, expected: &str) {
        assert_eq!(pascal(raw), expected);
    }

    #[test]
    fn pascal_cases() {
        check("credit_transfer", "CreditTransfer");
        check("new_permissions_accepted", "NewPermissionsAccepted");
        check("App", "App");
        check("0", "V0");
        check("external-registry", "ExternalRegistry");
        check("icr_app_authorization", "IcrAppAuthorization");
    }

    #[test]
    fn pascal_idents() {
        assert!(is_pascal_ident("CreditBlock"));
        assert!(!is_pascal_ident("creditBlock"));
        assert!(!is_pascal_ident("Credit_Block"));
        assert!(!is_pascal_ident(""));
    }
}
