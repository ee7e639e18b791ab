//! The demo's table: one row per delivery, what was expected and what came
//! back, printed in aligned columns.

use std::io::Write as _;

use icr_webhooks::receive::ContentType;
use icr_webhooks_harness::listen::Accepted;
use icr_webhooks_harness::sender::{Fault, Outgoing};

/// One row of the demo's table.
pub(super) struct Row {
    pub(super) delivery: Outgoing,
    pub(super) status: Option<u16>,
    pub(super) typed: Option<Accepted>,
}

impl Row {
    pub(super) fn passed(&self) -> bool {
        let expected = self.delivery.expected_status();
        match self.delivery.fault {
            None | Some(Fault::SlowBody) => {
                self.status == Some(expected)
                    && self
                        .typed
                        .as_ref()
                        .is_some_and(|t| t.known && t.key() == self.delivery.key())
            }
            Some(_) => self.status == Some(expected) && self.typed.is_none(),
        }
    }
}

pub(super) fn print_table(rows: &[Row]) {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let carried = match row.delivery.content_type {
                ContentType::Form => "form",
                _ => "json",
            };
            [
                row.delivery.key(),
                carried.to_owned(),
                row.delivery.fault.map_or("-", Fault::name).to_owned(),
                format!(
                    "{} {}",
                    row.delivery.expected_status(),
                    row.status.map_or("none".to_owned(), |s| s.to_string())
                ),
                row.typed.as_ref().map_or("-".to_owned(), |t| {
                    if t.known {
                        format!("{} (typed)", t.key())
                    } else {
                        format!("{} (unknown)", t.key())
                    }
                }),
                if row.passed() {
                    "ok".to_owned()
                } else {
                    "FAIL".to_owned()
                },
            ]
        })
        .collect();
    let header = [
        "event.action",
        "body",
        "fault",
        "expect got",
        "typed as",
        "result",
    ];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        say!("{}", padded.join("  ").trim_end());
    };
    line(&header.map(str::to_owned));
    for row in &cells {
        line(row);
    }
}
