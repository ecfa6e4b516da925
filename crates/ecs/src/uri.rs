//! Elasticsearch's `uri_parts` processor, which splits a URI with `java.net.URI`: `path`,
//! `query`, `fragment` and `user_info` come back percent-decoded; `domain` and `scheme` as
//! written. A value that `java.net.URI` rejects (a space, `{`, a bad `%` escape...) and that is
//! not an absolute URL yields nothing; Elasticsearch records a processor error there instead.

use serde_json::{Map, Value};

/// The `url.*` fields for `original` (without `original` itself, which the caller keeps).
pub(crate) fn parts(original: &str) -> Option<Map<String, Value>> {
    let u = if java_uri_accepts(original) {
        split(original, true)?
    } else if original.contains("://") {
        // java.net.URL, the fallback, is lenient and does not decode.
        split(original, false)?
    } else {
        return None;
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            out.insert(k.to_string(), Value::String(v));
        }
    };
    put("scheme", u.scheme);
    put("domain", u.host);
    put("fragment", u.fragment);
    put("query", u.query);
    if let Some(info) = u.user_info {
        if let Some((user, pass)) = info.split_once(':') {
            put("username", Some(user.to_string()));
            put("password", Some(pass.to_string()));
        }
        put("user_info", Some(info));
    }
    if let Some(path) = u.path {
        // The extension comes from the last segment only (`/a.b/c` has none).
        let last = path.rsplit_once('/').map_or(path.as_str(), |(_, l)| l);
        if let Some((_, ext)) = last.rsplit_once('.') {
            put("extension", Some(ext.to_string()));
        }
        put("path", Some(path));
    }
    if let Some(port) = u.port {
        out.insert("port".into(), Value::from(port));
    }
    Some(out)
}

#[derive(Debug, Default)]
struct Split {
    scheme: Option<String>,
    user_info: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    path: Option<String>,
    query: Option<String>,
    fragment: Option<String>,
}

/// RFC 2396 as `java.net.URI` applies it: reserved, unreserved and escaped characters, and
/// non-ASCII "other" characters; no spaces, controls, or `"<>\^`{|}`; `%` must start an escape.
fn java_uri_accepts(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut hashes = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'%' => {
                let hex = |j: usize| b.get(j).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                i += 3;
                continue;
            }
            b'#' => hashes += 1,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')' => {}
            b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b',' | b'[' | b']' => {}
            0x80.. => {}
            _ => return false,
        }
        i += 1;
    }
    hashes <= 1 && !s.is_empty()
}

fn split(s: &str, decode: bool) -> Option<Split> {
    let dec = |x: &str| {
        if decode {
            percent_decode(x)
        } else {
            x.to_string()
        }
    };
    let mut out = Split::default();
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    out.fragment = fragment.map(dec);
    let mut rest = rest;
    if let Some(colon) = rest.find(':') {
        let scheme = &rest[..colon];
        let valid = scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if valid && !scheme.contains('/') {
            out.scheme = Some(scheme.to_string());
            rest = &rest[colon + 1..];
            if !rest.starts_with('/') {
                // An opaque URI (`mailto:x`): no path, host or query.
                return Some(out);
            }
        }
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    out.query = query.map(dec);
    let path = if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        let (authority, path) = after.split_at(end);
        let host_port = match authority.rsplit_once('@') {
            Some((info, hp)) => {
                out.user_info = Some(dec(info));
                hp
            }
            None => authority,
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
                Ok(n) => (h, Some(n)),
                Err(_) if p.is_empty() => (h, None),
                Err(_) => (host_port, None),
            },
            _ => (host_port, None),
        };
        out.host = (!host.is_empty()).then(|| host.to_string());
        out.port = port;
        path
    } else {
        rest
    };
    out.path = Some(dec(path));
    Some(out)
}

/// `%XX` sequences decoded as UTF-8, invalid sequences replaced, as `java.net.URI` decodes.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(h) = hex {
                out.push(h);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Value {
        parts(s).map_or(Value::Null, Value::Object)
    }

    #[test]
    fn relative_paths() {
        assert_eq!(p("/aura"), json!({"path": "/aura"}));
        assert_eq!(
            p("/one/one.app#"),
            json!({"path": "/one/one.app", "extension": "app", "fragment": ""})
        );
        assert_eq!(
            p("/a%7B%22b%22%7D/x.js?q=%20"),
            json!({"path": "/a{\"b\"}/x.js", "extension": "js", "query": "q= "})
        );
        assert_eq!(p("/a.b/c"), json!({"path": "/a.b/c"}));
        assert_eq!(p("/bad path"), Value::Null);
        assert_eq!(p("/bad%zz"), Value::Null);
    }

    #[test]
    fn absolute_urls() {
        assert_eq!(
            p("https://u:pw@example.com:8443/x/y.html?a=1#top"),
            json!({"scheme": "https", "domain": "example.com", "port": 8443,
                   "path": "/x/y.html", "extension": "html", "query": "a=1",
                   "fragment": "top", "user_info": "u:pw", "username": "u", "password": "pw"})
        );
        assert_eq!(p("mailto:a@b.c"), json!({"scheme": "mailto"}));
    }
}
