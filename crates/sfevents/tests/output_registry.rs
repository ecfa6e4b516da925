//! Adding an output is its folder and one registration: a throwaway kind defined here, known
//! to nothing else, is registered through the public API, read from a `--to` URL and from an
//! `[[output]]` table, checked by doctor's probe, built, and shipped to by the shipper from a
//! real archive — every event once, its own setting applied.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use archive::state::{LogFile, PageCommit, Start, Store};
use futures_util::future::BoxFuture;
use outputs::config::{from_table, from_url, ConfigError, OutputConfig, Settings};
use outputs::probe::{Findings, Level};
use outputs::shipper::RetryLimit;
use outputs::{Event, OrgContext, Output, Shipper, Sink, SinkError, Verdict};

/// What the throwaway destination received: (tag, event id).
type Inbox = Arc<Mutex<Vec<(String, String)>>>;

/// The throwaway kind: `--to memory+tcp://anywhere?tag=...` keeps events in memory.
struct Memory {
    inbox: Inbox,
}

#[derive(Debug, Clone)]
struct MemoryConfig {
    tag: String,
    refuse: Vec<String>,
}

struct MemorySink {
    tag: String,
    refuse: Vec<String>,
    inbox: Inbox,
}

impl Sink for MemorySink {
    fn send<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<Vec<Verdict>, SinkError>> {
        Box::pin(async move {
            let mut inbox = self.inbox.lock().unwrap();
            Ok(events
                .iter()
                .map(|e| {
                    if self.refuse.contains(&e.id) {
                        return Verdict::Dead("refused by the memory output".into());
                    }
                    inbox.push((self.tag.clone(), e.id.clone()));
                    Verdict::Delivered
                })
                .collect())
        })
    }
}

impl Output for Memory {
    type Config = MemoryConfig;

    fn names(&self) -> &'static [&'static str] {
        &["memory", "ram"]
    }
    fn keys(&self) -> &'static [&'static str] {
        &["tag", "refuse"]
    }
    fn parse(&self, url: &url::Url, s: &Settings) -> Result<MemoryConfig, ConfigError> {
        if url.scheme() != "tcp" {
            return Err(ConfigError::invalid(
                "a memory output's url is memory+tcp://",
            ));
        }
        Ok(MemoryConfig {
            tag: s.get("tag").unwrap_or("untagged").to_string(),
            refuse: s
                .get("refuse")
                .map(|r| r.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
        })
    }
    fn sink(
        &self,
        _: &OutputConfig,
        c: &MemoryConfig,
        _: &OrgContext,
    ) -> Result<Box<dyn Sink>, SinkError> {
        Ok(Box::new(MemorySink {
            tag: c.tag.clone(),
            refuse: c.refuse.clone(),
            inbox: self.inbox.clone(),
        }))
    }
}

/// doctor's findings, kept.
#[derive(Default)]
struct Kept(Vec<(Level, String, String)>);

impl Findings for Kept {
    fn add(&mut self, level: Level, what: &str, detail: &str) {
        self.0.push((level, what.to_string(), detail.to_string()));
    }
}

/// An archive of one NDJSON file of `n` events, committed to the delivery log.
fn archive(n: usize) -> (tempfile::TempDir, Arc<Store>) {
    let d = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&d.path().join("state.db")).unwrap());
    let path = "events/login_event/2024-01-01/f0.ndjson".to_string();
    let full = d.path().join(&path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    let text: String = (0..n)
        .map(|i| {
            format!("{{\"@timestamp\":\"2024-01-01T00:00:{i:02}.000Z\",\"id\":\"e{i}\",\"source\":\"LoginEvent\",\"fields\":{{}}}}\n")
        })
        .collect();
    std::fs::write(&full, &text).unwrap();
    let lf = LogFile {
        source: "LoginEvent".into(),
        dataset: "login_event".into(),
        path,
        rows: n as u64,
        bytes: text.len() as u64,
        oldest: None,
        newest: None,
    };
    let page = PageCommit {
        source: "LoginEvent",
        seen: &[],
        files: std::slice::from_ref(&lf),
        cursor: None,
        newest: None,
    };
    store.commit_page("org", 1, &page).unwrap();
    (d, store)
}

#[tokio::test]
async fn a_kind_defined_and_registered_here_is_parsed_probed_built_and_shipped_to() {
    let inbox = Inbox::default();
    // Unknown before it registers; its names and schemes must then be new.
    let e = from_url("memory+tcp://anywhere:1").unwrap_err().to_string();
    assert!(e.contains("output type 'memory' is not known"), "{e}");
    outputs::register(Memory {
        inbox: inbox.clone(),
    })
    .expect("registered");
    assert!(outputs::register(Memory {
        inbox: inbox.clone()
    })
    .is_err());
    let last = if cfg!(feature = "lake") {
        "email, lake, memory or ram"
    } else {
        "email, memory or ram"
    };
    assert!(
        outputs::registry::kinds().ends_with(last),
        "{}",
        outputs::registry::kinds()
    );

    // Read from a `--to` URL and from a table, with the common settings and its own.
    let o = from_url("memory+tcp://anywhere:1?tag=blue&refuse=e3&max_batch_events=4").unwrap();
    assert_eq!(o.name, "memory-anywhere-1");
    assert_eq!((o.kind.type_name(), o.kind.named()), ("memory", "memory"));
    assert_eq!(o.batch.max_events, 4);
    assert_eq!(o.kind.settings::<MemoryConfig>().unwrap().tag, "blue");
    let t: toml::Table =
        toml::from_str("name = \"m\"\ntype = \"ram\"\nurl = \"tcp://anywhere:2\"\ntag = \"red\"")
            .unwrap();
    let table = from_table(&t, None).unwrap();
    assert!(table.kind.answers_to("ram") && table.kind.answers_to("memory"));
    assert_eq!(table.kind.settings::<MemoryConfig>().unwrap().tag, "red");
    let e = from_url("memory+tcp://anywhere:1?colour=blue")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the settings of a memory output are name"),
        "{e}"
    );
    assert!(e.contains("tag, refuse"), "{e}");
    let e = from_url("memory+https://anywhere").unwrap_err().to_string();
    assert!(e.ends_with("a memory output's url is memory+tcp://"), "{e}");

    // doctor: the default check; setup: nothing to install.
    let mut kept = Kept::default();
    o.probe(&mut kept).await;
    assert_eq!(kept.0.len(), 1);
    assert_eq!(kept.0[0].0, Level::Ok);
    assert!(o.setup().is_none());

    // Shipped to from an archive, as `ship` does: every event once, the refused one dead.
    let (dir, store) = archive(10);
    let org = OrgContext {
        org: "org".into(),
        instance_url: "https://acme.my.salesforce.com".into(),
        state: None,
    };
    let sink = outputs::sink(&o, &org).expect("the sink builds");
    let shipper = Shipper::new(
        &o.name,
        Arc::from(sink),
        store.clone(),
        dir.path().to_path_buf(),
        "org",
        o.batch.clone(),
        RetryLimit::bounded(2),
        Arc::new(AtomicBool::new(false)),
    );
    let r = shipper.ship(Start::Beginning).await;
    assert_eq!(r.error, None, "{r:?}");
    assert_eq!((r.delivered, r.dead, r.remaining), (9, 1, 0));
    let got = inbox.lock().unwrap().clone();
    assert_eq!(got.len(), 9);
    assert!(got.iter().all(|(tag, _)| tag == "blue"));
    assert!(!got.iter().any(|(_, id)| id == "e3"));
    let dead = std::fs::read_dir(dir.path().join("dead-letter").join(&o.name))
        .unwrap()
        .count();
    assert_eq!(dead, 1, "the refused event is dead-lettered");
}

/// Runs `sfevents setup ARGS` with no config from the environment.
fn setup(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sfevents"))
        .arg("setup")
        .args(args)
        .env_remove("SFEVENTS_CONFIG")
        .output()
        .expect("sfevents runs")
}

#[test]
fn setup_dispatches_on_its_kind() {
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    // `setup elasticsearch` as ever: outputs of other kinds need nothing.
    let o = setup(&[
        "elasticsearch",
        "--to",
        "syslog+tcp://127.0.0.1:9?name=drain",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "output 'drain': a syslog output needs no setup\n"
    );
    // `setup opensearch` takes the outputs written as OpenSearch only, and says so.
    for to in [
        "syslog+tcp://127.0.0.1:9?name=drain",
        "elasticsearch+http://127.0.0.1:9?name=es",
    ] {
        let o = setup(&["opensearch", "--to", to]);
        assert_eq!(o.status.code(), Some(2), "{to}: {}", text(&o.stdout));
        let err = text(&o.stderr);
        assert!(
            err.starts_with("error: no opensearch output to set up: write it as type = \"opensearch\" or --to opensearch+https://...")
                && err.contains("`sfevents setup elasticsearch`"),
            "{err}"
        );
    }
    // With one, the others are named and left alone (the OpenSearch one is down here).
    let o = setup(&[
        "opensearch",
        "--to",
        "elasticsearch+http://127.0.0.1:9?name=es",
        "--to",
        "opensearch+http://127.0.0.1:9?name=os",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout),
        "output 'es': left alone (written as elasticsearch, not opensearch): `sfevents setup elasticsearch` sets it up\n"
    );
    assert!(
        text(&o.stderr).contains("error: output 'os': cannot reach http://127.0.0.1:9/"),
        "{}",
        text(&o.stderr)
    );
}
