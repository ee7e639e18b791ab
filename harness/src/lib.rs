//! The ICR webhook test harness: a mock ICR sender with fault injection
//! ([`sender`]), a verifying receiver ([`listen`]) and proptest strategies
//! built at run time from the bundled JSON Schema ([`strategy`]), with
//! seeded samples drawn from them ([`samples`]), captured deliveries as
//! files to replay and test with ([`fixture`]), and the history of what
//! `listen` received ([`history`]).

pub mod fixture;
pub mod history;
pub mod listen;
pub mod samples;
pub mod sender;
pub mod stores;
pub mod strategy;
