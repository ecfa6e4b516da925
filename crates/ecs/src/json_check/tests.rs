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
fn a_word_is_special_exactly_when_a_byte_of_it_is() {
    for byte in 0..=255u8 {
        let want = byte == b'"' || byte == b'\\' || byte < 0x20;
        for at in 0..8 {
            // Among plain letters, and beside bytes that borrow or carry in the arithmetic.
            for filler in [b'a', 0xff, 0x21] {
                let mut w = [filler; 8];
                w[at] = byte;
                assert_eq!(
                    special(u64::from_le_bytes(w)),
                    want,
                    "byte {byte:#x} at {at} among {filler:#x}"
                );
            }
        }
    }
}

#[test]
fn special_agrees_with_a_byte_by_byte_look_on_many_words() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2_000_000 {
        // xorshift64*, and bytes drawn mostly near the boundaries (0x1f/0x20, '"', '\\', 0x80).
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let picks = [
            0x00, 0x1f, 0x20, 0x21, b'"', b'#', b'\\', b']', 0x7f, 0x80, 0xff,
        ];
        let w: [u8; 8] = std::array::from_fn(|i| {
            let v = (r >> (i * 8)) as u8;
            if v & 1 == 0 {
                picks[(v as usize >> 1) % picks.len()]
            } else {
                v
            }
        });
        let is = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        let m = special_mask(u64::from_le_bytes(w));
        assert_eq!(m != 0, w.iter().any(|&c| is(c)), "{w:x?}");
        if m != 0 {
            let first = m.trailing_zeros() as usize / 8;
            assert_eq!(Some(first), w.iter().position(|&c| is(c)), "{w:x?}");
        }
    }
}
