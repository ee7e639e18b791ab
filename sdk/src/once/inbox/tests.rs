//! Unit tests of the inbox: the retry delays and the bounded error chain.

use super::worker::error_chain;
use super::*;

#[test]
fn delays_grow_to_the_cap_and_stop_after_the_last_attempt() {
    let policy = RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(5),
        factor: 2.0,
    };
    let delays: Vec<Option<Duration>> = (1..=5).map(|n| policy.delay_after(n)).collect();
    assert_eq!(
        delays,
        [
            Some(Duration::from_secs(1)),
            Some(Duration::from_secs(2)),
            Some(Duration::from_secs(4)),
            Some(Duration::from_secs(5)),
            None
        ]
    );
    let once = RetryPolicy {
        attempts: 0,
        ..policy
    };
    assert_eq!(once.delay_after(1), None, "at least one attempt, no retry");
}

#[test]
fn the_error_chain_is_bounded_on_a_char_boundary() {
    let long = std::io::Error::other("é".repeat(600));
    let text = error_chain(&long);
    assert_eq!(text.len(), 1000);
    assert!(text.chars().all(|c| c == 'é'));
}
