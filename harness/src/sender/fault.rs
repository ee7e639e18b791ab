//! The faults the sender injects, with the status an SDK receiver answers
//! to each.

/// A fault to inject into one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Fault {
    /// Signed with a secret the receiver does not have.
    WrongSecret,
    /// No `X-ICR-Signature-256` header.
    MissingSignature,
    /// The signature header with one hex digit changed.
    CorruptedSignature,
    /// One byte of the body changed after signing.
    BodyChangedAfterSigning,
    /// `X-ICR-Event` names another known event than the payload's.
    WrongEventHeader,
    /// A body one byte over the 25 MiB limit.
    OversizedBody,
    /// The payload cut in half, then signed: valid signature, broken JSON.
    TruncatedBody,
    /// A JSON body labelled as a form body.
    ContentTypeMismatch,
    /// The body sent in small pieces over about a second; still valid.
    SlowBody,
}

impl Fault {
    /// Every fault, in a fixed order.
    pub const ALL: [Self; 9] = [
        Self::WrongSecret,
        Self::MissingSignature,
        Self::CorruptedSignature,
        Self::BodyChangedAfterSigning,
        Self::WrongEventHeader,
        Self::OversizedBody,
        Self::TruncatedBody,
        Self::ContentTypeMismatch,
        Self::SlowBody,
    ];

    /// The name used on the command line (`wrong-secret`).
    pub fn name(self) -> &'static str {
        match self {
            Self::WrongSecret => "wrong-secret",
            Self::MissingSignature => "missing-signature",
            Self::CorruptedSignature => "corrupted-signature",
            Self::BodyChangedAfterSigning => "body-changed",
            Self::WrongEventHeader => "wrong-event",
            Self::OversizedBody => "oversized-body",
            Self::TruncatedBody => "truncated-body",
            Self::ContentTypeMismatch => "content-type-mismatch",
            Self::SlowBody => "slow-body",
        }
    }

    /// The fault of a command-line name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|fault| fault.name() == name)
    }

    /// The status a receiver built on the SDK answers (contract section 8).
    pub fn expected_status(self) -> u16 {
        match self {
            Self::WrongSecret
            | Self::MissingSignature
            | Self::CorruptedSignature
            | Self::BodyChangedAfterSigning => 401,
            Self::OversizedBody => 413,
            Self::WrongEventHeader | Self::TruncatedBody | Self::ContentTypeMismatch => 400,
            Self::SlowBody => 200,
        }
    }
}
