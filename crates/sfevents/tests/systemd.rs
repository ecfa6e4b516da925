//! The systemd units shipped in `contrib/systemd/` (README: "Running as a service"):
//!
//! - the README shows each unit exactly as shipped, so the two never drift;
//! - `systemd-analyze verify` accepts them with no message at all (systemd 252 reports an unknown
//!   key only as a warning, so any output fails the test), with `ExecStart=` pointed at the
//!   freshly built binary, since verify checks that the executable exists;
//! - a copy with a typo (`ProtectSytem=`) or a missing executable is caught, so the check has
//!   teeth;
//! - every flag on an `ExecStart=` line is one that `sfevents <command> --help` lists;
//! - `systemd-analyze security --offline=yes` rates both services at most 2.5 ("OK"), and the
//!   score is the one written in the units' "# Hardening" comment (and so in the README).
//!
//! No running systemd is needed: `systemd-analyze` works on unit files offline. It comes with
//! the `systemd` package, which `scripts/test` installs when missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const UNITS: [&str; 3] = [
    "sfevents.service",
    "sfevents-collect.service",
    "sfevents-collect.timer",
];
const SERVICES: [&str; 2] = ["sfevents.service", "sfevents-collect.service"];
/// Where the shipped units expect the binary.
const INSTALLED: &str = "/usr/local/bin/sfevents";
const MAX_EXPOSURE: f64 = 2.5;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn unit(name: &str) -> String {
    let p = repo().join("contrib/systemd").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn systemd_analyze() -> Command {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "systemd-analyze not found: install systemd (`apt-get install systemd`; scripts/test \
         installs it when missing)"
    );
    let mut c = Command::new("systemd-analyze");
    c.env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_LOG_LEVEL", "info");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The units in a temporary folder, `ExecStart=` pointing at the binary under test; `edit`
/// changes a unit's text before it is written.
fn installed(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let bin = env!("CARGO_BIN_EXE_sfevents");
    let dir = tempfile::tempdir().unwrap();
    for name in UNITS {
        let body = unit(name);
        let body = edit(name, body.replace(INSTALLED, bin));
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

fn verify(dir: &Path, names: &[&str]) -> Output {
    systemd_analyze()
        .args(["verify", "--man=no", "--no-pager"])
        .args(names.iter().map(|n| dir.join(n)))
        .output()
        .unwrap()
}

/// The fenced code blocks of the README, without their fences.
fn readme_blocks() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.starts_with("```")) {
            (None, true) => current = Some(String::new()),
            (Some(b), true) => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), false) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

#[test]
fn the_readme_shows_each_unit_as_shipped() {
    let blocks = readme_blocks();
    for name in UNITS {
        let marker = format!("(from contrib/systemd/{name})");
        let shown: Vec<&String> = blocks
            .iter()
            .filter(|b| b.lines().next().is_some_and(|l| l.ends_with(&marker)))
            .collect();
        assert_eq!(
            shown.len(),
            1,
            "README.md should show contrib/systemd/{name} once, in a code block whose first line \
             ends with {marker:?}"
        );
        assert_eq!(
            *shown[0],
            unit(name),
            "README.md's block for contrib/systemd/{name} differs from the file: copy the file \
             into the README"
        );
    }
}

#[test]
fn systemd_analyze_verify_accepts_the_units_without_a_word() {
    let dir = installed(|_, body| body);
    for name in SERVICES {
        let body = std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(
            body.contains(&format!("ExecStart={} ", env!("CARGO_BIN_EXE_sfevents"))),
            "{name}: ExecStart= was not pointed at the binary under test:\n{body}"
        );
    }
    let out = verify(dir.path(), &UNITS);
    assert!(
        out.status.success() && text(&out).trim().is_empty(),
        "systemd-analyze verify complains about contrib/systemd ({}):\n{}",
        out.status,
        text(&out)
    );
}

#[test]
fn systemd_analyze_verify_catches_a_typo_and_a_missing_binary() {
    // A misspelt key is only a warning to systemd (exit 0): the check must see the message.
    let dir = installed(|name, body| match name {
        "sfevents.service" => body.replace("ProtectSystem=strict", "ProtectSytem=strict"),
        _ => body,
    });
    let out = verify(dir.path(), &["sfevents.service"]);
    assert!(
        text(&out).contains("Unknown key 'ProtectSytem'"),
        "verify did not report the typo ({}):\n{}",
        out.status,
        text(&out)
    );

    let dir =
        installed(|_, body| body.replace(env!("CARGO_BIN_EXE_sfevents"), "/nonexistent/sfevents"));
    let out = verify(dir.path(), &["sfevents-collect.service"]);
    assert!(
        !out.status.success() && text(&out).contains("/nonexistent/sfevents"),
        "verify did not report the missing executable ({}):\n{}",
        out.status,
        text(&out)
    );
}

#[test]
fn exec_start_uses_only_flags_that_sfevents_has() {
    for name in SERVICES {
        let body = unit(name);
        let line = body
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .unwrap_or_else(|| panic!("{name}: no ExecStart="));
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some(INSTALLED), "{name}: {line}");
        let command = words.next().unwrap();
        let help = Command::new(env!("CARGO_BIN_EXE_sfevents"))
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(help.status.success(), "sfevents {command} --help failed");
        let help = String::from_utf8_lossy(&help.stdout);
        for flag in words.filter(|w| w.starts_with("--")) {
            assert!(
                help.contains(&format!("{flag} ")),
                "{name}: `sfevents {command} --help` has no {flag}"
            );
        }
    }
}

#[test]
fn systemd_analyze_security_rates_the_services_ok() {
    let dir = installed(|_, body| body);
    for name in SERVICES {
        let out = systemd_analyze()
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(dir.path().join(name))
            .output()
            .unwrap();
        let all = text(&out);
        let verdict = all
            .lines()
            .find_map(|l| l.split_once(&format!("Overall exposure level for {name}: ")))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_else(|| panic!("no exposure level for {name} ({}):\n{all}", out.status));
        let score: f64 = verdict
            .split_whitespace()
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{name}: cannot read the score in {verdict:?}"));
        assert!(
            score <= MAX_EXPOSURE,
            "{name}: exposure {verdict}, more than {MAX_EXPOSURE}:\n{all}"
        );
        let claimed = format!("# Hardening (systemd-analyze security: {score:.1} OK)");
        assert!(
            unit(name).contains(&claimed) && verdict.starts_with(&format!("{score:.1} OK")),
            "{name}: systemd-analyze security says {verdict:?}; the unit (and the README) should \
             say {claimed:?}"
        );
    }
}
