//! Checks of this machine: the config file and the secret files (readable, and not readable by
//! others, as ssh insists for its keys), and the archive (modes, free disk space against the
//! recent daily volume).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::Report;
use crate::config::{Auth, OrgConfig, Overrides};

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

/// The secret files named by flags and by the orgs' JWT settings (a file named twice is
/// checked once).
pub fn secret_files(r: &mut Report, ov: &Overrides, orgs: &[OrgConfig]) {
    let mut seen: Vec<PathBuf> = Vec::new();
    let named = [
        ("private key", ov.jwt_key_file.as_ref()),
        ("client secret", ov.client_secret_file.as_ref()),
        ("password", ov.password_file.as_ref()),
        ("refresh token", ov.refresh_token_file.as_ref()),
    ];
    let from_orgs = orgs.iter().filter_map(|o| match &o.auth {
        Auth::Jwt { key_file, .. } => Some(("private key", Some(key_file))),
        _ => None,
    });
    for (what, path) in named.into_iter().chain(from_orgs) {
        let Some(path) = path else { continue };
        if seen.contains(path) {
            continue;
        }
        seen.push(path.clone());
        secret_file(r, what, path);
    }
}

/// Readable by us, and by nobody else: a key readable by the group lets any member log in
/// to Salesforce as the integration user.
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
                "{} is readable by group or others (mode {:04o}): anyone in them can log in as the integration user. Fix: chmod 600 {}",
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
    let conn = super::outputs::open_read_only(db)?;
    let since = (crate::clock::now() - chrono::Duration::days(7))
        .format("%Y-%m-%d")
        .to_string();
    let total: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM delivery_log WHERE committed_at >= ?1",
            [since],
            |row| row.get(0),
        )
        .ok()?;
    Some(total.max(0) as u64 / 7)
}
