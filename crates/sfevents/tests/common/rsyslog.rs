//! A real rsyslog (Debian's `rsyslogd`, with its openssl and gnutls drivers) as the syslog
//! tests' receiver. It listens on 127.0.0.1 with plain TCP, TLS through the `ossl` driver, TLS
//! through the `gtls` driver, TLS that wants a client certificate, and UDP, and writes every
//! message it parsed to a file per input, one JSON object a line (rsyslog's `jsonf` escaping),
//! with the RFC 5424 fields it parsed. It can be stopped, killed and started again on the same
//! ports; dropping it kills it.

use std::collections::HashMap;
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The TLS drivers the listeners load, besides rsyslog's own modules.
const DRIVERS: [&str; 2] = ["lmnsd_ossl.so", "lmnsd_gtls.so"];

/// rsyslog's module folder: Debian's `/usr/lib/<multiarch triplet>/rsyslog` (the machine's
/// own, found rather than assumed), else `/usr/lib/rsyslog` or `/usr/lib64/rsyslog`; the first
/// that holds both TLS drivers. scripts/test looks in the same places.
fn modules() -> PathBuf {
    let mut multiarch: Vec<PathBuf> = std::fs::read_dir("/usr/lib")
        .map(|d| d.flatten().map(|e| e.path().join("rsyslog")).collect())
        .unwrap_or_default();
    multiarch.sort();
    let others = ["/usr/lib/rsyslog", "/usr/lib64/rsyslog"].map(PathBuf::from);
    let found = multiarch
        .into_iter()
        .chain(others)
        .find(|d| DRIVERS.iter().all(|m| d.join(m).is_file()));
    found.unwrap_or_else(|| {
        panic!(
            "rsyslog with its openssl and gnutls drivers ({}) is needed in /usr/lib/*/rsyslog \
             (apt install rsyslog rsyslog-openssl rsyslog-gnutls; scripts/test does)",
            DRIVERS.join(", ")
        )
    })
}

/// The listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Tcp,
    /// TLS through OpenSSL (`ossl`).
    Tls,
    /// TLS through GnuTLS (`gtls`).
    Gtls,
    /// TLS through OpenSSL that wants a client certificate signed by the CA (`x509/certvalid`).
    Mtls,
    Udp,
}

impl Input {
    /// Where rsyslog writes what this input received.
    fn file(self) -> String {
        format!("{self:?}.jsonl").to_lowercase()
    }
}

/// An SD element: its SD-ID and its params (name, unescaped value).
pub type Element = (String, Vec<(String, String)>);

/// One message as rsyslog parsed it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub version: String,
    pub pri: u8,
    pub timestamp: String,
    pub hostname: String,
    pub app_name: String,
    pub procid: String,
    pub msgid: String,
    /// `%structured-data%` as rsyslog keeps it (escapes included).
    pub structured_data: String,
    pub msg: String,
}

impl Received {
    /// The elements of the structured data, their params unescaped.
    pub fn sd(&self) -> Vec<Element> {
        parse_sd(&self.structured_data)
            .unwrap_or_else(|e| panic!("structured data {:?}: {e}", self.structured_data))
    }

    /// A param of the element `sd_id`.
    pub fn param(&self, sd_id: &str, name: &str) -> Option<String> {
        self.sd()
            .into_iter()
            .find(|(id, _)| id == sd_id)?
            .1
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The whole message as it was sent: rsyslog gives back each field as it came.
    pub fn wire(&self) -> String {
        format!(
            "<{}>{} {} {} {} {} {} {} {}",
            self.pri,
            self.version,
            self.timestamp,
            self.hostname,
            self.app_name,
            self.procid,
            self.msgid,
            self.structured_data,
            self.msg
        )
    }

    /// The event id sfevents put in its element.
    pub fn event_id(&self) -> String {
        self.param("sfevents@32473", "id")
            .unwrap_or_else(|| panic!("no event id in {:?}", self.structured_data))
    }
}

/// RFC 5424 6.3 STRUCTURED-DATA, written independently of sfevents: `[id name="v"...]...`
/// with `\"`, `\\` and `\]` in values.
pub fn parse_sd(s: &str) -> Result<Vec<Element>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '[' {
            return Err(format!("expected '[' at {c:?}"));
        }
        let mut id = String::new();
        while let Some(&c) = chars.peek() {
            if c == ' ' || c == ']' {
                break;
            }
            id.push(c);
            chars.next();
        }
        let mut params = Vec::new();
        loop {
            match chars.next() {
                Some(']') => break,
                Some(' ') => {
                    let mut name = String::new();
                    for c in chars.by_ref() {
                        if c == '=' {
                            break;
                        }
                        name.push(c);
                    }
                    if chars.next() != Some('"') {
                        return Err(format!("param {name} has no opening quote"));
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next() {
                            Some('\\') => match chars.next() {
                                Some(e @ ('"' | '\\' | ']')) => value.push(e),
                                // RFC 5424: a backslash before anything else is itself.
                                Some(other) => {
                                    value.push('\\');
                                    value.push(other);
                                }
                                None => return Err("ends inside a value".into()),
                            },
                            Some('"') => break,
                            Some(c) => value.push(c),
                            None => return Err("ends inside a value".into()),
                        }
                    }
                    params.push((name, value));
                }
                other => return Err(format!("unexpected {other:?} in element {id}")),
            }
        }
        out.push((id, params));
    }
    Ok(out)
}

pub struct Rsyslog {
    dir: tempfile::TempDir,
    pub tcp_port: u16,
    pub tls_port: u16,
    pub gtls_port: u16,
    pub mtls_port: u16,
    pub udp_port: u16,
    child: Option<Child>,
    starts: u32,
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port()
}

impl Rsyslog {
    /// Writes the configuration and certificates, and starts rsyslog. rsyslog picks its TCP
    /// ports itself (port 0, written to a file), so parallel tests never collide; they are
    /// then written into the configuration, so a restart listens on the same ones.
    pub fn start() -> Rsyslog {
        let modules = modules();
        let mut r = Rsyslog {
            tcp_port: 0,
            tls_port: 0,
            gtls_port: 0,
            mtls_port: 0,
            udp_port: free_udp_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
            starts: 0,
        };
        r.write_certificates();
        r.write_config();
        let check = Command::new("rsyslogd")
            .args(["-N1", "-f"])
            .arg(r.conf())
            .arg("-M")
            .arg(&modules)
            .output()
            .expect("rsyslogd runs");
        assert!(
            check.status.success(),
            "rsyslogd -N1 refuses the configuration:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        // imudp cannot pick its port: one taken meanwhile by another process is replaced.
        for _ in 0..3 {
            match r.launch() {
                Ok(()) => {
                    r.write_config();
                    return r;
                }
                Err(why) => {
                    eprintln!("{why}: trying another UDP port");
                    r.kill();
                    r.udp_port = free_udp_port();
                    r.write_config();
                }
            }
        }
        panic!("rsyslog found no free UDP port: {}", r.output());
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The CA that signed rsyslog's certificate (for `ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir().join("ca.pem")
    }

    /// A client certificate signed by the CA, and its key (for `cert_file` and `key_file`).
    pub fn client_files(&self) -> (PathBuf, PathBuf) {
        (
            self.dir().join("client.pem"),
            self.dir().join("client-key.pem"),
        )
    }

    fn conf(&self) -> PathBuf {
        self.dir().join("rsyslog.conf")
    }

    fn write_certificates(&self) {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::default();
        ca.distinguished_name
            .push(DnType::CommonName, "sfevents test syslog CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut leaf =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        leaf.is_ca = IsCa::ExplicitNoCa;
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        // A client certificate for the input that wants one.
        let client_key = KeyPair::generate().unwrap();
        let mut client = CertificateParams::new(vec!["sfevents.test".into()]).unwrap();
        client
            .distinguished_name
            .push(DnType::CommonName, "sfevents.test");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        client.use_authority_key_identifier_extension = true;
        let client = client.signed_by(&client_key, &issuer).unwrap();
        std::fs::write(self.client_files().0, client.pem()).unwrap();
        std::fs::write(self.client_files().1, client_key.serialize_pem()).unwrap();
        std::fs::write(self.ca_file(), ca_cert.pem()).unwrap();
        std::fs::write(self.dir().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(self.dir().join("key.pem"), key.serialize_pem()).unwrap();
    }

    fn write_config(&self) {
        std::fs::write(self.conf(), self.config_text()).unwrap();
    }

    fn config_text(&self) -> String {
        let d = self.dir().display();
        let mut rules = String::new();
        for (name, input) in [
            ("tcp", Input::Tcp),
            ("tls", Input::Tls),
            ("gtls", Input::Gtls),
            ("mtls", Input::Mtls),
            ("udp", Input::Udp),
        ] {
            rules.push_str(&format!(
                "ruleset(name=\"{name}\") {{ action(type=\"omfile\" file=\"{d}/{}\" template=\"fields\") }}\n",
                input.file()
            ));
        }
        // maxMessageSize above any test message, so rsyslog never cuts one itself. Control
        // characters are kept as they came (the default writes #012 for LF). The main queue
        // gets time to write out what it read when stopped.
        format!(
            r#"global(
  workDirectory="{d}"
  maxMessageSize="512k"
  parser.escapeControlCharactersOnReceive="off"
  DefaultNetstreamDriverCAFile="{d}/ca.pem"
  DefaultNetstreamDriverCertFile="{d}/cert.pem"
  DefaultNetstreamDriverKeyFile="{d}/key.pem"
)
main_queue(queue.timeoutShutdown="10000")
module(load="imtcp")
module(load="imudp")
template(name="fields" type="list" option.jsonf="on") {{
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
  property(outname="timestamp" name="timestamp" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app_name" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="structured_data" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
{rules}input(type="imtcp" address="127.0.0.1" port="{tcp}" listenPortFileName="{d}/tcp.port" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="{tls}" listenPortFileName="{d}/tls.port" ruleset="tls" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{gtls}" listenPortFileName="{d}/gtls.port" ruleset="gtls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{mtls}" listenPortFileName="{d}/mtls.port" ruleset="mtls" streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="udp")
"#,
            tcp = self.tcp_port,
            tls = self.tls_port,
            gtls = self.gtls_port,
            mtls = self.mtls_port,
            udp = self.udp_port,
        )
    }

    /// Starts rsyslog again (after [`Rsyslog::stop`] or [`Rsyslog::kill`]) on the same ports,
    /// and waits until every listener takes messages.
    pub fn run(&mut self) {
        if let Err(why) = self.launch() {
            panic!("{why}: {}", self.output());
        }
    }

    /// Starts rsyslog and waits for its listeners; `Err` when UDP never takes the probe.
    fn launch(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "rsyslog is already running");
        self.starts += 1;
        let log = std::fs::File::create(self.dir().join(format!("rsyslogd-{}.out", self.starts)))
            .unwrap();
        for name in ["tcp", "tls", "gtls", "mtls"] {
            let _ = std::fs::remove_file(self.dir().join(format!("{name}.port")));
        }
        let child = Command::new("rsyslogd")
            .args(["-n", "-f"])
            .arg(self.conf())
            .arg("-i")
            .arg(self.dir().join("rsyslogd.pid"))
            .arg("-M")
            .arg(modules())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("rsyslogd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        // The ports rsyslog listens on, as it wrote them.
        let dir = self.dir().to_path_buf();
        let port = |name: &str| {
            std::fs::read_to_string(dir.join(format!("{name}.port")))
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok())
                .filter(|p| *p != 0)
        };
        // The first start picks the ports and writes them to files; restarts reuse them.
        let known = [self.tcp_port, self.tls_port, self.gtls_port, self.mtls_port];
        let ports = loop {
            let ports: Option<Vec<u16>> = if known == [0; 4] {
                ["tcp", "tls", "gtls", "mtls"]
                    .iter()
                    .map(|n| port(n))
                    .collect()
            } else {
                Some(known.to_vec())
            };
            let listening = |p: &Vec<u16>| {
                p.iter()
                    .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok())
            };
            if let Some(p) = ports.filter(listening) {
                break p;
            }
            self.assert_running();
            assert!(
                Instant::now() < deadline,
                "rsyslog does not listen: {}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        [self.tcp_port, self.tls_port, self.gtls_port, self.mtls_port] =
            [ports[0], ports[1], ports[2], ports[3]];
        // UDP gives no sign of listening: send a probe until it is written.
        let token = format!("probe-of-start-{}", self.starts);
        let probe = format!("<14>1 - - probe - - - {token}");
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let udp_file = self.dir().join(Input::Udp.file());
        while !std::fs::read_to_string(&udp_file).is_ok_and(|t| t.contains(&token)) {
            self.assert_running();
            if Instant::now() > deadline {
                return Err(format!(
                    "rsyslog does not take UDP on port {}",
                    self.udp_port
                ));
            }
            udp.send_to(probe.as_bytes(), ("127.0.0.1", self.udp_port))
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Some(status) = c.try_wait().unwrap() {
                panic!("rsyslogd ended with {status}: {}", self.output());
            }
        }
    }

    /// What rsyslogd printed, for failures.
    pub fn output(&self) -> String {
        (1..=self.starts)
            .map(|n| {
                std::fs::read_to_string(self.dir().join(format!("rsyslogd-{n}.out")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// SIGTERM, and waits until rsyslog has written out what it read and exited.
    pub fn stop(&mut self) {
        self.signal_and_wait("TERM");
    }

    /// SIGKILL: whatever rsyslog had not yet written is lost.
    pub fn kill(&mut self) {
        self.signal_and_wait("KILL");
    }

    fn signal_and_wait(&mut self, signal: &str) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let ok = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{signal} rsyslogd failed");
        let deadline = Instant::now() + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("rsyslogd did not stop on SIG{signal}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The messages sfevents sent (probes left out), as rsyslog parsed them.
    pub fn received(&self, input: Input) -> Vec<Received> {
        let text = std::fs::read_to_string(self.dir().join(input.file())).unwrap_or_default();
        // A line being written may be incomplete: only whole lines count.
        let whole = match text.rfind('\n') {
            Some(i) => &text[..=i],
            None => "",
        };
        whole
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("rsyslog wrote a line that is not JSON ({e}): {l}"));
                let s = |k: &str| {
                    v[k].as_str()
                        .unwrap_or_else(|| panic!("{k} in {l}"))
                        .to_string()
                };
                Received {
                    version: s("version"),
                    pri: s("pri").parse().unwrap(),
                    timestamp: s("timestamp"),
                    hostname: s("hostname"),
                    app_name: s("app_name"),
                    procid: s("procid"),
                    msgid: s("msgid"),
                    structured_data: s("structured_data"),
                    msg: s("msg"),
                }
            })
            .filter(|r| r.app_name != "probe")
            .collect()
    }

    /// Waits until an input has at least `n` messages from sfevents, and returns them.
    pub async fn wait_for(&self, input: Input, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received(input);
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{:?}: {} of {n} messages arrived\n{}",
                input,
                got.len(),
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every archived event arrived at `input` at least once; returns what arrived.
    pub async fn wait_for_all(
        &self,
        input: Input,
        want: &HashMap<String, Value>,
        within: Duration,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received(input);
            let n = counts(&got);
            if want.keys().all(|k| n.contains_key(k)) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} events arrived\n{}",
                want.keys().filter(|k| n.contains_key(*k)).count(),
                want.len(),
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// How often each event id arrived.
pub fn counts(got: &[Received]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for r in got {
        *m.entry(r.event_id()).or_default() += 1;
    }
    m
}

/// Each event arrived at least once, and at most `batch` of them twice.
pub fn check_repeats(got: &[Received], want: &HashMap<String, Value>, batch: usize) {
    let n = counts(got);
    let missing = want.keys().filter(|k| !n.contains_key(*k)).count();
    assert_eq!(missing, 0, "{missing} of {} events lost", want.len());
    assert!(n.keys().all(|k| want.contains_key(k)));
    let repeats: usize = n.values().map(|c| c - 1).sum();
    eprintln!(
        "{} events, {} messages, {repeats} repeats",
        want.len(),
        got.len()
    );
    assert!(
        repeats <= batch,
        "{repeats} repeats, more than one batch of {batch}"
    );
}
