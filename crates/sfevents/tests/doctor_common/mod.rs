//! What the doctor tests share: the org, running `sfevents doctor` against it, and reading its
//! lines.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use crate::common::*;
use sfsim::SimConfig;

/// An org with LoginEvent records and hourly files, its clock frozen.
pub fn org() -> SimConfig {
    let mut c = small_config(7);
    c.freeze_clock = true;
    c
}

pub async fn doctor(sim: &sfsim::SimHandle, dir: &std::path::Path, extra: &[&str]) -> Output {
    doctor_with_key(sim, dir, None, extra).await
}

/// [`doctor`] with the JWT key read from `key` instead of sfsim's.
pub async fn doctor_with_key(
    sim: &sfsim::SimHandle,
    dir: &std::path::Path,
    key: Option<&std::path::Path>,
    extra: &[&str],
) -> Output {
    let mut args = vec!["doctor".to_string()];
    let mut auth = auth_args(sim, dir);
    if let Some(key) = key {
        let i = auth.iter().position(|a| a == "--jwt-key-file").unwrap();
        auth[i + 1] = key.display().to_string();
    }
    args.extend(auth);
    args.extend(
        ["--object", "LoginEvent", "--event-type", "Login"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    doctor_args(sim, &args).await
}

/// `sfevents <args>` with a clean environment, judged against the simulator's frozen now.
pub async fn doctor_args(sim: &sfsim::SimHandle, args: &[String]) -> Output {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("SFEVENTS_") || k == "SSL_CERT_FILE" {
            cmd.env_remove(k);
        }
    }
    // Files are judged against the simulator's frozen now.
    cmd.env("SFEVENTS_NOW", sim.now().to_rfc3339());
    cmd.output().await.expect("sfevents runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The first line starting with `level` that holds every one of `words`.
pub fn line_with(o: &Output, level: &str, words: &[&str]) -> String {
    stdout(o)
        .lines()
        .find(|l| l.starts_with(level) && words.iter().all(|w| l.contains(w)))
        .unwrap_or_else(|| panic!("no {level} line with {words:?}\n{}", describe(o)))
        .to_string()
}

/// Writes `text` to `dir/name` with `mode` and returns the path as text.
pub fn secret_file(dir: &std::path::Path, name: &str, text: &str, mode: u32) -> String {
    let p = dir.join(name);
    std::fs::write(&p, format!("{text}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.display().to_string()
}

/// Everything doctor printed, stdout and stderr.
pub fn printed(o: &Output) -> String {
    format!(
        "{}{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr).into_owned()
    )
}

/// Doctor against an org started from `c`, in a fresh folder: it must exit 1.
pub async fn doctor_refused(c: SimConfig) -> Output {
    let sim = start(c).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = doctor(&sim, dir.path(), &[]).await;
    assert_exit(&out, 1);
    out
}
