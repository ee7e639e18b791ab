//! `drift`: the tally of what `listen`'s history holds that the types do
//! not know (unknown events, actions, fields and enum values, by JSON path,
//! no values), the most frequent first, as a table or as JSON.

use std::io::Write as _;
use std::time::SystemTime;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks::chrono::{DateTime, SecondsFormat, Utc};
use icr_webhooks_harness::history::{self, History, HistorySpec};

use crate::cli::{Failure, runtime};

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// The history to read: sqlite:PATH or a file path (listen's default file in this folder when absent).
    #[arg(long, default_value = history::DEFAULT_FILE, value_name = "HISTORY")]
    history: HistorySpec,
    /// Print JSON: {"drift": [{"event", "finding": {"kind", "path"}, "count", "first_seen", "last_seen"}]}.
    #[arg(long)]
    json: bool,
}

/// `icr-webhooks drift …`.
pub(crate) fn run(args: DriftArgs) -> Result<u8, Failure> {
    let DriftArgs { history, json } = args;
    if let HistorySpec::Sqlite(path) = &history {
        if !path.exists() {
            return Err(anyhow::anyhow!(
                "no history at {}: `icr-webhooks listen` writes one (see its --history)",
                path.display()
            )
            .into());
        }
    }
    let entries = runtime()?.block_on(async {
        let opened = History::open_read(&history)
            .with_context(|| format!("opening the history {history}"))?;
        history::tally(&opened)
            .await
            .with_context(|| format!("reading the history {history}"))
    })?;
    if json {
        let text = serde_json::to_string_pretty(&serde_json::json!({ "drift": entries }))
            .context("writing JSON")?;
        say!("{text}");
        return Ok(0);
    }
    if entries.is_empty() {
        say!("no drift: every recorded payload fits the types");
        return Ok(0);
    }
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|entry| {
            [
                entry.count.to_string(),
                entry.event.clone(),
                entry.finding.kind.to_string(),
                if entry.finding.path.is_empty() {
                    "-".to_owned()
                } else {
                    entry.finding.path.clone()
                },
                format!("{} .. {}", time(entry.first_seen), time(entry.last_seen)),
            ]
        })
        .collect();
    let header = ["count", "event", "kind", "path", "first seen .. last seen"];
    let widths: Vec<usize> = header
        .iter()
        .enumerate()
        .map(|(column, title)| {
            rows.iter()
                .filter_map(|row| row.get(column))
                .map(String::len)
                .chain([title.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    say!("{}", line(&header));
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        say!("{}", line(&cells));
    }
    Ok(0)
}

fn time(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Secs, true)
}
