//! Email: alerts mailed over SMTP, `--to smtp://host:587?from=...&to=...` (STARTTLS) or
//! `smtps://host:465?...` (TLS from the first byte); the settings are in `config`.
//!
//! One mail per alert, its `Message-ID` made of the alert id (`message`), so a mail sent again
//! after a crash is recognisable as the same. The shipper moves its position only after the
//! server has taken the mail (250 to the DATA): a crash in between sends that mail again, it
//! never loses one.
//!
//! Digests (`digest_minutes = N`, N > 0): the shipper hands this output only the alerts
//! committed at least N minutes ago (`Routing::gather_secs`), so a pass of `run`'s shipper
//! gathers about N minutes of alerts, and each batch of them (at most `max_batch_events`,
//! 20 by default: raise it for long digests) becomes one mail listing them, its `Message-ID`
//! made of the first and last alert ids. The position moves only after that mail is taken, so
//! a crash sends the digest again and never loses an alert. `collect` sends what is older than
//! N minutes; the rest waits for the next pass.
//!
//! Answers: a 5xx for a recipient or the message dead-letters the alert (or every alert of a
//! digest) with the server's words; refused credentials (535), a TLS failure or a server
//! without STARTTLS stop the output with the fix; 4xx, refused connections and timeouts are
//! tried again. The password never reaches a message.

pub mod config;
pub mod message;
pub mod smtp;

use std::sync::OnceLock;

use futures_util::future::BoxFuture;
use lettre::AsyncTransport;
use url::Url;

use self::config::EmailConfig;
use self::smtp::Transport;
use crate::notify::sink::{AlertSink, Deliver};
use crate::notify::{AlertView, Routing};
use crate::output::{BatchLimits, Output, OutputConfig};
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{Event, OrgContext, Sink, SinkError, Verdict};

/// `type = "email"`, `--to smtp://...`, `--to smtps://...` (or `email+smtp://...`).
pub struct Email;

impl Output for Email {
    type Config = EmailConfig;

    fn names(&self) -> &'static [&'static str] {
        &["email"]
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["smtp", "smtps"]
    }
    fn keys(&self) -> &'static [&'static str] {
        config::KEYS
    }
    fn batch(&self) -> BatchLimits {
        crate::notify::BATCH
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<EmailConfig, ConfigError> {
        config::parse(url, s)
    }
    fn sink(
        &self,
        _: &OutputConfig,
        c: &EmailConfig,
        _: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        // Checked now (a bad ca_file stops the output at once), built on first use.
        smtp::tls_parameters(c)?;
        let mailer = Mailer {
            cfg: c.clone(),
            transport: OnceLock::new(),
        };
        Ok(if c.digest_minutes > 0 {
            Box::new(Digest(mailer))
        } else {
            Box::new(AlertSink::new(mailer, c.interval))
        })
    }
    fn probe<'a>(
        &'a self,
        _: &'a OutputConfig,
        c: &'a EmailConfig,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        Box::pin(smtp::probe(c, out))
    }
    fn routing<'a>(&self, c: &'a EmailConfig) -> Option<&'a Routing> {
        Some(&c.routing)
    }
}

/// Sends mails through one pooled transport.
struct Mailer {
    cfg: EmailConfig,
    /// Built inside the runtime on the first mail (lettre's pool starts a task).
    transport: OnceLock<Result<Transport, SinkError>>,
}

impl Mailer {
    fn transport(&self) -> Result<&Transport, SinkError> {
        self.transport
            .get_or_init(|| smtp::transport(&self.cfg))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Sends one mail: the verdict on the alerts in it, or the batch's error.
    async fn send(&self, mail: Result<lettre::Message, String>) -> Result<Verdict, SinkError> {
        let mail = match mail {
            Ok(m) => m,
            // A mail that cannot be made (an address lettre refuses) never will be.
            Err(why) => return Ok(Verdict::Dead(why)),
        };
        match self.transport()?.send(mail).await {
            Ok(_) => Ok(Verdict::Delivered),
            Err(e) => smtp::refusal(&self.cfg, &e).into_verdict(),
        }
    }
}

impl Deliver for Mailer {
    fn deliver<'a>(
        &'a self,
        alert: &'a AlertView,
        _: &'a Event,
    ) -> BoxFuture<'a, Result<Verdict, SinkError>> {
        Box::pin(self.send(message::alert(&self.cfg, alert)))
    }
}

/// `digest_minutes > 0`: the whole batch in one mail, every alert of it sharing its verdict.
struct Digest(Mailer);

impl Digest {
    async fn send_all(&self, events: &[Event]) -> Result<Vec<Verdict>, SinkError> {
        let alerts: Vec<Option<AlertView>> =
            events.iter().map(|e| AlertView::of(e.value())).collect();
        let listed: Vec<AlertView> = alerts.iter().flatten().cloned().collect();
        let verdict = if listed.is_empty() {
            Verdict::Delivered
        } else {
            self.0.send(message::digest(&self.0.cfg, &listed)).await?
        };
        Ok(alerts
            .iter()
            .map(|a| match a {
                Some(_) => verdict.clone(),
                None => Verdict::Dead("the archived event is not an alert".into()),
            })
            .collect())
    }
}

impl Sink for Digest {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(self.send_all(events))
    }
}
