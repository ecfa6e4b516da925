//! A real SMTP server for the email output's tests: aiosmtpd (PyPI, installed by
//! `scripts/test` into the venv at `$SFEVENTS_SIGMA_VENV`, else
//! `~/.cache/sfevents/sigma-venv`) running `smtp_server.py` beside this file, with a generated
//! CA and certificate, STARTTLS (or implicit TLS) and AUTH required, each mail it takes written
//! as a `.eml` file. Unlike the other receivers it is not ours: it is the server, started and
//! stopped by the handle.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::tls;

/// How clients reach it: STARTTLS on a plain port, or TLS from the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    StartTls,
    Implicit,
}

/// One running aiosmtpd, stopped when dropped.
pub struct Smtp {
    child: Child,
    pub port: u16,
    ca: PathBuf,
    mails: PathBuf,
    _dir: tempfile::TempDir,
}

/// The venv `scripts/test` fills with the tests' Python tools (sigma-cli, DuckDB, aiosmtpd):
/// `$SFEVENTS_SIGMA_VENV`, else `sfevents/sigma-venv` in the user's cache.
pub fn test_venv() -> PathBuf {
    match std::env::var_os("SFEVENTS_SIGMA_VENV") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .expect("HOME or XDG_CACHE_HOME is set");
            cache.join("sfevents").join("sigma-venv")
        }
    }
}

/// The venv's python, which must import aiosmtpd.
pub fn python() -> PathBuf {
    let dir = test_venv();
    let python = dir.join("bin").join("python");
    let ok = Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} cannot import aiosmtpd, the SMTP server of the email tests: run scripts/test, \
         which installs aiosmtpd==1.4.6 into that venv (or point SFEVENTS_SIGMA_VENV at a venv \
         that has it)",
        python.display()
    );
    python
}

impl Smtp {
    /// Starts the server, requiring AUTH with `user` and `password`; panics (naming
    /// `scripts/test`) when aiosmtpd is missing.
    pub fn start(mode: Mode, user: &str, password: &str) -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let g = tls::generate().expect("a test certificate");
        let (ca, cert, key) = (
            dir.path().join("ca.pem"),
            dir.path().join("server.pem"),
            dir.path().join("server.key"),
        );
        std::fs::write(&ca, g.ca_pem).unwrap();
        std::fs::write(&cert, g.cert_chain_pem).unwrap();
        std::fs::write(&key, g.key_pem).unwrap();
        let mails = dir.path().join("mails");
        std::fs::create_dir(&mails).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/smtp/smtp_server.py");
        let mode = match mode {
            Mode::StartTls => "starttls",
            Mode::Implicit => "smtps",
        };
        let mut child = Command::new(python())
            .arg(script)
            .args(["--mode", mode, "--user", user, "--password", password])
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--dir")
            .arg(&mails)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP server");
        // It prints READY <port> once it listens (or dies, closing stdout).
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            panic!("the SMTP server did not start (it printed {line:?}; its errors are above)");
        };
        Smtp {
            child,
            port,
            ca,
            mails,
            _dir: dir,
        }
    }

    /// The CA that signed its certificate (a client's `ca_file`).
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The files of the mails it took (`.eml`, each with its envelope beside it as `.json`),
    /// in the order it took them.
    pub fn mail_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.mails)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
