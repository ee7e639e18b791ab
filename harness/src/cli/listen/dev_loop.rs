//! The development loop of `listen`, from its flags: the history it opens,
//! where it forwards, the inspector and the check that keeps the inspector
//! off a non-loopback address without a token.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use anyhow::Context as _;
use icr_webhooks::Receiver;
use icr_webhooks::receive::Secret;
use icr_webhooks_harness::history::{History, HistorySpec, Retention, Writer};
use icr_webhooks_harness::listen::{DevLoop, Forward, InspectorConfig, Url};
use tokio::sync::watch;

/// The flags of the development loop.
pub(super) struct DevLoopArgs {
    /// `None` with `--no-history`.
    pub(super) history: Option<HistorySpec>,
    pub(super) retention: Retention,
    pub(super) ui: bool,
    pub(super) ui_token: Option<String>,
    pub(super) forward_to: Option<Url>,
    pub(super) forward_secret: Option<String>,
    pub(super) fixtures_dir: PathBuf,
    /// The current secret (the last `--secret`): replays are signed with it.
    pub(super) secret: String,
}

/// The loop once started, to hand to the listener and to finish.
pub(super) struct Started {
    pub(super) dev: DevLoop,
    /// The history and its writer, unless `--no-history`.
    history: Option<(History, Writer)>,
}

impl DevLoopArgs {
    /// Refuses `--ui` on an address others can reach, without a token.
    pub(super) fn check(&self, local: SocketAddr) -> anyhow::Result<()> {
        if self.ui && self.ui_token.is_none() && !local.ip().is_loopback() {
            anyhow::bail!(
                "refusing --ui on {local}: the inspector shows every payload, so on an address other than loopback it needs --ui-token TOKEN (or listen on --addr 127.0.0.1:{})",
                local.port()
            );
        }
        Ok(())
    }

    /// Opens the history and sets up forwarding and the inspector; says so
    /// on stderr.
    pub(super) fn start(
        self,
        local: SocketAddr,
        receiver: Receiver,
        stopped: watch::Receiver<bool>,
    ) -> anyhow::Result<Started> {
        let Some(spec) = self.history else {
            tell!("history off (--no-history): requests are not kept");
            return Ok(Started {
                dev: DevLoop {
                    history: None,
                    forward: None,
                    inspector: None,
                },
                history: None,
            });
        };
        let (history, recorder, writer) = History::open(&spec, self.retention, receiver)
            .with_context(|| format!("opening the history {spec}"))?;
        tell!(
            "history {} (at most {} requests, none older than {} s)",
            spec,
            self.retention.max,
            self.retention.max_age.as_secs()
        );
        let self_url: Url = format!("http://{}", reachable(local))
            .parse()
            .map_err(anyhow::Error::from)?;
        let forward = self.forward_to.map(|url| Forward {
            url,
            secret: self.forward_secret.map(Secret::new),
        });
        if let Some(forward) = &forward {
            tell!(
                "forwarding each checked delivery to {} ({}) and answering with its status",
                forward.url,
                if forward.secret.is_some() {
                    "re-signed with --forward-secret"
                } else {
                    "with the signature received"
                }
            );
        }
        let inspector = self.ui.then(|| {
            match &self.ui_token {
                Some(_) => {
                    tell!("inspector on http://{local}/_icr/ (open it with ?token=YOUR_TOKEN once)")
                }
                None => tell!("inspector on http://{local}/_icr/"),
            }
            InspectorConfig {
                token: self.ui_token,
                secret: Secret::new(self.secret),
                self_url,
                fixtures_dir: self.fixtures_dir,
                stopped,
            }
        });
        Ok(Started {
            dev: DevLoop {
                history: Some((history.clone(), recorder)),
                forward,
                inspector,
            },
            history: Some((history, writer)),
        })
    }
}

impl Started {
    /// Once the server has stopped: writes what is queued for the history.
    pub(super) async fn finish(self) {
        let Self { dev, history } = self;
        drop(dev);
        let Some((history, writer)) = history else {
            return;
        };
        writer.finish().await;
        if history.dropped() > 0 {
            tell!(
                "history: {} requests not recorded (the writer was behind)",
                history.dropped()
            );
        }
    }
}

/// An address to reach `local` at from this host: loopback for an
/// unspecified one.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), local.port())
        }
        _ => local,
    }
}
