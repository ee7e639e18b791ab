//! Where the history lives (`--history memory|sqlite:PATH`) and how much
//! of it is kept (`--history-max`, `--history-max-age`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::stores::StoreSpec;

/// The file name of the history when `--history` is not given: next to the
/// `--store` file, or in the working directory.
pub const DEFAULT_FILE: &str = "icr-webhooks-history.sqlite";

/// Deliveries kept by default (`--history-max`).
pub const DEFAULT_MAX: u64 = 10_000;

/// How long deliveries are kept by default (`--history-max-age`): 7 days.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// Which history, as `--history` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistorySpec {
    /// `memory`: in this process only; a restart forgets it.
    Memory,
    /// `sqlite:PATH`: a SQLite file (created when missing).
    Sqlite(PathBuf),
}

impl HistorySpec {
    /// The history that goes with a store when `--history` is not given: in
    /// memory beside a memory store, else the file [`DEFAULT_FILE`] in the
    /// SQLite store's folder (the working directory for PostgreSQL).
    pub fn beside(store: &StoreSpec) -> Self {
        match store {
            StoreSpec::Memory => Self::Memory,
            StoreSpec::Sqlite(path) => Self::Sqlite(
                path.parent()
                    .unwrap_or_else(|| Path::new(""))
                    .join(DEFAULT_FILE),
            ),
            StoreSpec::Postgres(_) => Self::Sqlite(PathBuf::from(DEFAULT_FILE)),
        }
    }
}

impl FromStr for HistorySpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        if text == "memory" {
            Ok(Self::Memory)
        } else if let Some(path) = text.strip_prefix("sqlite:").or_else(|| {
            // A bare path is a SQLite file too (`drift --history FILE`).
            (!text.is_empty() && !text.contains("://")).then_some(text)
        }) {
            if path.is_empty() {
                Err(format!(
                    "`sqlite:` needs a file path, as in `sqlite:{DEFAULT_FILE}`"
                ))
            } else {
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
        } else {
            Err(format!(
                "`{text}` is not a history: use `memory` or `sqlite:PATH`"
            ))
        }
    }
}

impl fmt::Display for HistorySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("memory"),
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
        }
    }
}

/// How much history is kept: both bounds hold after every batch written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// At most this many deliveries; the oldest go first.
    pub max: u64,
    /// None older than this.
    pub max_age: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max: DEFAULT_MAX,
            max_age: DEFAULT_MAX_AGE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_default_beside_the_store() {
        assert_eq!("memory".parse(), Ok(HistorySpec::Memory));
        assert_eq!(
            "sqlite:/tmp/h.sqlite".parse(),
            Ok(HistorySpec::Sqlite(PathBuf::from("/tmp/h.sqlite")))
        );
        assert_eq!(
            "h.sqlite".parse(),
            Ok(HistorySpec::Sqlite(PathBuf::from("h.sqlite")))
        );
        assert_eq!(
            "postgres://x".parse::<HistorySpec>(),
            Err("`postgres://x` is not a history: use `memory` or `sqlite:PATH`".to_owned())
        );
        assert_eq!(
            HistorySpec::beside(&StoreSpec::Sqlite(PathBuf::from("/var/x/s.sqlite"))),
            HistorySpec::Sqlite(PathBuf::from("/var/x/icr-webhooks-history.sqlite"))
        );
        assert_eq!(
            HistorySpec::beside(&StoreSpec::Sqlite(PathBuf::from("s.sqlite"))),
            HistorySpec::Sqlite(PathBuf::from("icr-webhooks-history.sqlite"))
        );
        assert_eq!(HistorySpec::beside(&StoreSpec::Memory), HistorySpec::Memory);
    }
}
