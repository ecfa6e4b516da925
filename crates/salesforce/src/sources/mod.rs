//! Sources plan units of work (one EventLogFile, one query window or page) and turn each unit
//! into archived events.

mod elf_listing;
pub mod event_log_file;
pub mod event_objects;
pub mod records;
pub mod sobjects;
pub mod streaming;
