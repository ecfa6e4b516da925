use super::*;

/// serde's verdict, the check this one replaces.
fn serde_says(line: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok()
        && line.trim_start().starts_with('{')
}

fn agree(line: &str) {
    assert_eq!(
        check_object(line).is_ok(),
        serde_says(line),
        "they disagree on {line:?}: {:?}",
        check_object(line)
    );
}

/// Lines shaped as the archive writes them, with the cells that are hard to get right.
fn lines() -> Vec<String> {
    let hostile = [
        "plain",
        "quote \" backslash \\ slash /",
        "tab\tnewline\ncr\r\u{1}\u{1f}",
        "émoji 😀 \u{2028}\u{2029} <b>&amp;</b>",
        "",
    ];
    let mut out = Vec::new();
    for (n, h) in hostile.iter().enumerate() {
        let v = serde_json::json!({
            "@timestamp": "2026-12-05T00:00:00.324Z",
            "id": format!("a121ba02d05c7fff954b-{n}"),
            "org_id": "00D5j000XL6NmiaEYC",
            "sequence": 0, "row": n, "big": 123456789012345678901234567890u128 as f64,
            "neg": -0.5e-7, "t": true, "f": false, "z": null,
            "fields": {"A": h, "B": [1, -2, 3.25, 1e5, [], {}, [[{"k": h}]]], "C": {}}
        });
        out.push(serde_json::to_string(&v).unwrap());
        out.push(serde_json::to_string_pretty(&v).unwrap());
    }
    out.extend(
        [
            "{}",
            " { } ",
            "{\"a\":-0}",
            "{\"a\":0.0e+0}",
            "{\"a\":1E-2}",
            "{\"\\u00e9\":\"\\uD800\"}",
            "{\"a\":01}",
            "{\"a\":-}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":1e}",
            "{\"a\":+1}",
            "{\"a\":tru}",
            "{\"a\":nul}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":1,}",
            "{,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "[1]",
            "\"s\"",
            "1",
            "",
            " ",
            "{}{}",
            "{} x",
            "{\"a\":[1,]}",
            "{\"a\":[,1]}",
            "{\"a\":[1 2]}",
            "{\"a\":{\"b\":1]}",
            "{\"a\":[}",
            "{\"a\":\"\u{7f}\"}",
            "{\"a\":\"\t\"}",
            "{\"a\":1}\n",
            "\n{\"a\":1}",
            "{1:2}",
        ]
        .map(String::from),
    );
    out
}

#[test]
fn agrees_with_serde_on_whole_lines() {
    for l in lines() {
        agree(&l);
    }
    assert!(check_object(&lines()[0]).is_ok());
}

#[test]
fn agrees_with_serde_on_every_truncation_and_byte_change() {
    let swaps = b"\"\\{}[],:0-e.tnu \x01\x1f\x7fA";
    for l in lines().iter().take(10) {
        for end in 0..l.len() {
            if let Some(t) = l.get(..end) {
                agree(t);
            }
        }
        for at in 0..l.len() {
            for &s in swaps {
                let mut b = l.clone().into_bytes();
                b[at] = s;
                if let Ok(t) = String::from_utf8(b) {
                    agree(&t);
                }
            }
            let mut b = l.clone().into_bytes();
            b.remove(at);
            if let Ok(t) = String::from_utf8(b) {
                agree(&t);
            }
        }
    }
}

#[test]
fn agrees_with_serde_on_nesting_depth() {
    for depth in [1, 64, 126, 127, 128, 129, 200, 5000] {
        for open in ["{\"a\":", "["] {
            let mut s = String::from("{\"x\":");
            let mut close = String::from("}");
            for _ in 1..depth {
                s.push_str(open);
                close.insert(0, if open == "[" { ']' } else { '}' });
            }
            s.push('1');
            s.push_str(&close);
            agree(&s);
        }
    }
}

#[test]
fn names_what_is_wrong_and_where() {
    let e = check_object("{\"a\":1,\"b\":tru}").unwrap_err();
    assert_eq!((e.what, e.at), ("expected a literal", 11));
    let e = check_object("{\"a\":\"x\u{1}\"}").unwrap_err();
    assert_eq!((e.what, e.at), ("control character in a string", 7));
}

#[test]
fn finds_control_bytes_at_any_offset() {
    for len in 0..40 {
        for at in 0..len {
            let mut s = vec![b'a'; len];
            s[at] = 0x1f;
            assert_eq!(control_byte(&s), Some(at), "len {len} at {at}");
            s[at] = 0x20;
            assert_eq!(control_byte(&s), None);
        }
    }
    // High bytes (UTF-8) are not control bytes.
    assert_eq!(control_byte("éééé😀😀".as_bytes()), None);
}
