//! Checks of this machine: the config file and the secret files (readable, and not readable by
//! others, as ssh insists for its keys), and the archive (modes, free disk space against the
//! recent daily volume).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Report;
use outputs::config::OutputSource;
use salesforce::config::{Auth, OrgConfig, Overrides};

const SCOPE: &str = "config";

pub fn config_file(r: &mut Report, path: &Path) {
    match std::fs::read_to_string(path) {
        Ok(_) => r.ok(
            SCOPE,
            "config file",
            format!("{} is readable", path.display()),
        ),
        Err(e) => r.problem(
            SCOPE,
            "config file",
            format!(
                "cannot read {}: {e}. Fix: check the path and that this user may read it",
                path.display()
            ),
        ),
    }
}

/// The secret files named by flags, by the config's `[org.auth]` tables (every `*_file`:
/// key, client secret, password, security token, refresh token), its `[redaction]` key, and
/// the outputs' `*_file` secrets (`token_file`, `password_file`, `api_key_file`,
/// `bearer_token_file`, `header_file.*`, a syslog client `key_file`), as the `[[output]]`
/// tables and `--to` URLs were read (`outputs`). A file named twice is checked once.
pub fn secret_files(r: &mut Report, ov: &Overrides, orgs: &[OrgConfig], outputs: &[OutputSource]) {
    let mut seen: Vec<PathBuf> = Vec::new();
    let flag = |what: &str, p: Option<&PathBuf>| p.map(|p| (what.to_string(), p.clone()));
    let mut named: Vec<(String, PathBuf)> = [
        flag("private key", ov.jwt_key_file.as_ref()),
        flag("client secret", ov.client_secret_file.as_ref()),
        flag("password", ov.password_file.as_ref()),
        flag("refresh token", ov.refresh_token_file.as_ref()),
        flag(
            "pseudonymization key",
            ov.redaction.pseudonymize_key_file.as_ref(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    named.extend(orgs.iter().filter_map(|o| match &o.auth {
        Auth::Jwt { key_file, .. } => Some(("private key".to_string(), key_file.clone())),
        _ => None,
    }));
    if let Some(config) = &ov.config {
        named.extend(in_config(config));
    }
    for o in outputs {
        named.extend(o.secret_files());
    }
    for (what, path) in named {
        if seen.contains(&path) {
            continue;
        }
        seen.push(path.clone());
        secret_file(r, &what, &path);
    }
}

/// What a `*_file` key of `[org.auth]` or `[redaction]` holds, when it is a secret (`ca_file`,
/// `cert_file` are not).
fn secret_key(key: &str) -> Option<String> {
    let stem = key.strip_suffix("_file")?;
    match stem {
        "ca" | "cert" => None,
        "key" => Some("private key".into()),
        "pseudonymize_key" => Some("pseudonymization key".into()),
        s => Some(s.replace('_', " ")),
    }
}

/// The secret files the config file's `[org.auth]` tables and `[redaction]` name, relative
/// paths taken from its folder (as the configuration does). A file that cannot be parsed is
/// left to the configuration check. (The outputs' come from their own reading.)
fn in_config(config: &Path) -> Vec<(String, PathBuf)> {
    let Ok(text) = std::fs::read_to_string(config) else {
        return Vec::new();
    };
    let Ok(t) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let base = config.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    let mut add = |table: &toml::Table| {
        for (k, v) in table {
            if let (Some(what), Some(p)) = (secret_key(k), v.as_str()) {
                out.push((what, base.join(p)));
            }
        }
    };
    let orgs = match t.get("org") {
        Some(toml::Value::Array(a)) => a.iter().filter_map(|x| x.as_table()).collect(),
        Some(toml::Value::Table(x)) => vec![x],
        _ => Vec::new(),
    };
    for org in orgs {
        if let Some(auth) = org.get("auth").and_then(toml::Value::as_table) {
            add(auth);
        }
    }
    if let Some(red) = t.get("redaction").and_then(toml::Value::as_table) {
        add(red);
    }
    out
}

/// Readable by us, and by nobody else: a key readable by the group lets any member log in
/// to Salesforce as the integration user, or write to an output as sfevents.
fn secret_file(r: &mut Report, what: &str, path: &Path) {
    let label = format!("{what} file");
    if let Err(e) = std::fs::File::open(path) {
        r.problem(
            SCOPE,
            &label,
            format!(
                "cannot read {}: {e}. Fix: check the path and that the user running sfevents owns it",
                path.display()
            ),
        );
        return;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.permissions().mode() & 0o077 != 0 => r.warn(
            SCOPE,
            &label,
            format!(
                "{} is readable by group or others (mode {:04o}): anyone in them can use it as sfevents does. Fix: chmod 600 {}",
                path.display(),
                m.permissions().mode() & 0o7777,
                path.display()
            ),
        ),
        Ok(_) => r.ok(
            SCOPE,
            &label,
            format!("{} is readable and owner-only", path.display()),
        ),
        Err(e) => r.problem(SCOPE, &label, format!("{}: {e}", path.display())),
    }
}

/// The archive root and state.db: owner-only (or group-readable with archive_group_read),
/// and enough free space for some days of the recent volume.
pub fn archive(r: &mut Report, org: &OrgConfig) {
    let scope = format!("org '{}'", org.name);
    let root = &org.archive_dir;
    if !root.exists() {
        r.ok(
            &scope,
            "archive",
            format!(
                "{} does not exist yet: the first collect creates it, owner-only",
                root.display()
            ),
        );
    } else {
        let allowed = if org.archive_group_read { 0o027 } else { 0o077 };
        for (what, p) in [
            ("archive folder", root.clone()),
            ("state.db", root.join("state.db")),
        ] {
            let Ok(m) = std::fs::metadata(&p) else {
                continue;
            };
            let mode = m.permissions().mode() & 0o7777;
            if mode & allowed != 0 {
                r.warn(
                    &scope,
                    what,
                    format!(
                        "{} is open to others (mode {mode:04o}): it holds your users' activity. Fix: chmod {} {} (sfevents tightens it on its next run)",
                        p.display(),
                        if m.is_dir() { "700" } else { "600" },
                        p.display()
                    ),
                );
            } else {
                r.ok(&scope, what, format!("{} mode {mode:04o}", p.display()));
            }
        }
    }
    disk_space(r, &scope, org);
}

fn disk_space(r: &mut Report, scope: &str, org: &OrgConfig) {
    // The nearest folder that exists is where the archive will be written.
    let mut at = org.archive_dir.as_path();
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    let Some(free) = free_bytes(at) else {
        r.warn(
            scope,
            "disk space",
            format!("cannot read the free space of {}", at.display()),
        );
        return;
    };
    let daily = daily_volume(&org.archive_dir.join("state.db"));
    let gib = |b: u64| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64);
    match daily {
        Some(d) if d > 0 && free / d < 7 => r.warn(
            scope,
            "disk space",
            format!(
                "{} free at {}, {} days of the recent volume ({}/day). Fix: free space, or lower archive_keep_days / csv_keep_days",
                gib(free),
                at.display(),
                free / d,
                gib(d)
            ),
        ),
        Some(d) if d > 0 => r.ok(
            scope,
            "disk space",
            format!("{} free at {}, {} days of the recent volume", gib(free), at.display(), free / d),
        ),
        _ if free < 1 << 30 => r.warn(
            scope,
            "disk space",
            format!("only {} free at {}. Fix: free space before the first collect", gib(free), at.display()),
        ),
        _ => r.ok(scope, "disk space", format!("{} free at {}", gib(free), at.display())),
    }
}

fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a properly sized out-parameter.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Bytes committed per day over the last week, from the delivery log (read-only: doctor
/// never changes state.db).
fn daily_volume(db: &Path) -> Option<u64> {
    let reader = super::outputs::open_read_only(db)?;
    let since = (base::clock::now() - chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let total = reader.bytes_since(&since).ok()?;
    Some(total.max(0) as u64 / 7)
}
