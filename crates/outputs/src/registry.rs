//! The outputs sfevents knows, each listed once: the names `type =` and `--to kind+...` take
//! and the bare URL schemes they answer to. Config parsing finds the [`Output`] a table or URL
//! names here; the [`crate::OutputKind`] it makes of it then takes [`crate::sink`], `doctor` and
//! `setup` to that output. Adding an output is a folder and one line in `builtin` (or, outside
//! this crate, one [`register`] call).

use std::sync::{Arc, LazyLock, RwLock};

use crate::output::{kind, Kind, Output};

/// The outputs sfevents has, one line each, in the order error messages list them.
fn builtin() -> Vec<Arc<dyn Kind>> {
    vec![
        kind(crate::elasticsearch::Elasticsearch),
        kind(crate::syslog::Syslog),
        kind(crate::logplex::Logplex),
        kind(crate::splunk::Splunk),
        kind(crate::http::Http),
        kind(crate::webhook::Webhook),
        kind(crate::pagerduty::PagerDuty),
        kind(crate::notify::chat::ChatOutput::<crate::slack::Slack>::new()),
        kind(crate::notify::chat::ChatOutput::<crate::teams::Teams>::new()),
        kind(crate::email::Email),
        #[cfg(feature = "lake")]
        kind(crate::lake::LakeOutput),
    ]
}

/// Why [`register`] refused an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("an output needs at least one name")]
    Unnamed,
    #[error("output name '{0}' is taken")]
    NameTaken(String),
    #[error("URL scheme '{0}' is taken by another output")]
    SchemeTaken(String),
}

static REGISTRY: LazyLock<RwLock<Vec<Arc<dyn Kind>>>> = LazyLock::new(|| RwLock::new(builtin()));

/// Adds an output kind for this process: from then on `[[output]]` tables and `--to` URLs
/// may name it, and `sink`, `doctor` and `setup` reach it. Its names and schemes must be new.
pub fn register<T: Output>(output: T) -> Result<(), RegistryError> {
    let new = kind(output);
    let mut all = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if new.names().is_empty() {
        return Err(RegistryError::Unnamed);
    }
    for n in new.names() {
        if all.iter().any(|k| k.answers_to(n)) {
            return Err(RegistryError::NameTaken(n.to_string()));
        }
    }
    for s in new.schemes() {
        if all.iter().any(|k| k.takes_scheme(s)) {
            return Err(RegistryError::SchemeTaken(s.to_string()));
        }
    }
    all.push(new);
    Ok(())
}

fn read() -> std::sync::RwLockReadGuard<'static, Vec<Arc<dyn Kind>>> {
    REGISTRY.read().unwrap_or_else(|e| e.into_inner())
}

/// The output a `type =` name or `kind+` prefix means, and that name as it registered it.
pub(crate) fn by_name(name: &str) -> Option<(Arc<dyn Kind>, &'static str)> {
    read().iter().find_map(|k| {
        let n = k.names().iter().find(|n| n.eq_ignore_ascii_case(name))?;
        Some((k.clone(), *n))
    })
}

/// A name outputs answer to: the kind's own name, or one of its aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Named {
    /// The kind's own name (`elasticsearch`).
    pub kind: &'static str,
    /// The name as registered (`opensearch`).
    pub name: &'static str,
}

impl Named {
    /// An alias names some of the kind's outputs (those written with it), not all.
    pub fn is_alias(&self) -> bool {
        self.kind != self.name
    }
}

/// What `name` means, if any output answers to it (`setup <kind>`).
pub fn lookup(name: &str) -> Option<Named> {
    let (k, name) = by_name(name)?;
    Some(Named {
        kind: k.names()[0],
        name,
    })
}

/// The name of the output a bare URL scheme means (`https` → `http`).
pub(crate) fn by_scheme(scheme: &str) -> Option<&'static str> {
    read()
        .iter()
        .find(|k| k.takes_scheme(scheme))
        .map(|k| k.names()[0])
}

/// Every name outputs answer to, as messages list them: `a, b or c`.
pub fn kinds() -> String {
    let names: Vec<&str> = read()
        .iter()
        .flat_map(|k| k.names().iter().copied())
        .collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}
