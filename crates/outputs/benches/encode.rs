//! Per-event CPU of the shipper's encoders on one core: reading an archive line into an
//! [`outputs::Event`], and the ECS document written from the line (`ecs::LineEncoder`) beside
//! the tree path (`Normalizer::ecs` over the parsed line, serialised). The tree path is the
//! alternative measured in the same run; the bench fails if the two write different bytes.
//!
//! `cargo bench -p outputs --bench encode`; knobs: `SFEVENTS_BENCH_EVENTS` (default 200000),
//! `SFEVENTS_BENCH_TYPE` (default `ApiTotalUsage`).

use std::io::{Read, Write};
use std::time::Instant;

use flate2::write::GzEncoder;

use archive::normalize::{convert_csv, ElfProvenance};
use chrono::{TimeZone, Utc};
use ecs::{LineEncoder, Normalizer, Options};
use outputs::Event;

/// The archive lines of one big generated file, with its CSV and provenance.
fn lines(event_type: &str, want: usize) -> (Vec<String>, Vec<u8>, ElfProvenance) {
    let org = sfgen::Org::generate(sfgen::OrgSpec {
        seed: 7,
        days: 2,
        anchor: Utc.with_ymd_and_hms(2024, 3, 3, 13, 37, 12).unwrap(),
        event_types: vec![event_type.into()],
        hourly: false,
        rows_per_hour: (1, 1),
        late_files: false,
        big_file_bytes: Some(want as u64 * 450),
        records_per_hour: (0, 0),
        duplicate_event_identifiers: false,
    });
    let f = org
        .files
        .iter()
        .max_by_key(|f| org.length(&f.id))
        .expect("a file");
    let body: Vec<u8> = org.body(&f.id, 1 << 20).flatten().collect();
    let p = ElfProvenance {
        org_id: "00D000000000001AAA".into(),
        event_type: event_type.into(),
        file_id: f.id.clone(),
        log_date: f.log_date,
        interval: "Daily".into(),
        sequence: 0,
    };
    let mut out = Vec::new();
    convert_csv(&body[..], &p, &mut out).expect("converts");
    let text = String::from_utf8(out).expect("UTF-8");
    let lines = text.lines().take(want).map(str::to_string).collect();
    (lines, body, p)
}

fn per_event(label: &str, n: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    println!("{label:<44} {us:>8.3} µs/event");
    us
}

fn main() {
    let want = std::env::var("SFEVENTS_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let kind = std::env::var("SFEVENTS_BENCH_TYPE").unwrap_or_else(|_| "ApiTotalUsage".into());
    let (lines, csv, prov) = lines(&kind, want);
    let n = lines.len();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!("{n} {kind} archive lines, {:.1} MB", bytes as f64 / 1e6);
    let norm = Normalizer::new(Options {
        instance_url: "https://acme.my.salesforce.com".into(),
        ..Options::default()
    })
    .expect("options");
    line_checks(&lines);
    let mut events = Vec::with_capacity(n);
    per_event("Event::from_line (id, checked JSON)", n, || {
        for l in &lines {
            events.push(
                Event::from_line(l.clone())
                    .map_err(|(_, why)| why)
                    .expect("event"),
            );
        }
    });
    let mut fast = Vec::with_capacity(bytes * 2);
    let mut enc = LineEncoder::new(norm.clone());
    per_event("ECS from the line (LineEncoder)", n, || {
        for e in &events {
            enc.ecs(e.line(), &mut fast).expect("tree-free");
            fast.push(b'\n');
        }
    });
    let mut tree = Vec::with_capacity(bytes * 2);
    per_event("ECS through the tree (parse, ecs, serialise)", n, || {
        for l in &lines {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            serde_json::to_writer(&mut tree, &norm.ecs(&v).expect("doc").body).expect("write");
            tree.push(b'\n');
        }
    });
    assert!(fast == tree, "the two paths wrote different documents");
    println!(
        "both paths wrote the same {:.1} MB",
        fast.len() as f64 / 1e6
    );
    gzip_levels(n, &fast);
    archive_reads(&csv, &prov);
    objects(&norm);
}

/// The check every line gets before it is sent, both ways: serde's (`IgnoredAny`, what the
/// shipper used before) and `ecs::json_check` (what it uses now). Both must accept every line.
fn line_checks(lines: &[String]) {
    let n = lines.len();
    per_event("line check: serde IgnoredAny (before)", n, || {
        for l in lines {
            serde_json::from_str::<serde::de::IgnoredAny>(l).expect("JSON");
        }
    });
    per_event("line check: ecs::json_check (now)", n, || {
        for l in lines {
            ecs::json_check::check_object(l).expect("JSON");
        }
    });
    // The next row's clone is the bench's own (the shipper moves each line it reads).
    let mut kept = Vec::with_capacity(n);
    per_event("a copy of each line (in the next row)", n, || {
        kept.extend(lines.iter().cloned());
    });
}

/// ApiEvent records (a Real-Time Event Monitoring object on the generic mapping): the ECS
/// document from the line and through the tree, which must be the same bytes.
fn objects(norm: &Normalizer) {
    let org = sfgen::Org::generate(sfgen::OrgSpec {
        seed: 8,
        days: 2,
        anchor: Utc.with_ymd_and_hms(2024, 3, 3, 13, 37, 12).unwrap(),
        event_types: Vec::new(),
        hourly: false,
        rows_per_hour: (1, 1),
        late_files: false,
        big_file_bytes: None,
        records_per_hour: (1000, 1000),
        duplicate_event_identifiers: false,
    });
    let lines: Vec<String> = org
        .object_records("ApiEvent")
        .iter()
        .enumerate()
        .map(|(i, r)| {
            serde_json::json!({"@timestamp": "2024-03-02T10:00:00.000Z", "id": format!("o-{i}"),
                "org_id": "00D000000000001AAA", "source": "ApiEvent",
                "fields": r.record.to_json("64.0")})
            .to_string()
        })
        .collect();
    let n = lines.len();
    let mut enc = LineEncoder::new(norm.clone());
    let mut fast = Vec::new();
    per_event(&format!("ApiEvent ECS from the line ({n})"), n, || {
        for l in &lines {
            enc.ecs(l, &mut fast).expect("tree-free");
            fast.push(b'\n');
        }
    });
    let mut tree = Vec::new();
    per_event("ApiEvent ECS through the tree", n, || {
        for l in &lines {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            serde_json::to_writer(&mut tree, &norm.ecs(&v).expect("doc").body).expect("write");
            tree.push(b'\n');
        }
    });
    assert!(
        fast == tree,
        "the two paths wrote different ApiEvent documents"
    );
}

/// The bulk bodies' gzip at the levels worth weighing: CPU per event and size.
fn gzip_levels(n: usize, body: &[u8]) {
    for level in [1, 3, 6] {
        let mut size = 0;
        per_event(&format!("gzip level {level} of the ECS NDJSON"), n, || {
            let mut z = GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            for chunk in body.chunks(1 << 20) {
                z.write_all(chunk).expect("gzip");
            }
            size = z.finish().expect("gzip").len();
        });
        println!(
            "    {:.1}% of the bytes",
            size as f64 * 100.0 / body.len() as f64
        );
    }
}

/// What reading an EventLogFile's events costs with (a) zstd-framed NDJSON in the archive and
/// (b) no NDJSON, the rows derived from the raw CSV by the converter at every read; and what
/// each keeps on disk beside the raw CSV.
fn archive_reads(csv: &[u8], prov: &ElfProvenance) {
    let mut ndjson = Vec::new();
    let rows = convert_csv(csv, prov, &mut ndjson).expect("converts").rows as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sizes = Vec::new();
    for level in [1, 3] {
        let path = dir.path().join(format!("f{level}.ndjson.zst"));
        let file = std::fs::File::create(&path).expect("file");
        let mut w = archive::lines::FramedWriter::with_level(file, level).expect("writer");
        per_event(
            &format!("(a) write: zstd level {level} frames"),
            rows,
            || {
                w.write_all(&ndjson).expect("write");
            },
        );
        w.finish().expect("finish");
        sizes.push(std::fs::metadata(&path).expect("file").len());
        let mut read = Vec::new();
        per_event(
            &format!("(a) read: zstd level {level} frames to lines"),
            rows,
            || {
                let mut r = archive::lines::open(&path).expect("open");
                r.read_to_end(&mut read).expect("read");
            },
        );
        assert!(read == ndjson, "the framed file reads back as the NDJSON");
    }
    let mut again = Vec::new();
    per_event("(b) read: the CSV converted again", rows, || {
        convert_csv(csv, prov, &mut again).expect("converts");
    });
    assert!(again == ndjson);
    let per_csv = |b: usize| b as f64 / csv.len() as f64;
    println!(
        "bytes per byte of CSV beside the raw CSV: plain NDJSON {:.2}, (a) level 1 {:.3}, level 3 {:.3}, (b) 0",
        per_csv(ndjson.len()),
        per_csv(sizes[0] as usize),
        per_csv(sizes[1] as usize)
    );
}
