use std::io::Write;

use serde_json::json;

use super::*;

const KEY: &str = "0123456789abcdef-test-key";

fn redactor(remove: &[&str], pseudo: &[&str], key: &str) -> Redactor {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
    Redactor::new(s(remove), s(pseudo), Some(&Secret::new(key)), false).unwrap()
}

#[test]
fn hmac_matches_rfc_4231() {
    let hex_mac = |key: &[u8], data: &[u8]| hex::encode(Hmac::new(key).mac(data));
    assert_eq!(
        hex_mac(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // A key longer than the block is hashed first.
    assert_eq!(
        hex_mac(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn removes_and_pseudonymizes_in_place_keeping_the_column_order() {
    let r = redactor(&["SESSION_KEY", "LOGIN_KEY"], &["USER_NAME"], KEY);
    let mut ev = json!({"id": "x-1", "org_id": "00D", "fields": {
        "EVENT_TYPE": "Login", "SESSION_KEY": "sk-secret", "USER_NAME": "jane@acme.com",
        "LOGIN_KEY": "lk-secret", "CLIENT_IP": "10.0.0.1"}});
    r.event(&mut ev);
    let f = ev["fields"].as_object().unwrap();
    assert_eq!(
        f.keys().collect::<Vec<_>>(),
        ["EVENT_TYPE", "USER_NAME", "CLIENT_IP"]
    );
    let p = f["USER_NAME"].as_str().unwrap();
    assert!(p.starts_with("p:") && p.len() == 34, "{p}");
    assert_eq!(Some(p.to_string()), r.pseudonym("jane@acme.com"));
    assert_eq!(ev["id"], "x-1", "the archive's own keys stay");
    assert!(!ev.to_string().contains("secret") && !ev.to_string().contains("jane"));
}

#[test]
fn pseudonyms_are_deterministic_per_key_and_differ_between_keys() {
    let a = redactor(&[], &["USER_NAME"], KEY);
    let a2 = redactor(&[], &["USER_NAME"], KEY);
    let b = redactor(&[], &["USER_NAME"], "another-key-of-16-bytes");
    let pa = a.pseudonym("jane@acme.com").unwrap();
    assert_eq!(a2.pseudonym("jane@acme.com").unwrap(), pa);
    assert_ne!(b.pseudonym("jane@acme.com").unwrap(), pa);
    assert_ne!(a.pseudonym("joe@acme.com").unwrap(), pa);
    // Redacting again leaves a pseudonym as it is (an archive written redacted, then shipped).
    let mut ev = json!({"fields": {"USER_NAME": "jane@acme.com"}});
    a.event(&mut ev);
    let once = ev.clone();
    a.event(&mut ev);
    b.event(&mut ev);
    assert_eq!(ev, once);
}

#[test]
fn nested_paths_reach_related_records() {
    let r = redactor(&["CreatedBy.Id"], &["CreatedBy.Username", "Display"], KEY);
    let mut rec = json!({
        "Id": "0Ym1", "Display": "Changed password for jane@acme.com",
        "CreatedBy": {"attributes": {"type": "User"}, "Id": "005x", "Username": "jane@acme.com"}
    });
    r.record(rec.as_object_mut().unwrap());
    assert_eq!(rec["CreatedBy"].get("Id"), None);
    assert_eq!(
        rec["CreatedBy"]["Username"].as_str(),
        r.pseudonym("jane@acme.com").as_deref()
    );
    assert!(rec["Display"].as_str().unwrap().starts_with("p:"));
    // A key that holds the dotted name itself wins over the path.
    let mut flat = json!({"CreatedBy.Username": "x@y", "CreatedBy": {"Username": "kept"}});
    r.record(flat.as_object_mut().unwrap());
    assert_eq!(flat["CreatedBy"]["Username"], "kept");
    assert!(flat["CreatedBy.Username"]
        .as_str()
        .unwrap()
        .starts_with("p:"));
}

#[test]
fn missing_null_empty_and_other_values() {
    let r = redactor(
        &["SESSION_KEY", "A.B"],
        &["USER_NAME", "ROWS", "CreatedBy.X"],
        KEY,
    );
    let mut rec = json!({"EVENT_TYPE": "URI", "USER_NAME": "", "ROWS": 12, "CreatedBy": null});
    let before = rec.clone();
    r.record(rec.as_object_mut().unwrap());
    assert_eq!(rec["EVENT_TYPE"], before["EVENT_TYPE"]);
    assert_eq!(rec["USER_NAME"], "", "an empty value stays empty");
    assert_eq!(
        rec["CreatedBy"],
        Value::Null,
        "a null relation is left alone"
    );
    assert_eq!(rec["ROWS"].as_str(), r.pseudonym("12").as_deref());
    assert_eq!(
        rec.as_object().unwrap().len(),
        4,
        "nothing added or removed"
    );
    // An event that is not an object, or has no fields, is left as it is.
    let mut odd = json!("not an event");
    r.event(&mut odd);
    assert_eq!(odd, json!("not an event"));
}

#[test]
fn refuses_a_missing_or_short_key_and_bad_names() {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let e = Redactor::new(v(&[]), v(&["USER_NAME"]), None, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no key"), "{e}");
    let short = Secret::new("short-key");
    let e = Redactor::new(v(&[]), v(&["USER_NAME"]), Some(&short), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("9 bytes") && !e.contains("short-key"), "{e}");
    assert!(Redactor::new(v(&["SESSION_KEY"]), v(&[]), None, false).is_ok());
    assert!(Redactor::new(v(&["A..B"]), v(&[]), None, false).is_err());
    assert!(Redactor::new(v(&["X"]), v(&["X"]), Some(&Secret::new(KEY)), false).is_err());
    let r = redactor(&[], &["USER_NAME"], KEY);
    assert!(!format!("{r:?}").contains(KEY));
}

#[test]
fn the_writer_redacts_lines_in_any_pieces_and_counts_bytes() {
    let r = redactor(&["SESSION_KEY"], &["USER_NAME"], KEY);
    let lines = [
        r#"{"id":"a-1","fields":{"SESSION_KEY":"s1","USER_NAME":"jane"}}"#,
        r#"{"id":"a-2","fields":{"SESSION_KEY":"s2","USER_NAME":"joe"}}"#,
        r#"{"id":"a-3","fields":{"USER_NAME":"jane"}}"#,
    ];
    let input = format!("{}\n", lines.join("\n"));
    for piece in [1, 7, 64, input.len()] {
        let mut out = Vec::new();
        let mut w = RedactingWriter::new(&mut out, &r);
        for chunk in input.as_bytes().chunks(piece) {
            w.write_all(chunk).unwrap();
        }
        let n = w.finish().unwrap();
        assert_eq!(n, out.len() as u64);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(!text.contains("s1") && !text.contains("jane") && !text.contains("joe"));
        let got: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got[0]["fields"]["USER_NAME"], got[2]["fields"]["USER_NAME"]);
        assert_eq!(got[1]["id"], "a-2");
    }
    // A last line without its newline still comes out whole.
    let mut out = Vec::new();
    let mut w = RedactingWriter::new(&mut out, &r);
    w.write_all(lines[0].as_bytes()).unwrap();
    w.finish().unwrap();
    assert!(out.ends_with(b"}\n") && !String::from_utf8_lossy(&out).contains("s1"));
    // Not JSON: an error, not a line passed through.
    let mut out = Vec::new();
    let mut w = RedactingWriter::new(&mut out, &r);
    assert!(w.write_all(b"{not json\n").is_err());
}
