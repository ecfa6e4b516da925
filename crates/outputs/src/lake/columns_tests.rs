use super::*;
use crate::lake::cells::Top;
use crate::lake::test_lines;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type, TimestampMicrosecondType};
use arrow_array::Array;
use serde_json::json;

fn kind(values: &[Value]) -> Kind {
    let mut f = Fits::new();
    values.iter().for_each(|v| f.add(&Cell::of_value(v)));
    f.kind()
}

/// The rows of `lines` read from their text where they scan (as the sink reads them), and
/// the same rows read from their trees.
fn rows_both_ways<'a>(lines: &'a [String], trees: &'a [Value]) -> (Vec<Row<'a>>, Vec<Row<'a>>) {
    let text = lines
        .iter()
        .zip(trees)
        .enumerate()
        .map(|(i, (l, v))| Row {
            micros: i as i64,
            line: match Top::scan(l) {
                Some(top) => Line::Text {
                    line: l,
                    fields: top.fields,
                },
                None => Line::Tree(v),
            },
        })
        .collect();
    let tree = trees
        .iter()
        .enumerate()
        .map(|(i, v)| Row {
            micros: i as i64,
            line: Line::Tree(v),
        })
        .collect();
    (text, tree)
}

/// The batch of `lines` read from their text, which must be the batch read from their trees.
fn batch(lines: &[Value], declared: &Declared) -> Typed {
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let (rows, tree_rows) = rows_both_ways(&text, lines);
    let t = record_batch(&rows, declared).unwrap();
    let tree = record_batch(&tree_rows, declared).unwrap();
    assert_eq!(t.batch, tree.batch);
    assert_eq!(t.nulled, tree.nulled);
    t
}

#[test]
fn inference_is_conservative() {
    assert_eq!(kind(&[json!("12"), json!(""), json!("-3")]), Kind::Int);
    assert_eq!(kind(&[json!("12"), json!("0.5")]), Kind::Float);
    assert_eq!(kind(&[json!("12"), json!("007")]), Kind::Text, "a code");
    assert_eq!(kind(&[json!("1e5")]), Kind::Text);
    assert_eq!(kind(&[json!("NaN")]), Kind::Text);
    assert_eq!(kind(&[json!("1234567890123456789")]), Kind::Text);
    assert_eq!(kind(&[json!("20231218054831.655")]), Kind::Time);
    assert_eq!(kind(&[json!("2023-12-19T21:04:35.000+0000")]), Kind::Time);
    assert_eq!(
        kind(&[json!("2023-12-19T21:04:35.000Z"), json!("x")]),
        Kind::Text
    );
    assert_eq!(kind(&[json!(3), json!(4.5)]), Kind::Float);
    assert_eq!(kind(&[json!(3), json!(null)]), Kind::Int);
    assert_eq!(kind(&[json!(true), json!("false")]), Kind::Bool);
    assert_eq!(kind(&[json!({"a": 1})]), Kind::Text);
    assert_eq!(kind(&[json!(""), json!(null)]), Kind::Text);
}

#[test]
fn a_batch_of_elf_rows() {
    let lines = [
        json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "s-1", "org_id": "00D1",
            "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
            "log_date": "2026-12-01T00:00:00.000Z", "interval": "Daily", "sequence": 1, "row": 1,
            "fields": {"TIMESTAMP": "20261201100000.000", "RUN_TIME": "12", "CPU": "0.5", "URI": "/x"}}),
        json!({"@timestamp": "2026-12-01T11:00:00.000Z", "id": "s-2", "org_id": "00D1",
            "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
            "log_date": "2026-12-01T00:00:00.000Z", "interval": "Daily", "sequence": 1, "row": 2,
            "fields": {"TIMESTAMP": "20261201110000.000", "RUN_TIME": "", "CPU": "2", "URI": "/y"}}),
    ];
    let b = batch(&lines, &Declared::new()).batch;
    let names: Vec<&str> = b
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "timestamp",
            "org_id",
            "source",
            "event_type",
            "file_id",
            "log_date",
            "interval",
            "sequence",
            "row",
            "sf_TIMESTAMP",
            "RUN_TIME",
            "CPU",
            "URI"
        ]
    );
    let run = b
        .column_by_name("RUN_TIME")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!((run.value(0), run.is_null(1)), (12, true));
    let cpu = b
        .column_by_name("CPU")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(cpu.value(1), 2.0);
    let ts = b
        .column_by_name("sf_TIMESTAMP")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(ts.value(0), 1_796_119_200_000_000);
    assert_eq!(
        b.schema_ref()
            .field_with_name("log_date")
            .unwrap()
            .data_type(),
        &time_type()
    );
}

#[test]
fn declared_types_hold_for_empty_and_unreadable_values() {
    let line = |run: &str, when: &str, ok: &str, extra: Value| {
        json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "x", "org_id": "00D1",
            "source": "EventLogFile", "event_type": "API", "file_id": "0AT1",
            "fields": {"RUN_TIME": run, "TIMESTAMP_DERIVED": when, "OK": ok,
                "EMPTY_NUMBER": "", "EMPTY_TIME": "", "CODE": "007", "X": extra}})
    };
    let lines = [
        line("12", "2026-12-01T10:00:00.000Z", "1", json!("a")),
        line("9998.0", "", "false", json!(null)),
        line("abc", "not a time", "maybe", json!(3)),
    ];
    let declared: Declared = [
        ("RUN_TIME", Kind::Float),
        ("TIMESTAMP_DERIVED", Kind::Time),
        ("OK", Kind::Bool),
        ("EMPTY_NUMBER", Kind::Float),
        ("EMPTY_TIME", Kind::Time),
        ("CODE", Kind::Float),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let t = batch(&lines, &declared);
    let ty = |c: &str| {
        t.batch
            .schema()
            .field_with_name(c)
            .unwrap()
            .data_type()
            .clone()
    };
    assert_eq!(
        ty("EMPTY_NUMBER"),
        DataType::Float64,
        "empty, still a number"
    );
    assert_eq!(ty("EMPTY_TIME"), time_type(), "empty, still a timestamp");
    assert_eq!(
        ty("CODE"),
        DataType::Float64,
        "declared: not text for its zero"
    );
    assert_eq!(ty("X"), DataType::Utf8, "undeclared: inferred");
    assert_eq!(t.batch.num_rows(), 3, "no row lost");
    let run = t
        .batch
        .column_by_name("RUN_TIME")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert_eq!(
        (run.value(0), run.value(1), run.is_null(2)),
        (12.0, 9998.0, true)
    );
    let ok = t.batch.column_by_name("OK").unwrap().as_boolean();
    assert_eq!(
        (ok.value(0), ok.value(1), ok.is_null(2)),
        (true, false, true)
    );
    let mut nulled = t.nulled.clone();
    nulled.sort();
    assert_eq!(
        nulled,
        [
            ("OK".into(), 1),
            ("RUN_TIME".into(), 1),
            ("TIMESTAMP_DERIVED".into(), 1)
        ]
    );
    // Undeclared, the same file infers text for the empty columns.
    let t = batch(&lines, &Declared::new());
    assert_eq!(
        t.batch
            .schema()
            .field_with_name("EMPTY_NUMBER")
            .unwrap()
            .data_type(),
        &DataType::Utf8
    );
    assert!(t.nulled.is_empty());
    // Objects' integers and dates.
    let obj = json!({"@timestamp": "2026-12-01T10:00:00.000Z", "id": "y", "org_id": "00D1",
        "source": "LoginEvent", "fields": {"N": 7.0, "D": "2026-12-01"}});
    let declared: Declared = [("N".to_string(), Kind::Int), ("D".to_string(), Kind::Time)].into();
    let t = batch(&[obj], &declared);
    let n = t
        .batch
        .column_by_name("N")
        .unwrap()
        .as_primitive::<Int64Type>();
    let d = t
        .batch
        .column_by_name("D")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!((n.value(0), d.value(0)), (7, 1_796_083_200_000_000));
}

/// Declarations to read the fields of `trees` with: none, every field of one kind (each
/// kind in turn), and the kinds by turns.
fn declarations(trees: &[Value]) -> Vec<Declared> {
    let mut names: Vec<&String> = Vec::new();
    for v in trees {
        for k in v
            .get("fields")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let kinds = [Kind::Text, Kind::Int, Kind::Float, Kind::Bool, Kind::Time];
    let mut out = vec![Declared::new()];
    out.extend(
        kinds
            .iter()
            .map(|k| names.iter().map(|n| (n.to_string(), *k)).collect()),
    );
    out.push(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), kinds[i % kinds.len()]))
            .collect(),
    );
    out
}

/// The batches of `lines` read from their text and read from their trees are equal under
/// every declaration; how many rows were read from their text, and how many of those the
/// first walk sent to their tree.
fn compare(lines: &[String]) -> (usize, usize) {
    let trees: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("archive lines are JSON"))
        .collect();
    let (rows, tree_rows) = rows_both_ways(lines, &trees);
    for declared in declarations(&trees) {
        let t = record_batch(&rows, &declared).unwrap();
        let tree = record_batch(&tree_rows, &declared).unwrap();
        assert_eq!(t.batch.schema(), tree.batch.schema());
        for (f, (a, b)) in t
            .batch
            .schema()
            .fields()
            .iter()
            .zip(t.batch.columns().iter().zip(tree.batch.columns()))
        {
            assert_eq!(a.to_data(), b.to_data(), "column {}", f.name());
        }
        assert_eq!(t.batch, tree.batch);
        assert_eq!(t.nulled, tree.nulled);
    }
    let text = rows
        .iter()
        .filter(|r| matches!(r.line, Line::Text { .. }))
        .count();
    (text, field_kinds(&rows, &Declared::new()).2.len())
}

/// The lists' lines taken by turns: rows of other shapes next to each other.
fn interleaved(lists: &[Vec<String>]) -> Vec<String> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|i| lists.iter().filter_map(move |l| l.get(i).cloned()))
        .collect()
}

#[test]
fn every_generated_type_reads_from_its_text_as_from_its_tree() {
    let files = test_lines::generated();
    assert!(
        files.len() >= sfgen::Org::known_event_types().len(),
        "{} files",
        files.len()
    );
    for f in &files {
        assert!(!f.is_empty());
        assert_eq!(compare(f), (f.len(), 0), "every row from its text");
    }
    // One batch of every type, and the same with the types' rows by turns.
    let all: Vec<String> = files.concat();
    assert_eq!(compare(&all), (all.len(), 0));
    compare(&interleaved(&files));
    let hostile = test_lines::hostile();
    assert_eq!(compare(&hostile), (hostile.len(), 0));
}

#[test]
fn object_lines_and_odd_shapes_read_from_their_text_as_from_their_tree() {
    let objects = test_lines::objects();
    assert_eq!(
        compare(&objects),
        (objects.len(), 2),
        "the escaped key's row and the twice-given key's row are read from their tree"
    );
    let mut lists = test_lines::generated();
    lists.truncate(3);
    lists.push(test_lines::hostile());
    lists.push(objects);
    compare(&lists.concat());
    compare(&interleaved(&lists));
}
