//! `run`'s metrics address: `--metrics-addr` (or `SFEVENTS_METRICS_ADDR`), else the config
//! file's top-level `metrics_addr`. None: no metrics server.

use std::net::SocketAddr;
use std::path::Path;

use super::{load_file, ConfigError};

pub fn resolve_metrics_addr(
    flag: Option<&str>,
    config: Option<&Path>,
) -> Result<Option<SocketAddr>, ConfigError> {
    let (text, from) = match flag {
        Some(f) => (Some(f.to_string()), "--metrics-addr"),
        None => match config {
            Some(c) => (load_file(c)?.metrics_addr, "metrics_addr (--metrics-addr)"),
            None => (None, ""),
        },
    };
    let Some(text) = text else {
        return Ok(None);
    };
    text.trim()
        .parse()
        .map(Some)
        .map_err(|_| ConfigError::MetricsAddr {
            flag: from,
            given: text,
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_flag_wins_and_a_bad_address_names_the_flag() {
        assert_eq!(super::resolve_metrics_addr(None, None).unwrap(), None);
        let a = super::resolve_metrics_addr(Some("127.0.0.1:9464"), None).unwrap();
        assert_eq!(a, Some("127.0.0.1:9464".parse().unwrap()));
        let e = super::resolve_metrics_addr(Some("localhost"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--metrics-addr 'localhost'"), "{e}");
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c.toml");
        std::fs::write(&f, "metrics_addr = \"0.0.0.0:9464\"\n").unwrap();
        let a = super::resolve_metrics_addr(None, Some(&f)).unwrap();
        assert_eq!(a, Some("0.0.0.0:9464".parse().unwrap()));
    }
}
