//! The inspector in a real browser: a headless Chromium driven over
//! WebDriver opens `listen --ui`'s page, watches deliveries arrive live,
//! opens one with the keyboard, reads its typed view and drift, replays it,
//! saves it as a fixture that `send --replay` delivers again, and keeps
//! screenshots in `target/inspector-screenshots/`. Without Chromium and
//! chromedriver it says loudly that it did not run, unless `CI` is set.

use std::io::Write as _;
use std::process::Command;
use std::time::Instant;

use icr_webhooks_harness::fixture::Fixture;
use icr_webhooks_harness::sender::Outgoing;
use serde_json::Value;

use super::devloop::{BIN, Dir, Listen, SECRET, ping, send};
use super::webdriver::{self, Browser, ENTER, ESCAPE};

/// A laptop screen.
const SCREEN: (u32, u32) = (1440, 900);

/// A browser, or `None` (said loudly) where there is none and `CI` is unset.
fn browser_or_skip(test: &str) -> Option<Browser> {
    let Some(missing) = webdriver::missing() else {
        return Some(Browser::start(SCREEN.0, SCREEN.1));
    };
    let install = "apt-get install chromium chromium-driver";
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {missing} is missing: the browser tests must run under CI ({install})"
    );
    // Straight to stderr, not `eprintln!`: the test harness would keep that
    // for failures only.
    let rule = "#".repeat(78);
    let _ = writeln!(
        std::io::stderr().lock(),
        "\n{rule}\n## NOT RUN: browser::{test}\n## {missing} not found; {install} to run it\n{rule}\n"
    );
    None
}

/// The rows of the page's list, newest first: GUID, event, status and
/// tags of each.
fn rows(browser: &Browser) -> Vec<Value> {
    let rows = browser.run(
        "return [...document.querySelectorAll('#list li')].map((li) => ({
           guid: li.querySelector('.guid').title,
           what: li.querySelector('.what').firstChild.textContent,
           why: li.querySelector('.what small').textContent,
           status: Number(li.querySelector('.status').textContent),
           tags: [...li.querySelectorAll('.tag')].map((tag) => tag.className),
           selected: li.classList.contains('selected'),
         }));",
    );
    rows.as_array().unwrap().clone()
}

/// Waits for `count` rows in the list; then its rows.
fn wait_rows(browser: &Browser, count: usize) -> Vec<Value> {
    browser.wait_for(&format!(
        "document.querySelectorAll('#list li').length === {count}"
    ));
    rows(browser)
}

/// The schema's example of `key` (`event.action`), as ICR would send it.
fn example(key: &str) -> Outgoing {
    let path = format!(
        "{}/../schema/examples/{key}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event = key.split('.').next().unwrap();
    Outgoing::new(event, std::fs::read(&path).unwrap())
}

/// The example completed transfer with a field the types do not know.
fn drifted_transfer() -> Outgoing {
    let mut payload: Value =
        serde_json::from_slice(&example("credit_transfer.completed").payload).unwrap();
    payload["transfer"]["settlement_window"] = "T+1".into();
    Outgoing::new(
        "credit_transfer",
        serde_json::to_vec_pretty(&payload).unwrap(),
    )
}

#[test]
fn the_inspector_shows_deliveries_live_and_replays_and_saves_them_in_a_browser() {
    let started = Instant::now();
    let Some(browser) = browser_or_skip(
        "the_inspector_shows_deliveries_live_and_replays_and_saves_them_in_a_browser",
    ) else {
        return;
    };
    let shots = webdriver::target_dir().join("inspector-screenshots");
    let dir = Dir::new();
    let listen = Listen::start(
        &dir,
        &["--ui", "--history", "memory", "--fixtures-dir", "saved"],
    );
    browser.open(&format!("{}/_icr/", listen.base));
    browser.wait_for("document.querySelector('#live.on')");
    browser.wait_for("document.querySelector('#empty:not([hidden])')");
    // Anything the page keeps survives only if it is not reloaded.
    browser.run("window.icrNotReloaded = true;");

    // Four deliveries, sent while the page is open; the drifted one second
    // newest.
    let deliveries = [
        ping("Measure twice, retire once."),
        example("project.updated"),
        example("credit_retirement.completed"),
        drifted_transfer(),
        example("inventory.created"),
    ];
    for attempt in send(&listen.webhook(), SECRET, &deliveries) {
        assert_eq!(attempt.status, Some(200), "{attempt:?}");
    }
    let list = wait_rows(&browser, deliveries.len());
    let guids: Vec<&str> = list
        .iter()
        .map(|row| row["guid"].as_str().unwrap())
        .collect();
    let sent: Vec<&str> = deliveries.iter().rev().map(|d| d.id.as_str()).collect();
    assert_eq!(guids, sent, "newest first");
    assert!(list.iter().all(|row| row["status"] == 200), "{list:?}");
    assert_eq!(browser.run("return window.icrNotReloaded === true;"), true);
    let drifted = &deliveries[3];
    assert_eq!(list[1]["what"], "credit_transfer.completed");
    assert_eq!(list[1]["tags"], serde_json::json!(["tag drift"]));
    let (width, height) = browser.screenshot(&shots.join("list.png"));
    assert_eq!((width, height), SCREEN);

    // The keyboard: down twice and Enter opens the drifted transfer.
    let list_box = browser.find("#list");
    browser.type_keys(&list_box, "jj");
    assert_eq!(rows(&browser)[1]["selected"], true);
    browser.type_keys(&list_box, ENTER);
    browser.wait_for("document.querySelector('#detail .title h2')");
    let title = browser.text(&browser.find("#detail .title h2"));
    assert_eq!(title, "credit_transfer.completed");
    let meta = browser.text(&browser.find("#detail .meta"));
    assert!(meta.contains(&drifted.id), "{meta}");
    let variant = browser.wait_for(
        "[...document.querySelectorAll('#detail .card h3')]
           .find((h3) => h3.textContent.startsWith('Typed'))
           ?.querySelector('.mono').textContent",
    );
    assert_eq!(
        variant,
        "Event::CreditTransfer(CreditTransferEvent::Completed)"
    );
    let drift = browser.text(&browser.find("#detail .card.drift table"));
    assert!(
        drift.contains("unknown_field") && drift.contains("transfer.settlement_window"),
        "{drift}"
    );
    browser.screenshot(&shots.join("delivery.png"));

    // Replay: the same GUID again, marked as a repeat in the list.
    browser.click(&browser.find("#act-replay"));
    let list = wait_rows(&browser, deliveries.len() + 1);
    assert_eq!(list[0]["guid"], drifted.id.as_str());
    assert_eq!(list[0]["status"], 200);
    assert_eq!(
        list[0]["tags"],
        serde_json::json!(["tag repeat", "tag drift"])
    );
    let toast = browser.wait_for(
        "document.querySelector('#toast:not([hidden])')?.textContent.startsWith('Replayed')
           && document.querySelector('#toast').textContent",
    );
    assert_eq!(
        toast,
        format!("Replayed {}: answered 200", drifted.id).as_str()
    );

    // Save as fixture, then send the file again with the CLI.
    browser.click(&browser.find("#act-fixture"));
    let toast = browser.wait_for(
        "document.querySelector('#toast:not([hidden])')?.textContent.startsWith('Saved ')
           && document.querySelector('#toast').textContent",
    );
    let saved = dir
        .0
        .join(toast.as_str().unwrap().strip_prefix("Saved ").unwrap());
    let fixture = Fixture::load(&saved).unwrap();
    assert_eq!(fixture.body, drifted.payload);
    assert_eq!(fixture.delivery_id(), Some(drifted.id.as_str()));
    let resent = Command::new(BIN)
        .args([
            "send",
            "--url",
            &listen.webhook(),
            "--secret",
            SECRET,
            "--replay",
        ])
        .arg(&saved)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&resent.stdout);
    assert_eq!(resent.status.code(), Some(0), "{out}");
    assert!(
        out.contains("deliveries 1  attempts 1  delivered (2xx) 1"),
        "{out}"
    );
    let list = wait_rows(&browser, deliveries.len() + 2);
    assert_eq!(list[0]["guid"], drifted.id.as_str());
    assert_eq!(list[0]["status"], 200);
    assert_eq!(
        list[0]["tags"],
        serde_json::json!(["tag repeat", "tag drift"])
    );
    // Escape closes the last message.
    browser.type_keys(&list_box, ESCAPE);
    assert!(browser.find_all("#toast:not([hidden])").is_empty());
    browser.screenshot(&shots.join("replayed.png"));

    // `/` filters, Escape goes back to the list.
    browser.type_keys(&list_box, "/");
    assert_eq!(browser.run("return document.activeElement.id;"), "f-event");
    browser.type_keys(&browser.find("#f-event"), "project.updated");
    let list = wait_rows(&browser, 1);
    assert_eq!(list[0]["guid"], deliveries[1].id.as_str());
    browser.type_keys(&browser.find("#f-event"), ESCAPE);
    assert_eq!(browser.run("return document.activeElement.id;"), "list");

    drop(browser);
    listen.stop();
    eprintln!(
        "browser test: {:.1} s, screenshots in {}",
        started.elapsed().as_secs_f64(),
        shots.display()
    );
}
