//! CSV -> NDJSON throughput of one core: the EventLogFile hot path.
//!
//! Generates a realistic EventLogFile CSV with sfgen (one big daily file per event type), then
//! times, single-threaded:
//!
//! * `process`: the two steps a collection run takes per file, `convert_body` (the CSV to an
//!   NDJSON file, 256 KiB buffered, fsynced) then `install` (both renamed into the archive),
//!   here over a spooled file rather than the body as it downloads (so without the download's
//!   own spool writing and hashing);
//! * `encode`: the same `convert_csv` loop with the NDJSON lines thrown away (no
//!   output file, no fsync): the CPU cost alone.
//!
//! Input MB/s is CSV bytes (10^6) per second; the median of the runs is reported.
//!
//! `cargo bench -p sfevents --bench normalize`; environment knobs:
//! `SFEVENTS_BENCH_MB` (CSV size per type, default 200), `SFEVENTS_BENCH_RUNS` (default 5),
//! `SFEVENTS_BENCH_TYPES` (comma-separated, default `API,URI`),
//! `SFEVENTS_BENCH_DIR` (scratch folder, default the system temp folder).

use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use archive::Archive;
use chrono::{TimeZone, Utc};
use salesforce::sources::event_log_file::{convert, convert_body, install, ElfFile};
use sfgen::{Interval, Org, OrgSpec};

fn env_or<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// Counts what is written and keeps none of it.
#[derive(Default)]
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        std::hint::black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The CPU part only: the collector's own CSV -> NDJSON conversion, lines discarded.
fn encode_only(spool: &Path, f: &ElfFile, org_id: &str) -> (u64, u64) {
    let mut out = Counter::default();
    let input = fs::File::open(spool).expect("spool");
    let rows = convert(f, org_id, input, &mut out).expect("convert").rows;
    (rows, out.0)
}

fn main() {
    let mb: u64 = env_or("SFEVENTS_BENCH_MB", 200);
    let runs: usize = env_or("SFEVENTS_BENCH_RUNS", 5).max(1);
    let types: Vec<String> = std::env::var("SFEVENTS_BENCH_TYPES")
        .unwrap_or_else(|_| "API,URI".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let scratch = match std::env::var_os("SFEVENTS_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .expect("scratch folder");

    println!(
        "normalize bench: {mb} MB CSV per type, {runs} runs, single thread, scratch {}",
        scratch.path().display()
    );
    println!();
    println!("| event type | CSV MB | rows | NDJSON MB | path | median s | input MB/s | rows/s | min s | max s |");
    println!("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|");

    for t in &types {
        // A fixed anchor: the oldest day's daily file exists whatever the time of day.
        let org = Org::generate(OrgSpec {
            seed: 7,
            days: 1,
            anchor: Utc.with_ymd_and_hms(2024, 3, 8, 12, 0, 0).unwrap(),
            event_types: vec![t.clone()],
            hourly: false,
            rows_per_hour: (1, 1),
            late_files: false,
            big_file_bytes: Some(mb * 1_000_000),
            records_per_hour: (0, 0),
            duplicate_event_identifiers: false,
        });
        let meta = org
            .files
            .iter()
            .find(|f| f.event_type == *t && f.interval == Interval::Daily)
            .expect("the big daily file")
            .clone();
        let root = scratch.path().join(t);
        let archive = Archive::open(&root).expect("archive");
        let spool = archive.spool_path(&meta.id);
        let gen_start = Instant::now();
        let mut csv_bytes = 0u64;
        {
            let mut w = BufWriter::with_capacity(1 << 20, fs::File::create(&spool).unwrap());
            for chunk in org.body(&meta.id, 1 << 16) {
                csv_bytes += chunk.len() as u64;
                w.write_all(&chunk).unwrap();
            }
            w.flush().unwrap();
        }
        eprintln!(
            "{t}: generated {csv_bytes} bytes, {} rows in {:.1}s",
            meta.row_count,
            gen_start.elapsed().as_secs_f64()
        );
        let f = ElfFile {
            id: meta.id.clone(),
            event_type: meta.event_type.clone(),
            log_date: meta.log_date,
            hourly: false,
            interval: "Daily".into(),
            sequence: 0,
            created_raw: meta.created_date.to_rfc3339(),
            created: meta.created_date,
            length: Some(csv_bytes),
            path: String::new(),
            fields: None,
        };
        drop(org);

        // Warm the page cache and check the row count once.
        let (rows, ndjson_bytes) = encode_only(&spool, &f, "00D000000000001AAA");
        assert_eq!(rows, meta.row_count, "rows parsed = rows generated");

        let mut enc_times = Vec::new();
        for _ in 0..runs {
            let s = Instant::now();
            let r = encode_only(&spool, &f, "00D000000000001AAA");
            enc_times.push(s.elapsed());
            assert_eq!(r.0, rows);
        }

        let mut proc_times = Vec::new();
        for _ in 0..runs {
            let s = Instant::now();
            let body = fs::File::open(&spool).expect("spool");
            let c = convert_body(&archive, &f, "00D000000000001AAA", None, body).expect("convert");
            let p = install(&archive, &f, c, &spool).expect("install");
            proc_times.push(s.elapsed());
            assert_eq!(p.converted.rows, rows);
            // Put the CSV back for the next run; drop the NDJSON.
            fs::rename(&p.csv_path, &spool).unwrap();
            fs::remove_file(&p.ndjson_path).unwrap();
        }

        for (name, times) in [
            ("convert_body + install (file + fsync)", proc_times),
            ("encode only (no output)", enc_times),
        ] {
            let (min, max) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
            let med = median(times);
            println!(
                "| {t} | {:.1} | {rows} | {:.1} | {name} | {:.3} | {:.1} | {:.0} | {:.3} | {:.3} |",
                csv_bytes as f64 / 1e6,
                ndjson_bytes as f64 / 1e6,
                med.as_secs_f64(),
                mbps(csv_bytes, med),
                rows as f64 / med.as_secs_f64(),
                min.as_secs_f64(),
                max.as_secs_f64(),
            );
        }
        fs::remove_dir_all(&root).ok();
    }
}
