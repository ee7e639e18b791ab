//! `sign` and `verify`: the signature of a body, and one body verified and
//! parsed exactly as the SDK does.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks::receive::Secret;

use crate::cli::{EXIT_MALFORMED, EXIT_REJECTED, Failure, receiver};

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The webhook secret.
    #[arg(long)]
    secret: String,
    /// The body file; `-` or nothing for standard input.
    file: Option<PathBuf>,
}

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A webhook secret; repeat for rotation (any match accepts).
    #[arg(long = "secret", required = true)]
    secrets: Vec<String>,
    /// The `X-ICR-Event` name.
    #[arg(long)]
    event: String,
    /// The `X-ICR-Signature-256` value.
    #[arg(long)]
    signature: Option<String>,
    /// The `Content-Type`.
    #[arg(long, default_value = "application/json")]
    content_type: String,
    /// The `X-ICR-Delivery` GUID (a fresh one when absent).
    #[arg(long)]
    delivery: Option<String>,
    /// The body file; `-` or nothing for standard input.
    file: Option<PathBuf>,
}

/// `icr-webhooks sign …`.
pub(crate) fn sign(args: SignArgs) -> Result<u8, Failure> {
    let SignArgs { secret, file } = args;
    let body = read_input(file.as_ref())?;
    say!("{}", Secret::new(secret).sign(&body));
    Ok(0)
}

/// `icr-webhooks verify …`.
pub(crate) fn verify(args: VerifyArgs) -> Result<u8, Failure> {
    let VerifyArgs {
        secrets,
        event,
        signature,
        content_type,
        delivery,
        file,
    } = args;
    verify_body(
        &secrets,
        event,
        signature,
        content_type,
        delivery,
        file.as_ref(),
    )
}

fn read_input(file: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        _ => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading standard input")?;
            Ok(body)
        }
    }
}

fn verify_body(
    secrets: &[String],
    event: String,
    signature: Option<String>,
    content_type: String,
    delivery: Option<String>,
    file: Option<&PathBuf>,
) -> Result<u8, Failure> {
    let body = read_input(file)?;
    let receiver = receiver(secrets)?;
    let delivery = delivery.unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    let mut headers = vec![
        ("X-ICR-Event".to_owned(), event),
        ("X-ICR-Delivery".to_owned(), delivery),
        ("Content-Type".to_owned(), content_type),
    ];
    if let Some(signature) = signature {
        headers.push(("X-ICR-Signature-256".to_owned(), signature));
    }
    match receiver.receive(&headers, body) {
        Ok(delivery) => {
            let out = serde_json::json!({
                "event": delivery.event.name(),
                "action": delivery.event.action(),
                "delivery": delivery.info.id.as_str(),
                "known": delivery.event.is_known(),
                "payload": delivery.event,
            });
            say!("{out}");
            Ok(0)
        }
        Err(error) => {
            let code = if error.status() == 401 {
                EXIT_REJECTED
            } else {
                EXIT_MALFORMED
            };
            Err(Failure {
                code,
                error: anyhow::Error::new(error)
                    .context(format!("rejected ({})", error_status(code))),
            })
        }
    }
}

fn error_status(code: u8) -> &'static str {
    if code == EXIT_REJECTED {
        "signature"
    } else {
        "malformed delivery"
    }
}
