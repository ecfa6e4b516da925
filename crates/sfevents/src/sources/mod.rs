//! Sources plan units of work (one EventLogFile, one query window) and turn each unit into
//! archived events.

pub mod event_log_file;
