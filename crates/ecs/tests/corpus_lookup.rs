//! scripts/test's corpus lookup, run on a clone with nothing beside it: a temporary folder
//! holding only the scripts (`test`, `fetch-conformance`, `conformance.sh`) and
//! `tests/conformance/` (SOURCE.md and the checksum list), with `HOME` and `XDG_CACHE_HOME` of
//! its own. `SFEVENTS_TEST_STOP_AFTER=corpus` stops the script after the lookup; the runs that
//! must stop before building go without it, with `cargo`, `rustc`, `npm` and `apt-get` on PATH
//! replaced by stand-ins that write down any call, so that none may happen.
//!
//! The script and `ecs::corpus::Places` (which the tests use) must find the same folder and
//! print the same message when there is none. Fetching is tried against a server on 127.0.0.1
//! that holds a copy of the corpus laid out like elastic/integrations
//! (`<commit>/packages/salesforce/data_stream/<path>`, as SOURCE.md lists them), and once with a
//! byte of one file changed, which must be refused.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use ecs::corpus::{self, Places};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The stand-ins for what must not run before the corpus is there.
const GUARDED: [&str; 4] = ["cargo", "rustc", "npm", "apt-get"];

/// A clone of the repository's test scripts with nothing beside it.
struct Checkout {
    tmp: tempfile::TempDir,
}

impl Checkout {
    fn new() -> Checkout {
        let tmp = tempfile::tempdir().expect("temp dir");
        let root = tmp.path().canonicalize().expect("canonical").join("clone");
        for f in [
            "scripts/test",
            "scripts/fetch-conformance",
            "scripts/conformance.sh",
        ] {
            fs::create_dir_all(root.join("scripts")).expect("mkdir");
            fs::copy(workspace().join(f), root.join(f)).expect("copy script");
        }
        copy_dir(
            &workspace().join("tests/conformance"),
            &root.join("tests/conformance"),
        );
        let bin = tmp.path().join("bin");
        fs::create_dir_all(&bin).expect("mkdir");
        let calls = tmp.path().join("calls");
        for name in GUARDED {
            let script = format!(
                "#!/bin/sh\necho \"{name} $*\" >> '{}'\nexit 1\n",
                calls.display()
            );
            fs::write(bin.join(name), script).expect("stand-in");
            chmod_x(&bin.join(name));
        }
        Checkout { tmp }
    }

    fn base(&self) -> PathBuf {
        self.tmp.path().canonicalize().expect("canonical")
    }

    fn root(&self) -> PathBuf {
        self.base().join("clone")
    }

    /// Where the clone's "beside the workspace" is.
    fn beside(&self) -> PathBuf {
        self.base().join("shared/conformance/elastic-salesforce")
    }

    fn home(&self) -> PathBuf {
        self.base().join("home")
    }

    /// The places as `Places` sees them for this clone, with `HOME` as the cache's root.
    fn places(&self, variable: Option<&Path>) -> Places {
        Places {
            variable: variable.map(Path::to_path_buf),
            beside: self.beside(),
            cache: corpus::cache_dir(None, Some(self.home().into_os_string())),
        }
    }

    /// Runs `script` (`test` or `fetch-conformance`) with `env` on top of a clean environment.
    fn run(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let path = format!(
            "{}:{}",
            self.base().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new("bash");
        cmd.arg(self.root().join("scripts").join(script))
            .current_dir(self.base())
            .env("PATH", path)
            .env("HOME", self.home());
        for var in [
            corpus::DIR_VAR,
            "XDG_CACHE_HOME",
            "SFEVENTS_CONFORMANCE_URL",
            "SFEVENTS_TEST_STOP_AFTER",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("bash runs")
    }

    /// What the stand-ins were asked to do.
    fn calls(&self) -> String {
        fs::read_to_string(self.base().join("calls")).unwrap_or_default()
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn chmod_x(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let path = entry.expect("entry").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            copy_dir(&path, &dest);
        } else {
            fs::copy(&path, &dest).expect("copy");
        }
    }
}

/// The corpus these tests copy from: the one every conformance test reads.
fn corpus_dir() -> PathBuf {
    corpus::dir().unwrap_or_else(|e| panic!("{e}"))
}

const STOP: (&str, &str) = ("SFEVENTS_TEST_STOP_AFTER", "corpus");

#[test]
fn the_variable_comes_first_then_beside_the_workspace() {
    let c = Checkout::new();
    let copy = c.base().join("copy");
    copy_dir(&corpus_dir(), &copy);
    fs::create_dir_all(c.beside()).expect("beside");
    let var = copy.display().to_string();

    let out = c.run("test", &[STOP, (corpus::DIR_VAR, &var)]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("== conformance corpus: {var} (variable)\n")),
        "{}",
        text(&out)
    );
    assert_eq!(
        c.places(Some(&copy)).locate(),
        Ok((copy.clone(), corpus::Found::Variable))
    );

    let out = c.run("test", &[STOP]);
    assert!(out.status.success(), "{}", text(&out));
    let want = format!("== conformance corpus: {} (beside)\n", c.beside().display());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&want),
        "{}",
        text(&out)
    );
    assert_eq!(
        c.places(None).locate(),
        Ok((c.beside(), corpus::Found::Beside))
    );
    assert_eq!(c.calls(), "", "nothing but the lookup runs");
}

#[test]
fn nothing_to_find_or_fetch_stops_before_building_with_the_tests_message() {
    let c = Checkout::new();
    let closed = closed_port_url();
    let out = c.run("test", &[("SFEVENTS_CONFORMANCE_URL", &closed)]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let message = c.places(None).locate().expect_err("nothing there").0;
    assert!(stderr.ends_with(&message), "{}", text(&out));
    assert!(
        stderr.starts_with(&format!("fetch-conformance: could not fetch {closed}/")),
        "{}",
        text(&out)
    );
    assert_eq!(c.calls(), "", "nothing is installed or built");
    assert!(!c.places(None).cache.expect("cache").exists());

    // A variable that names no folder: its own message, and no fetch.
    let gone = c.base().join("gone");
    let out = c.run(
        "test",
        &[
            (corpus::DIR_VAR, &gone.display().to_string()),
            ("SFEVENTS_CONFORMANCE_URL", &closed),
        ],
    );
    assert!(!out.status.success(), "{}", text(&out));
    let message = c.places(Some(&gone)).locate().expect_err("gone").0;
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("\n{message}"),
        "{}",
        text(&out)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fetching"));
    assert_eq!(c.calls(), "");
}

#[test]
fn a_fetch_fills_the_cache_with_the_listed_files() {
    let c = Checkout::new();
    let server = Server::start(&repository_layout(c.base().join("www"), None));
    let xdg = c.base().join("xdg");
    let env = [
        STOP,
        ("SFEVENTS_CONFORMANCE_URL", server.url.as_str()),
        ("XDG_CACHE_HOME", &xdg.display().to_string()),
    ];
    let out = c.run("test", &env);
    assert!(out.status.success(), "{}", text(&out));
    let cache = corpus::cache_dir(Some(xdg.into_os_string()), None).expect("cache");
    let want = format!("== conformance corpus: {} (cache)\n", cache.display());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&want),
        "{}",
        text(&out)
    );
    assert_eq!(server.requests(), 21, "one request a file SOURCE.md lists");
    // The same bytes as the corpus the tests read, SOURCE.md (the notice) included.
    let from = corpus_dir();
    let files = listed();
    assert_eq!(files.len(), 22);
    for f in &files {
        assert_eq!(
            fs::read(cache.join(f)).expect("fetched"),
            fs::read(from.join(f)).expect("corpus"),
            "{f}"
        );
    }
    assert_eq!(c.calls(), "");

    // The cache is used, after its checksums, without fetching again.
    let out = c.run("test", &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fetching"));
    assert_eq!(server.requests(), 21);

    // A damaged cache is fetched again.
    fs::write(cache.join("apex/test-apex.log"), "{}\n").expect("damage");
    let out = c.run("test", &env);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.requests(), 42);
    assert_eq!(
        fs::read(cache.join("apex/test-apex.log")).expect("fetched"),
        fs::read(from.join("apex/test-apex.log")).expect("corpus")
    );
}

#[test]
fn a_file_that_differs_from_its_checksum_is_refused() {
    let c = Checkout::new();
    let damaged = "aura_request/test-aura-request-object-sample.log-expected.json";
    let server = Server::start(&repository_layout(c.base().join("www"), Some(damaged)));
    let url = ("SFEVENTS_CONFORMANCE_URL", server.url.as_str());
    let out = c.run("fetch-conformance", &[url]);
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "fetch-conformance: refused: {damaged} has sha256 "
        )),
        "{}",
        text(&out)
    );
    let cache = c.places(None).cache.expect("cache");
    assert!(!cache.exists(), "nothing is kept");
    let parent = cache.parent().expect("parent");
    assert_eq!(fs::read_dir(parent).expect("cache parent").count(), 0);

    // scripts/test: the same refusal, then the message, and nothing built.
    let out = c.run("test", &[url]);
    assert!(!out.status.success(), "{}", text(&out));
    let message = c.places(None).locate().expect_err("nothing kept").0;
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with(&message),
        "{}",
        text(&out)
    );
    assert_eq!(c.calls(), "");
}

/// The corpus the tests read is the one the repository's checksum list describes: every
/// listed file with its sha256 and nothing else (scripts/conformance.sh's check, which
/// scripts/test runs on the cache), and SOURCE.md's table lists the same files.
#[test]
fn the_corpus_in_use_is_the_one_the_checksums_list() {
    let dir = corpus_dir();
    let out = Command::new("bash")
        .arg("-c")
        .arg(r#"ROOT=$1; . "$ROOT/scripts/conformance.sh"; conformance_verify "$2""#)
        .arg("verify")
        .arg(workspace())
        .arg(&dir)
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", text(&out));
    let mut sourced: Vec<String> = sources().into_iter().map(|(p, _, _)| p).collect();
    sourced.push("SOURCE.md".into());
    sourced.sort();
    assert_eq!(sourced, listed());
}

/// The corpus paths of the checksum list, sorted.
fn listed() -> Vec<String> {
    let list = fs::read_to_string(workspace().join("tests/conformance/elastic-salesforce.sha256"))
        .expect("checksum list");
    let mut out: Vec<String> = list
        .lines()
        .map(|l| l.split_once("  ").expect("sha256sum format").1.to_string())
        .collect();
    out.sort();
    out
}

/// SOURCE.md's table: (corpus path, path under packages/salesforce/data_stream/, commit).
fn sources() -> Vec<(String, String, String)> {
    let md =
        fs::read_to_string(workspace().join("tests/conformance/SOURCE.md")).expect("SOURCE.md");
    md.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let commit = cells.get(3)?;
            let hex = commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| {
                (
                    cells[1].to_string(),
                    cells[2].to_string(),
                    commit.to_string(),
                )
            })
        })
        .collect()
}

/// A copy of the corpus laid out like elastic/integrations at each file's commit, with the
/// last byte of `damaged` changed.
fn repository_layout(www: PathBuf, damaged: Option<&str>) -> PathBuf {
    let from = corpus_dir();
    let rows = sources();
    assert_eq!(rows.len(), 21);
    for (path, original, commit) in rows {
        let dest = www
            .join(&commit)
            .join("packages/salesforce/data_stream")
            .join(&original);
        fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        let mut bytes = fs::read(from.join(&path)).expect("corpus file");
        if damaged == Some(path.as_str()) {
            let last = bytes.last_mut().expect("not empty");
            *last ^= 1;
        }
        fs::write(dest, bytes).expect("write");
    }
    www
}

fn closed_port_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// A file server on 127.0.0.1: `GET /<path>` answers the file under its root, or 404.
struct Server {
    url: String,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(root: &Path) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, served) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (s, n, root) = (stop.clone(), served.clone(), root.to_path_buf());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    n.fetch_add(1, Ordering::SeqCst);
                    answer(conn, &root);
                }
            }
        });
        Server {
            url,
            stop,
            served,
            thread: Some(thread),
        }
    }

    fn requests(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut conn: TcpStream, root: &Path) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    let mut request = String::new();
    let _ = reader.read_line(&mut request);
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let rel = path.trim_start_matches('/');
    let body = if rel.split('/').any(|p| p == "..") {
        None
    } else {
        fs::read(root.join(rel)).ok()
    };
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
}
