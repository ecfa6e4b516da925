//! What the lake tests share: the lake venv's python and `lake.py` (moto, boto3, DuckDB with
//! httpfs, chDB), an S3 server, an archive of two orgs with a delivery log, and the rows the
//! tests write.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use archive::state::{ElfFields, FileEntry, LogFile, PageCommit, Start, Store};
use outputs::probe::{Findings, Level};
use outputs::shipper::RetryLimit;
use outputs::{OrgContext, OutputConfig, ShipReport, Shipper, Sink};
use serde_json::{json, Value};

pub const ORG_A: &str = "00DA00000000001AAA";
pub const ORG_B: &str = "00DB00000000002AAA";
pub const KEY_VAR: &str = "SFEVENTS_TEST_LAKE_KEY";
pub const SECRET_VAR: &str = "SFEVENTS_TEST_LAKE_SECRET";

/// The lake tests' venv: `$SFEVENTS_LAKE_VENV`, else `sfevents/lake-venv` in the cache, where
/// `scripts/test` makes it.
pub fn lake_venv() -> PathBuf {
    match std::env::var_os("SFEVENTS_LAKE_VENV") {
        Some(d) => PathBuf::from(d),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .expect("HOME or XDG_CACHE_HOME is set");
            cache.join("sfevents").join("lake-venv")
        }
    }
}

/// The lake venv's python, which must import moto, boto3, duckdb with its httpfs wheel, chdb
/// and pydantic-ocsf (checked once).
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            let python = lake_venv().join("bin").join("python");
            let ok = Command::new(&python)
                .args([
                    "-c",
                    "import moto.server, boto3, duckdb, duckdb_extension_httpfs, chdb, ocsf.v1_1_0",
                ])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "{} cannot import moto, boto3, duckdb, duckdb_extension_httpfs, chdb and ocsf \
                 (pydantic-ocsf), which the lake tests need: run scripts/test, which installs \
                 them into that venv (or point SFEVENTS_LAKE_VENV at a venv that has them)",
                python.display()
            );
            python
        })
        .clone()
}

pub fn helper() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lake/lake.py")
}

/// moto's S3 server with one bucket, `lake`; stopped (its stdin closed, then killed) on drop.
pub struct Moto {
    pub child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Moto {
        let mut child = Command::new(python())
            .arg(helper())
            .args(["serve", "lake"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("moto did not start: {line:?}")
        });
        Moto { child, port }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The lake's URL in this server, under `prefix`, with `extra` settings.
    pub fn url(&self, prefix: &str, extra: &str) -> String {
        std::env::set_var(KEY_VAR, "testing");
        std::env::set_var(SECRET_VAR, "testing");
        format!(
            "s3://lake/{prefix}?region=us-east-1&endpoint={}&access_key_id_env={KEY_VAR}&secret_access_key_env={SECRET_VAR}{extra}",
            self.endpoint()
        )
    }

    /// Every object of the bucket, listed through the S3 API: key -> (size, ETag).
    pub fn list(&self) -> BTreeMap<String, (u64, String)> {
        let out = Command::new(python())
            .arg(helper())
            .args(["list", &self.endpoint(), "lake"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Stores `body` as the object `key` of the bucket.
    pub fn put(&self, key: &str, body: &[u8]) {
        let mut child = Command::new(python())
            .arg(helper())
            .args(["put", &self.endpoint(), "lake", key])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(body).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The layout's root under `prefix`, as DuckDB names it: `s3://lake/<prefix>/sfevents/v1`.
    pub fn root(&self, prefix: &str) -> String {
        format!("s3://lake/{prefix}/sfevents/v1")
    }

    /// Runs DuckDB statements that read `s3://` URLs from this server (httpfs).
    pub fn duckdb(&self, statements: &[&str]) -> Result<Vec<Vec<Value>>, String> {
        run_duckdb(Some(&self.endpoint()), statements)
    }

    /// DuckDB's counts per (org_id, dataset, event_date) over the lake under `prefix`, read
    /// straight from the S3 API.
    pub fn counts(&self, prefix: &str, options: &str) -> Counts {
        counts(Some(&self.endpoint()), &self.root(prefix), options)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs DuckDB statements over local files (the last one's rows are returned).
pub fn duckdb(statements: &[&str]) -> Result<Vec<Vec<Value>>, String> {
    run_duckdb(None, statements)
}

/// Runs DuckDB statements, with httpfs pointed at the S3 server `endpoint` when given.
fn run_duckdb(endpoint: Option<&str>, statements: &[&str]) -> Result<Vec<Vec<Value>>, String> {
    let mut args = vec!["sql"];
    args.extend(endpoint);
    run_helper(&args, &statements.join("\n;;\n"))
}

/// Runs a ClickHouse query in chDB: its rows.
pub fn chdb(query: &str) -> Result<Vec<Vec<Value>>, String> {
    run_helper(&["chdb"], query)
}

/// Runs the Python helper with `args`, `input` on its stdin: the rows it prints as JSON, or
/// its stderr when it fails.
fn run_helper(args: &[&str], input: &str) -> Result<Vec<Vec<Value>>, String> {
    let mut child = Command::new(python())
        .arg(helper())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

/// (org id, dataset, day) -> rows.
pub type Counts = BTreeMap<(String, String, String), u64>;

/// An archive of two orgs with a delivery log, and how many rows of each partition it holds.
pub struct Archive {
    pub dir: tempfile::TempDir,
    pub store: Arc<Store>,
    pub written: Counts,
    pub files: usize,
}

impl Archive {
    pub fn new() -> Archive {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(&dir.path().join("state.db")).unwrap());
        Archive {
            dir,
            store,
            written: Counts::new(),
            files: 0,
        }
    }

    /// Two days of ApiTotalUsage rows for org A and of LoginEvent records for org B, the rows
    /// of each file out of time order.
    pub fn standard() -> Archive {
        let mut a = Archive::new();
        for (day, n) in [("2026-12-01", 1500), ("2026-12-02", 900)] {
            a.add("a", elf_rows(ORG_A, day, n, &format!("0AT{day}"), false));
            a.add("b", login_rows(ORG_B, day, n / 3));
        }
        a
    }

    /// Writes `lines` as one NDJSON file of `org`'s archive: its path, and the file for the
    /// log.
    fn write(&mut self, lines: &[Value]) -> LogFile {
        let first = &lines[0];
        let source = first["source"].as_str().unwrap().to_string();
        let kind = first["event_type"].as_str().unwrap_or(&source).to_string();
        let dataset = archive::normalize::dataset(&kind);
        self.files += 1;
        let path = format!("events/{dataset}/f{}.ndjson", self.files);
        let full = self.dir.path().join(&path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let mut text = String::new();
        for l in lines {
            text.push_str(&serde_json::to_string(l).unwrap());
            text.push('\n');
            let day = l["@timestamp"].as_str().unwrap()[..10].to_string();
            let org_id = l["org_id"].as_str().unwrap().to_string();
            *self
                .written
                .entry((org_id, dataset.clone(), day))
                .or_default() += 1;
        }
        std::fs::write(&full, &text).unwrap();
        LogFile {
            source: source.clone(),
            dataset,
            path,
            rows: lines.len() as u64,
            bytes: text.len() as u64,
            oldest: None,
            newest: None,
        }
    }

    /// Writes `lines` as one NDJSON file of `org`'s archive and commits it to the log (as an
    /// object page: nothing declared of an EventLogFile's columns, as in older archives).
    pub fn add(&mut self, org: &str, lines: Vec<Value>) {
        let lf = self.write(&lines);
        let source = lf.source.clone();
        let page = PageCommit {
            source: &source,
            seen: &[],
            files: std::slice::from_ref(&lf),
            cursor: None,
            newest: None,
        };
        self.store.commit_page(org, 1, &page).unwrap();
    }

    /// Writes the rows of one EventLogFile (`lines`, all of one file) and commits it as the
    /// collector does, with the `LogFileFieldNames`/`LogFileFieldTypes` Salesforce gave.
    pub fn add_elf(&mut self, org: &str, lines: Vec<Value>, fields: Option<ElfFields>) {
        let lf = self.write(&lines);
        let first = &lines[0];
        let s = |k: &str| first[k].as_str().unwrap().to_string();
        let entry = FileEntry {
            file_id: s("file_id"),
            event_type: s("event_type"),
            log_date: s("log_date"),
            interval: s("interval"),
            sequence: first["sequence"].as_i64().unwrap(),
            created_date: s("log_date"),
            rows: lf.rows,
            bytes: lf.bytes,
            sha256: String::new(),
            csv_path: format!("output/{}.csv", s("file_id")),
            ndjson_path: lf.path.clone(),
            ndjson_bytes: lf.bytes,
            oldest: None,
            fields,
        };
        self.store.commit_file(org, 1, &entry, None, None).unwrap();
    }

    /// Keeps an object's field types, as the collector does after describing it.
    pub fn describe(&self, org: &str, object: &str, types: &[(&str, &str)]) {
        let t: Vec<(String, String)> = types
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        self.store.set_object_fields(org, object, &t).unwrap();
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    /// The context `sfevents ship` gives an output for `org` of this archive.
    pub fn ctx(&self, org: &str) -> OrgContext {
        OrgContext {
            org: org.to_string(),
            instance_url: "https://x.my.salesforce.com".into(),
            state: Some(self.state()),
        }
    }

    pub fn rows(&self) -> u64 {
        self.written.values().sum()
    }

    /// Ships both orgs to the output `to` (a `--to` URL), as `sfevents ship` does.
    pub async fn ship(&self, to: &str) -> Vec<ShipReport> {
        let cfg = outputs::config::from_url(to).unwrap();
        let mut reports = Vec::new();
        for org in ["a", "b"] {
            reports.push(self.ship_org(&cfg, org).await);
        }
        reports
    }

    pub async fn ship_org(&self, cfg: &OutputConfig, org: &str) -> ShipReport {
        let sink = outputs::sink(cfg, &self.ctx(org)).unwrap();
        self.ship_with(cfg, org, Arc::from(sink)).await
    }

    /// Ships `org` to `cfg`'s output through `sink`, as `sfevents ship` does.
    pub async fn ship_with(
        &self,
        cfg: &OutputConfig,
        org: &str,
        sink: Arc<dyn Sink>,
    ) -> ShipReport {
        Shipper::new(
            &cfg.name,
            sink,
            self.store.clone(),
            self.dir.path().to_path_buf(),
            org,
            cfg.batch.clone(),
            RetryLimit::bounded(2),
            Arc::new(AtomicBool::new(false)),
        )
        .ship(Start::Beginning)
        .await
    }
}

/// Every report delivered all it read, without an error; the rows delivered in total.
pub fn delivered(reports: &[ShipReport]) -> u64 {
    for r in reports {
        assert!(r.error.is_none(), "{:?}", r.error);
        assert_eq!((r.dead, r.remaining), (0, 0), "{r:?}");
    }
    reports.iter().map(|r| r.delivered).sum()
}

/// EventLogFile ApiTotalUsage rows of one day, as the archive writes them. `extra` adds a
/// column Salesforce might add in a new release.
pub fn elf_rows(org: &str, day: &str, n: usize, file_id: &str, extra: bool) -> Vec<Value> {
    let scope = format!("{:x}", fxhash(&format!("{org}{file_id}")));
    (0..n)
        .map(|i| {
            // Spread over the day, out of order: the file must come out sorted.
            let secs = (i * 7919) % 86_400;
            let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
            let ts = format!("{day}T{h:02}:{m:02}:{s:02}.{:03}Z", i % 1000);
            let compact = format!("{}{h:02}{m:02}{s:02}.{:03}", day.replace('-', ""), i % 1000);
            let mut fields = json!({
                "TIMESTAMP": compact,
                "TIMESTAMP_DERIVED": ts,
                "USER_ID": format!("005{:015}", i % 40),
                "API_FAMILY": if i % 2 == 0 { "REST" } else { "SOAP" },
                "RUN_TIME": format!("{}", i % 300),
                "DB_TOTAL_TIME": if i % 5 == 0 { String::new() } else { format!("{}.{}", i % 90, i % 10) },
                "CLIENT_IP": format!("10.0.{}.{}", i % 250, i % 200),
            });
            if extra {
                fields["NEW_COLUMN"] = json!(format!("v{i}"));
            }
            json!({
                "@timestamp": ts, "id": format!("{scope}-{}", i + 1), "org_id": org,
                "source": "EventLogFile", "event_type": "ApiTotalUsage", "file_id": file_id,
                "log_date": format!("{day}T00:00:00.000Z"), "interval": "Daily",
                "sequence": 1, "row": i + 1, "fields": fields,
            })
        })
        .collect()
}

/// LoginEvent records of one day, with JSON values as the API returns them.
pub fn login_rows(org: &str, day: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let secs = (n - i) * 61 % 86_400;
            let ts = format!(
                "{day}T{:02}:{:02}:{:02}.000Z",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            json!({
                "@timestamp": ts, "id": format!("login-{org}-{day}-{i}"), "org_id": org,
                "source": "LoginEvent",
                "fields": {
                    "attributes": {"type": "LoginEvent"},
                    "Id": format!("0Lg{i:015}"),
                    "EventDate": ts.replace('Z', "+0000"),
                    "Status": if i % 4 == 0 { "Failed" } else { "Success" },
                    "LoginLatency": i as i64 * 3,
                    "SessionLevel": null,
                },
            })
        })
        .collect()
}

pub fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

/// DuckDB's counts per (org_id, dataset, event_date) over the local lake under `root`.
pub fn lake_counts(root: &Path, options: &str) -> Counts {
    counts(None, &root.display().to_string(), options)
}

/// DuckDB's counts per (org_id, dataset, event_date) over the lake under `root`, a folder or
/// an `s3://` URL of the S3 server `endpoint`.
fn counts(endpoint: Option<&str>, root: &str, options: &str) -> Counts {
    let q = format!(
        "SELECT org_id, dataset, CAST(event_date AS VARCHAR), count(*) FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true{options}) GROUP BY ALL ORDER BY ALL"
    );
    run_duckdb(endpoint, &[&q])
        .unwrap()
        .into_iter()
        .map(|r| {
            let s = |i: usize| r[i].as_str().unwrap().to_string();
            ((s(0), s(1), s(2)), r[3].as_u64().unwrap())
        })
        .collect()
}

/// `<prefix>/sfevents/v1/org_id=<id>/dataset=<name>/event_date=<YYYY-MM-DD>/
/// part-<seq>_<row>-<seq>_<row>-<nnn>.parquet`, the first span not after the second.
pub fn regex_like_key() -> impl Fn(&str) -> bool {
    |k: &str| {
        let p: Vec<&str> = k.split('/').collect();
        let ok_stem = span_of(p.last().unwrap()).is_some();
        p.len() == 8
            && p[..4] == ["team", "sf", "sfevents", "v1"]
            && p[4].starts_with("org_id=00D")
            && p[5].starts_with("dataset=")
            && p[6].len() == "event_date=2026-12-01".len()
            && p[6].starts_with("event_date=2026-12-0")
            && ok_stem
    }
}

/// The delivery-log span `((seq, row), (seq, row))` a lake file's name says it holds.
pub fn span_of(file: &str) -> Option<((u64, u64), (u64, u64))> {
    let stem = file.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let parts: Vec<&str> = stem.split('-').collect();
    let pos = |t: &str| -> Option<(u64, u64)> {
        let (a, b) = t.split_once('_')?;
        let digits = |x: &str| x.len() >= 10 && x.bytes().all(|c| c.is_ascii_digit());
        (digits(a) && digits(b)).then(|| (a.parse().unwrap(), b.parse().unwrap()))
    };
    let n_ok =
        parts.len() == 3 && parts[2].len() == 3 && parts[2].bytes().all(|c| c.is_ascii_digit());
    let (first, last) = (pos(parts.first()?)?, pos(parts.get(1)?)?);
    (n_ok && first <= last).then_some((first, last))
}

/// Collects doctor's findings.
#[derive(Default)]
pub struct Found(pub Vec<(Level, String, String)>);

impl Findings for Found {
    fn add(&mut self, level: Level, what: &str, detail: &str) {
        self.0.push((level, what.to_string(), detail.to_string()));
    }
}

/// An archive line of `org` at `ts`: an EventLogFile row of `event_type`, or an object record
/// of `source`.
pub fn line(org: &str, ts: &str, id: &str, kind: (&str, &str), fields: Value) -> Value {
    let mut l = json!({"@timestamp": ts, "id": id, "org_id": org, "fields": fields});
    match kind {
        ("EventLogFile", t) => {
            l["source"] = "EventLogFile".into();
            l["event_type"] = t.into();
            l["file_id"] = format!("0AT{t}").into();
            l["log_date"] = format!("{}T00:00:00.000Z", &ts[..10]).into();
            l["interval"] = "Hourly".into();
            l["sequence"] = 1.into();
            l["row"] = 1.into();
        }
        (source, _) => l["source"] = source.into(),
    }
    l
}

/// Writes events of the sources the OCSF profile maps, counting what each OCSF source
/// should hold per (source, org id, eventDay).
struct OcsfWriter<'a> {
    archive: &'a mut Archive,
    expect: Counts,
    n: usize,
}

impl OcsfWriter<'_> {
    /// One file of `rows` (the `fields` of each) for `org`, alternately on two days; `source`
    /// is the OCSF source they belong to, `None` for a source with no class.
    fn add(
        &mut self,
        org: (&str, &str),
        kind: (&str, &str),
        source: Option<&str>,
        rows: Vec<Value>,
    ) {
        let (org, org_id) = org;
        let mut lines = Vec::new();
        for (i, f) in rows.into_iter().enumerate() {
            self.n += 1;
            let day = ["2026-12-01", "2026-12-02"][i % 2];
            let ts = format!("{day}T{:02}:{:02}:00.000Z", i % 24, self.n % 60);
            lines.push(line(org_id, &ts, &format!("ocsf-{}", self.n), kind, f));
            if let Some(s) = source {
                let key = (s.to_string(), org_id.to_string(), day.replace('-', ""));
                *self.expect.entry(key).or_default() += 1;
            }
        }
        self.archive.add(org, lines);
    }
}

const AUTH: Option<&str> = Some("salesforce-authentication");
const WEB: Option<&str> = Some("salesforce-web-resources-activity");

/// ELF Login rows: every third one failed.
fn elf_login(i: usize) -> Value {
    let status = match i % 3 {
        0 => "LOGIN_ERROR_INVALID_PASSWORD",
        _ => "LOGIN_NO_ERROR",
    };
    json!({"USER_ID": format!("005{i:012}"), "USER_NAME": format!("u{i}@example.com"),
        "CLIENT_IP": "10.0.0.9", "LOGIN_STATUS": status, "LOGIN_TYPE": "Application",
        "BROWSER_TYPE": "Chrome 120", "RUN_TIME": format!("{i}"), "TLS_PROTOCOL": "TLSv1.3"})
}

fn elf_api(method: &str) -> Value {
    json!({"USER_ID": "005A", "CLIENT_IP": "10.0.0.9", "METHOD_NAME": method,
        "ENTITY_NAME": "Account", "REQUEST_ID": "4abc", "API_VERSION": "61.0", "ROWS_PROCESSED": "5"})
}

fn setup_change(action: &str) -> Value {
    json!({"Action": action, "Section": "Manage Users", "Display": format!("did {action}"),
        "CreatedById": "005C", "DelegateUser": null})
}

/// Events of every source the OCSF profile maps, and one it does not (ApiTotalUsage), for
/// org A (EventLogFile) and org B (objects) over two days. Returns the count per
/// (OCSF source, org id, eventDay).
pub fn ocsf_sources(archive: &mut Archive) -> Counts {
    let mut w = OcsfWriter {
        archive,
        expect: Counts::new(),
        n: 0,
    };
    let (a, b) = (("a", ORG_A), ("b", ORG_B));
    let elf = |t| ("EventLogFile", t);
    w.add(a, elf("Login"), AUTH, (0..9).map(elf_login).collect());
    let logout = json!({"USER_ID": "005A", "SESSION_KEY": "sk", "USER_INITIATED_LOGOUT": "1"});
    w.add(a, elf("Logout"), AUTH, vec![logout.clone(), logout]);
    let apis = ["query", "create", "update", "delete", "describeGlobal"].map(elf_api);
    w.add(
        a,
        elf("API"),
        Some("salesforce-api-activity"),
        apis.to_vec(),
    );
    let export = json!({"USER_ID": "005A", "REPORT_ID": "00O1", "CLIENT_IP": "10.0.0.9"});
    w.add(a, elf("ReportExport"), WEB, vec![export]);
    let usage = json!({"USER_ID": "005A", "API_FAMILY": "REST"});
    w.add(a, elf("ApiTotalUsage"), None, vec![usage.clone(), usage]);

    let login = json!({"attributes": {"type": "LoginEvent"}, "UserId": "005B",
        "Username": "b@example.com", "SourceIp": "192.0.2.7", "Status": "Failed: Invalid Password",
        "LoginType": "Remote Access 2.0", "City": "Paris", "CountryIso": "FR", "LoginLatency": 42,
        "EventDate": "2026-12-01T10:00:00.000+0000"});
    w.add(b, ("LoginEvent", ""), AUTH, vec![login.clone(), login]);
    let users = vec![setup_change("resetpassword"), setup_change("frozeuser")];
    w.add(
        b,
        ("SetupAuditTrail", ""),
        Some("salesforce-account-change"),
        users,
    );
    let other = vec![setup_change("changedApexClass")];
    w.add(
        b,
        ("SetupAuditTrail", ""),
        Some("salesforce-entity-management"),
        other,
    );
    let lv = json!({"UserId": "005B", "ListViewId": "00B1", "Name": "All Accounts",
        "SourceIp": "192.0.2.7"});
    w.add(b, ("ListViewEvent", ""), WEB, vec![lv]);
    w.expect
}
