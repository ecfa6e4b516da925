//! Detections: Sigma rules over archive events.
//!
//! - `ruleset`: loads rules (the built-in pack in `pack`, extra folders), applies `[detections]`
//!   (disabled names, allowlists compiled to Sigma filters in `allowlist`) and describes each
//!   rule (`RuleInfo`).
//! - `detector`: evaluates events one at a time, in-process, with rsigma: detection rules,
//!   correlations (on the events' own `@timestamp`) and the two sfevents extensions
//!   (`extension`: `new_value`, `baseline`); its state exports and imports whole, so a consumer
//!   can commit it with its position.
//! - `alert`: the alert document, with its deterministic id.
//! - `samples`: `rules test`, each rule's `rsigma.exemplars`.
//!
//! Rules name fields as the record is archived under `fields` (`USER_ID`, `SourceIp`,
//! `CreatedBy.Username`), plus `org_id`; `logsource` is `product: salesforce` and
//! `service: <dataset>`.

pub mod alert;
pub mod allowlist;
pub mod detector;
mod error;
pub mod event;
pub mod extension;
pub mod fields;
pub mod pack;
mod partition;
pub mod reorder;
pub mod rule;
pub mod ruleset;
pub mod samples;

pub use alert::Alert;
pub use detector::Detector;
pub use error::{EventError, RuleError};
pub use event::ArchiveEvent;
pub use rule::{Level, RuleInfo, RuleKind};
pub use ruleset::{RuleSet, RuleSources};
