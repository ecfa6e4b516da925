//! The process exit codes every command uses (README, "Exit codes").

/// Everything was done.
pub const OK: u8 = 0;
/// Some units failed or the run stopped early (API limit, network); what was collected is kept.
pub const PARTIAL: u8 = 1;
/// Usage, configuration or credentials error: nothing was collected.
pub const CONFIG: u8 = 2;
