//! Live rules for the tests: a rule file of the tests' own (a one-event rule on
//! failed ELF logins, and a correlation of one user's failures), and a config that turns them
//! on for one org's archive. Shared by the tests of detect, the alert report, its HTML page and
//! the Elasticsearch alert stream.

use std::path::{Path, PathBuf};

use sfsim::SimHandle;

/// A one-event rule (a comma in its title, which its summaries repeat) and a correlation per
/// user (group-by USER_ID, so its alerts name users by id).
pub const RULES: &str = "title: A failed login, any user
id: 0b4f7c3e-2a51-4c8e-9d57-6c3f0e1a2b01
name: test_failed_login.elf
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
  condition: selection
level: low
---
title: A failed login of a known user
id: 5d2a0c9e-3f4b-4e61-8a7c-1b2d3e4f5a60
name: test_user_failures.elf.failure
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS|startswith: LOGIN_ERROR
  filter_no_user:
    - USER_ID: ''
    - USER_ID: null
  condition: selection and not filter_no_user
---
title: Failed logins of one user
id: 9e8d7c6b-5a49-4837-9261-0f1e2d3c4b5a
name: test_user_failures.elf
status: experimental
correlation:
  type: event_count
  rules:
    - test_user_failures.elf.failure
  group-by:
    - USER_ID
  timespan: 6h
  condition:
    gte: 2
level: high
";

/// A rule that never fires: live rules on, no alert.
pub const SILENT: &str = "title: A login with an unheard-of status
id: 3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f
name: test_never.elf
status: experimental
logsource:
  product: salesforce
  service: login
detection:
  selection:
    LOGIN_STATUS: NO_SUCH_STATUS_ANYWHERE
  condition: selection
level: critical
";

/// Writes `rules` into `dir/rules/` and a config for `sim`'s org `org` archiving into
/// `archive`, EventLogFile Login only, the live rules on over that folder alone.
pub fn live_config(sim: &SimHandle, dir: &Path, org: &str, archive: &Path, rules: &str) -> PathBuf {
    let folder = dir.join("rules");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("test_rules.yml"), rules).unwrap();
    let c = &sim.credentials;
    let text = format!(
        "output_dir = \"{}\"\n[[org]]\nname = \"{org}\"\ninstance_url = \"{}\"\n[org.auth]\nclient_id = \"{}\"\nusername = \"{}\"\nkey_file = \"{}\"\n[org.event_log_file]\nevent_types = [\"Login\"]\n[detections]\nenabled = true\nbuiltin = false\nrules = [\"{}\"]\n",
        archive.display(),
        sim.url,
        c.client_id,
        c.username,
        c.private_key_file.display(),
        folder.display()
    );
    let p = dir.join("sfevents.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `sfevents collect --quiet --config cfg` as of the sim's clock.
pub async fn collect_live(sim: &SimHandle, cfg: &Path) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_sfevents"))
        .args(["collect", "--quiet", "--config"])
        .arg(cfg)
        .env("SFEVENTS_NOW", sim.now().to_rfc3339())
        .output()
        .await
        .expect("sfevents runs")
}
