//! Every row of the bad-delivery table (`bad_deliveries::tables`) over a
//! loopback socket to each framework: a delivery the receiver accepts
//! reaches the handler (204) with the event the row expects, and every
//! refusal is answered with the exact status and message of the error the
//! receiver gives in process.

use crate::bad_deliveries::{Expect, tables};
use crate::loopback::{runtime, send};
use crate::server::{Framework, start_plain};

#[test]
fn every_row_of_the_table_gets_its_exact_answer_from_every_framework() {
    // Each row's answer, from the receiver in process (whose outcome the
    // tests of `bad_deliveries` check against the row).
    let tables: Vec<_> = tables()
        .into_iter()
        .map(|(receiver, cases)| {
            let rows: Vec<_> = cases
                .into_iter()
                .map(|(name, wire, expect)| {
                    let answer = match receiver.receive(&wire.headers, wire.body.clone()) {
                        Ok(_) => (204, String::new()),
                        Err(error) => (error.status().as_u16(), error.to_string()),
                    };
                    (name, wire, expect, answer)
                })
                .collect();
            (receiver, rows)
        })
        .collect();
    runtime().block_on(async {
        for framework in Framework::ALL {
            let mut failures = Vec::new();
            for (receiver, rows) in &tables {
                let (addr, mut seen, _stop) = start_plain(framework, receiver.clone()).await;
                for (name, wire, expect, expected) in rows {
                    let got = send(addr, wire).await;
                    if got != *expected {
                        failures.push(format!("{name}: got {got:?}, expected {expected:?}"));
                        continue;
                    }
                    match (expect, seen.try_recv()) {
                        (Expect::Accepted(is_expected), Ok(delivery)) => {
                            assert!(is_expected(&delivery.event), "{framework:?}: {name}");
                            assert_eq!(delivery.info.body, wire.body, "{framework:?}: {name}");
                        }
                        (Expect::Accepted(_), Err(error)) => {
                            failures.push(format!("{name}: the handler did not run: {error}"));
                        }
                        (_, Ok(delivery)) => failures.push(format!(
                            "{name}: the handler ran for a refused delivery: {:?}",
                            delivery.event.name()
                        )),
                        (_, Err(_)) => {}
                    }
                }
            }
            assert!(
                failures.is_empty(),
                "{framework:?}:\n{}",
                failures.join("\n")
            );
        }
    });
}
