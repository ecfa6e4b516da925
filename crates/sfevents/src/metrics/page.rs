//! The Prometheus text exposition format 0.0.4: families of samples with their `# HELP` and
//! `# TYPE` lines, label values escaped.

use std::fmt::Write as _;

/// The metric types the pages use.
pub(super) const C: &str = "counter";
pub(super) const G: &str = "gauge";

/// One metric family: its samples must be written together, after its `# HELP` and `# TYPE`.
struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: String,
}

#[derive(Default)]
pub(super) struct Page {
    families: Vec<Family>,
}

impl Page {
    pub(super) fn put(
        &mut self,
        name: &'static str,
        kind: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(Family {
                    name,
                    kind,
                    help,
                    samples: String::new(),
                });
                self.families.len() - 1
            }
        };
        let s = &mut self.families[i].samples;
        s.push_str(name);
        if !labels.is_empty() {
            s.push('{');
            for (n, (k, v)) in labels.iter().enumerate() {
                if n > 0 {
                    s.push(',');
                }
                let _ = write!(s, "{k}=\"{}\"", escape(v));
            }
            s.push('}');
        }
        let _ = writeln!(s, " {}", number(value));
    }

    pub(super) fn text(self) -> String {
        let mut out = String::new();
        for f in self.families {
            let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
            out.push_str(&f.samples);
        }
        out
    }
}

/// A label value as the format wants it: `\`, `"` and newline escaped.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust prints whole floats without a fraction (3.0 -> "3"), which Prometheus accepts.
        format!("{v}")
    }
}

pub(super) fn seconds(ts: &str) -> Option<f64> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// The process's resident set, from /proc/self/status (Linux; absent elsewhere).
pub(super) fn rss_bytes() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn samples_of_a_family_are_together_and_labels_escaped() {
        let mut p = super::Page::default();
        p.put("a_total", "counter", "A.", &[("x", "q\"\\\n")], 1.0);
        p.put("b", "gauge", "B.", &[], 2.5);
        p.put("a_total", "counter", "A.", &[("x", "y")], 3.0);
        assert_eq!(
            p.text(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"q\\\"\\\\\\n\"} 1\na_total{x=\"y\"} 3\n# HELP b B.\n# TYPE b gauge\nb 2.5\n"
        );
    }
}
