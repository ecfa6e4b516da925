//! What an output is: the [`Output`] trait each folder implements once (the names `type =` and
//! `--to kind+...` take, its settings, its sink, its `doctor` check and its `setup`), and one
//! output as configured, an [`OutputConfig`] with its [`BatchLimits`].
//!
//! The shape is Vector's sink configuration (a typed config per sink, registered by name, that
//! builds the sink and its health check): here an [`Output`] reads its typed [`Output::Config`]
//! from [`Settings`], and the [`OutputKind`] of every [`OutputConfig`] keeps the output and
//! its typed settings together, so no code outside the output's folder matches on kinds. The
//! [`crate::registry`] holds each output by name with its config type erased (a `Kind`);
//! `config` reads an output's settings through it into an [`OutputConfig`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use url::Url;

use crate::notify::routing::Routing;
use crate::probe::Findings;
use crate::settings::{ConfigError, Settings};
use crate::sink::{OrgContext, Sink, SinkError};
use archive::state::Start;

/// What `setup` answers: the lines to print, or why it failed.
pub type SetupResult = Result<Vec<String>, SinkError>;

/// One kind of output.
pub trait Output: Send + Sync + 'static {
    /// Its settings, once read.
    type Config: fmt::Debug + Clone + Send + Sync + 'static;

    /// The names `type =` and the `kind+` prefix of `--to` take. The first is the kind's own
    /// name (in messages and `status`); the others are aliases (`opensearch`).
    fn names(&self) -> &'static [&'static str];

    /// URL schemes that mean this output without a `kind+` prefix (the HTTP output takes
    /// `https://...`). At most one output may claim a scheme.
    fn schemes(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its own settings, beside those every output takes (`name`, `start`, batch limits). A
    /// key ending with `.` allows any name after it (`header.`).
    fn keys(&self) -> &'static [&'static str];

    /// Its batch limits when the settings give none.
    fn batch(&self) -> BatchLimits {
        BatchLimits::default()
    }

    /// Reads its settings. `url` has no query and no `kind+` prefix, and no credentials.
    fn parse(&self, url: &Url, s: &Settings) -> Result<Self::Config, ConfigError>;

    /// Builds its sink for one org's archive; nothing need be sent yet.
    fn sink(
        &self,
        cfg: &OutputConfig,
        c: &Self::Config,
        org: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError>;

    /// `sfevents doctor`: checks that the destination is there and would accept a write,
    /// without writing an event, and reports each check to `out`.
    fn probe<'a>(
        &'a self,
        cfg: &'a OutputConfig,
        c: &'a Self::Config,
        out: &'a mut dyn Findings,
    ) -> BoxFuture<'a, ()> {
        let _ = (cfg, c);
        let kind = self.names()[0];
        Box::pin(async move {
            out.ok(
                "reachable",
                format!("a {kind} output has no check: not checked"),
            )
        })
    }

    /// A notifier's routing (`min_level`, `rules`, `suppress_minutes`): the shipper then reads
    /// only alerts and applies it. `None`: the output takes every event.
    fn routing<'a>(&self, c: &'a Self::Config) -> Option<&'a Routing> {
        let _ = c;
        None
    }

    /// How long `run` may hold back a backlog smaller than one batch (the output's
    /// `max_batch_bytes`) so that it ships as fewer, larger writes (a lake's files). `None`:
    /// ship as soon as events are committed.
    fn linger(&self, c: &Self::Config) -> Option<std::time::Duration> {
        let _ = c;
        None
    }

    /// `sfevents setup`: installs what the output needs at the destination, idempotently.
    /// `None`: it needs nothing.
    fn setup<'a>(
        &'a self,
        cfg: &'a OutputConfig,
        c: &'a Self::Config,
    ) -> Option<BoxFuture<'a, SetupResult>> {
        let _ = (cfg, c);
        None
    }
}

/// One configured output.
#[derive(Debug, Clone)]
pub struct OutputConfig {
    /// Names the output in state.db, `status`, `--output` and `dead-letter/<name>/`.
    pub name: String,
    pub start: Start,
    pub batch: BatchLimits,
    pub kind: OutputKind,
    /// `[redaction]`, applied to every event before the sink sees it (set by
    /// `config::resolve_outputs`).
    pub redaction: Option<Arc<archive::redact::Redactor>>,
}

impl OutputConfig {
    /// Builds the output's sink for one org.
    pub fn sink(&self, org: &OrgContext) -> Result<Box<dyn Sink>, SinkError> {
        self.kind.configured().sink(self, org)
    }

    /// `doctor`'s checks of the output, reported to `out`.
    pub fn probe<'a>(&'a self, out: &'a mut dyn Findings) -> BoxFuture<'a, ()> {
        self.kind.configured().probe(self, out)
    }

    /// `setup`: what the output installs at its destination; `None` when it needs nothing.
    pub fn setup(&self) -> Option<BoxFuture<'_, SetupResult>> {
        self.kind.configured().setup(self)
    }

    /// A notifier's routing; `None` for an output that takes every event.
    pub fn routing(&self) -> Option<Routing> {
        self.kind.configured().routing()
    }

    /// How long `run` may hold back a backlog smaller than one of this output's batches
    /// (see [`Output::linger`]).
    pub fn linger(&self) -> Option<Linger> {
        let max_wait = self.kind.configured().linger()?;
        Some(Linger {
            min_bytes: self.batch.max_bytes as u64,
            max_wait,
        })
    }
}

/// `run` ships an output's backlog once it holds `min_bytes` of archive lines, or once it
/// has waited `max_wait` since the backlog began (`ship` and `collect` ship at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Linger {
    pub min_bytes: u64,
    pub max_wait: std::time::Duration,
}

/// How much goes into one request, and how many requests are in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_events: usize,
    pub max_bytes: usize,
    pub in_flight: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_events: 1000,
            max_bytes: 5 * 1024 * 1024,
            in_flight: 2,
        }
    }
}

/// An [`Output`] without its config type: what the registry holds.
pub(crate) trait Kind: Send + Sync {
    fn names(&self) -> &'static [&'static str];
    fn schemes(&self) -> &'static [&'static str];
    fn keys(&self) -> &'static [&'static str];
    fn batch(&self) -> BatchLimits;
    fn parse(&self, url: &Url, s: &Settings) -> Result<Box<dyn Configured>, ConfigError>;

    fn answers_to(&self, name: &str) -> bool {
        self.names().iter().any(|n| n.eq_ignore_ascii_case(name))
    }
    fn takes_scheme(&self, scheme: &str) -> bool {
        self.schemes()
            .iter()
            .any(|s| s.eq_ignore_ascii_case(scheme))
    }
}

/// What the registry holds of `output`.
pub(crate) fn kind<T: Output>(output: T) -> Arc<dyn Kind> {
    Arc::new(Registered(Arc::new(output)))
}

struct Registered<T>(Arc<T>);

impl<T: Output> Kind for Registered<T> {
    fn names(&self) -> &'static [&'static str] {
        self.0.names()
    }
    fn schemes(&self) -> &'static [&'static str] {
        self.0.schemes()
    }
    fn keys(&self) -> &'static [&'static str] {
        self.0.keys()
    }
    fn batch(&self) -> BatchLimits {
        self.0.batch()
    }
    fn parse(&self, url: &Url, s: &Settings) -> Result<Box<dyn Configured>, ConfigError> {
        Ok(Box::new(Typed {
            output: self.0.clone(),
            config: self.0.parse(url, s)?,
        }))
    }
}

/// An output with its settings read: what an [`OutputKind`] holds.
pub(crate) trait Configured: Send + Sync {
    fn names(&self) -> &'static [&'static str];
    fn sink(&self, cfg: &OutputConfig, org: &OrgContext) -> Result<Box<dyn Sink>, SinkError>;
    fn probe<'a>(&'a self, cfg: &'a OutputConfig, out: &'a mut dyn Findings) -> BoxFuture<'a, ()>;
    fn setup<'a>(&'a self, cfg: &'a OutputConfig) -> Option<BoxFuture<'a, SetupResult>>;
    fn routing(&self) -> Option<Routing>;
    fn linger(&self) -> Option<std::time::Duration>;
    fn config(&self) -> &dyn Any;
    fn config_mut(&mut self) -> &mut dyn Any;
    fn clone_box(&self) -> Box<dyn Configured>;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

struct Typed<T: Output> {
    output: Arc<T>,
    config: T::Config,
}

impl<T: Output> Configured for Typed<T> {
    fn names(&self) -> &'static [&'static str] {
        self.output.names()
    }
    fn sink(&self, cfg: &OutputConfig, org: &OrgContext) -> Result<Box<dyn Sink>, SinkError> {
        self.output.sink(cfg, &self.config, org)
    }
    fn probe<'a>(&'a self, cfg: &'a OutputConfig, out: &'a mut dyn Findings) -> BoxFuture<'a, ()> {
        self.output.probe(cfg, &self.config, out)
    }
    fn setup<'a>(&'a self, cfg: &'a OutputConfig) -> Option<BoxFuture<'a, SetupResult>> {
        self.output.setup(cfg, &self.config)
    }
    fn routing(&self) -> Option<Routing> {
        self.output.routing(&self.config).cloned()
    }
    fn linger(&self) -> Option<std::time::Duration> {
        self.output.linger(&self.config)
    }
    fn config(&self) -> &dyn Any {
        &self.config
    }
    fn config_mut(&mut self) -> &mut dyn Any {
        &mut self.config
    }
    fn clone_box(&self) -> Box<dyn Configured> {
        Box::new(Typed {
            output: self.output.clone(),
            config: self.config.clone(),
        })
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.config, f)
    }
}

/// Which output an [`OutputConfig`] is, with its own settings.
pub struct OutputKind {
    /// The name it was given as (`opensearch` for the Elasticsearch output so named).
    named: &'static str,
    typed: Box<dyn Configured>,
}

impl OutputKind {
    pub(crate) fn new(named: &'static str, typed: Box<dyn Configured>) -> OutputKind {
        OutputKind { named, typed }
    }

    /// The output's kind as `type =` names it (its first name: `elasticsearch` for an output
    /// written as `opensearch` too).
    pub fn type_name(&self) -> &'static str {
        self.typed.names()[0]
    }

    /// The name the output was given as: `opensearch` for `type = "opensearch"` or
    /// `--to opensearch+https://...`.
    pub fn named(&self) -> &'static str {
        self.named
    }

    /// Whether `name` means this output: its kind's name, or the alias it was given as
    /// (`setup opensearch` takes the outputs written as `opensearch`, `setup elasticsearch`
    /// every Elasticsearch output).
    pub fn answers_to(&self, name: &str) -> bool {
        self.type_name().eq_ignore_ascii_case(name) || self.named.eq_ignore_ascii_case(name)
    }

    /// The output's own settings, when they are a `C` (`EsConfig`, `SyslogConfig`...).
    pub fn settings<C: 'static>(&self) -> Option<&C> {
        self.typed.config().downcast_ref()
    }

    pub fn settings_mut<C: 'static>(&mut self) -> Option<&mut C> {
        self.typed.config_mut().downcast_mut()
    }

    fn configured(&self) -> &dyn Configured {
        self.typed.as_ref()
    }
}

impl Clone for OutputKind {
    fn clone(&self) -> OutputKind {
        OutputKind {
            named: self.named,
            typed: self.typed.clone_box(),
        }
    }
}

impl fmt::Debug for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.named)?;
        self.typed.debug(f)
    }
}
