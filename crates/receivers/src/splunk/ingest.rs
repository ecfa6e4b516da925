//! The HEC endpoints: events, acknowledgement queries, health.
//!
//! Order of an event request, as HEC answers it: the token (401/403), the channel (400 codes
//! 10 and 11), the body size (413), injected faults, the body's encoding, then the envelopes
//! one by one; the events before the first bad one are stored. With ack on, a fully accepted
//! request gets the channel's next `ackId`. Each readable body counts one attempt of its
//! envelopes' event ids ([`envelope::ids`]), whatever the answer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Map, Value};

use super::config::Token;
use super::envelope;
use super::hec::{self, Answer, Code};
use super::store::StoredEvent;
use super::Shared;
use crate::common::attempts::Ids;
use crate::common::body::{self, BodyError, Encoding};
use crate::common::faults::{self, AfterStore, RequestFault};

/// `POST /services/collector`, `/services/collector/event`, `/services/collector/event/1.0`.
pub async fn event(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request = shared.lock().next_request();
    let token = match authenticate(&shared, &headers) {
        Ok(t) => t,
        Err(code) => return refuse(&shared, Answer::new(code)),
    };
    let channel = match channel_of(&headers, uri.query(), token.ack) {
        Ok(c) => c,
        Err(code) => return refuse(&shared, Answer::new(code)),
    };
    let max = shared.config.max_content_length;
    let raw = match body::read_raw(body, &headers, max).await {
        Ok(r) => r,
        Err(BodyError::TooLarge) => {
            shared.lock().stats.requests_413 += 1;
            return hec::too_large(body::declared_length(&headers), max);
        }
        Err(_) => return refuse(&shared, Answer::new(Code::InvalidDataFormat)),
    };
    let encoding = body::encoding_of(&headers);
    let decoded = match &encoding {
        // HEC undoes gzip only; Vector's emulation answers an empty 415 to anything else.
        Encoding::Deflate | Encoding::Other(_) => {
            return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response()
        }
        Encoding::Gzip => {
            body::decode(&raw, &encoding, max.saturating_mul(64)).map(Option::unwrap_or_default)
        }
        Encoding::Identity => Ok(raw),
    };
    let ids = decoded.as_deref().map(envelope::ids).unwrap_or_default();
    if let Some(resp) = fault(&shared, peer, &ids) {
        return resp;
    }
    let decoded = match decoded {
        Ok(d) => d,
        Err(BodyError::TooLarge) => {
            shared.lock().stats.requests_413 += 1;
            return hec::too_large(None, max);
        }
        Err(_) => return refuse(&shared, Answer::new(Code::InvalidDataFormat)),
    };
    let parsed = envelope::parse(&decoded, token);
    // The events before the first bad one are stored, and the answer says where it is.
    let taken = parsed.events.len().min(ids.len());
    let gzip = encoding == Encoding::Gzip;
    let (answer, after) = store(&shared, token, channel, parsed, request, uri.path(), gzip);
    let close = after.close;
    shared.lock().attempts.refused(&ids[taken..]);
    let resp = faults::finish(after, &shared.kills, peer, answer.into_response()).await;
    if !close {
        shared.lock().attempts.accepted(&ids[..taken]);
    }
    resp
}

/// The injected fault the request meets, counting the attempt of `ids` (refused when a fault
/// strikes); `None` to go on.
fn fault(shared: &Shared, peer: SocketAddr, ids: &Ids) -> Option<Response> {
    let fault = {
        let mut guard = shared.lock();
        let st = &mut *guard;
        let fault = st.faults.take_request_fault(&mut st.stats.faults);
        st.attempts.read(ids);
        if fault != RequestFault::None {
            st.attempts.refused(ids);
        }
        fault
    };
    let busy = |status: u16, retry_after: Option<u64>| {
        shared.lock().count_error(Code::ServerBusy.number());
        let mut a = Answer::new(Code::ServerBusy);
        a.status = StatusCode::from_u16(status).ok();
        a.retry_after = retry_after;
        a.into_response()
    };
    faults::answer(fault, &shared.kills, peer, busy)
}

/// Stores the events read before the first bad one, and builds the answer: the error, or
/// success with the channel's next `ackId` when the token has ack on. Returns it with what the
/// request meets before it is sent.
fn store(
    shared: &Shared,
    token: &Token,
    channel: Option<String>,
    parsed: envelope::Parsed,
    request: u64,
    path: &str,
    gzip: bool,
) -> (Answer, AfterStore) {
    let mut guard = shared.lock();
    let st = &mut *guard;
    st.stats.gzip_requests += u64::from(gzip);
    let first = st.events.len();
    for e in parsed.events {
        st.events.push(StoredEvent::new(
            e,
            &token.token,
            channel.as_deref(),
            request,
            path,
        ));
    }
    st.stats.events = st.events.len() as u64;
    let answer = match (parsed.error, &channel) {
        (Some(err), _) => {
            st.count_error(err.code.number());
            err
        }
        (None, Some(ch)) if token.ack => {
            let id = st.issue_ack(ch);
            for e in &mut st.events[first..] {
                e.ack_id = Some(id);
            }
            Answer {
                ack_id: Some(id),
                ..Answer::new(Code::Success)
            }
        }
        (None, _) => Answer::new(Code::Success),
    };
    (answer, st.faults.take_after_store(&mut st.stats.faults))
}

/// `POST /services/collector/ack`: `{"acks": [ids]}` → `{"acks": {"<id>": bool}}`.
pub async fn ack(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match authenticate(&shared, &headers) {
        Ok(t) => t,
        Err(code) => return refuse(&shared, Answer::new(code)),
    };
    if !token.ack {
        return refuse(&shared, Answer::new(Code::AckDisabled));
    }
    let channel = match channel_of(&headers, uri.query(), true) {
        Ok(Some(c)) => c,
        Ok(None) => return refuse(&shared, Answer::new(Code::ChannelMissing)),
        Err(code) => return refuse(&shared, Answer::new(code)),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return refuse(&shared, Answer::new(Code::NoData));
    }
    let decoded = match body::decode(&body, &body::encoding_of(&headers), 16 << 20) {
        Ok(d) => d.unwrap_or_else(|| body.to_vec()),
        Err(_) => return refuse(&shared, Answer::new(Code::InvalidDataFormat)),
    };
    let ids: Option<Vec<u64>> = serde_json::from_slice::<Value>(&decoded)
        .ok()
        .and_then(|v| {
            v.get("acks")?
                .as_array()?
                .iter()
                .map(Value::as_u64)
                .collect()
        });
    let Some(ids) = ids else {
        return refuse(&shared, Answer::new(Code::InvalidDataFormat));
    };
    let statuses = shared.lock().query_acks(&channel, &ids);
    let acks: Map<String, Value> = statuses
        .into_iter()
        .map(|(id, ok)| (id.to_string(), Value::Bool(ok)))
        .collect();
    hec::json_response(StatusCode::OK, &json!({ "acks": acks }))
}

/// `GET /services/collector/health`: no token needed (Splunk ignores it, per Vector's notes).
pub async fn health() -> Response {
    Answer::new(Code::Healthy).into_response()
}

pub async fn not_found() -> Response {
    hec::not_found()
}

fn refuse(shared: &Shared, answer: Answer) -> Response {
    shared.lock().count_error(answer.code.number());
    answer.into_response()
}

/// The token of `Authorization: Splunk <token>`, or of `Basic base64(<any user>:<token>)`.
fn authenticate<'a>(shared: &'a Shared, headers: &HeaderMap) -> Result<&'a Token, Code> {
    let Some(raw) = headers.get(AUTHORIZATION) else {
        return Err(Code::TokenRequired);
    };
    let value = raw.to_str().map_err(|_| Code::InvalidAuthorization)?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or(Code::InvalidAuthorization)?;
    let rest = rest.trim();
    let given = if scheme.eq_ignore_ascii_case("splunk") {
        rest.to_string()
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| Code::InvalidAuthorization)?;
        let text = String::from_utf8(decoded).map_err(|_| Code::InvalidAuthorization)?;
        let (_, password) = text.split_once(':').ok_or(Code::InvalidAuthorization)?;
        password.to_string()
    } else {
        return Err(Code::InvalidAuthorization);
    };
    if given.is_empty() {
        return Err(Code::InvalidAuthorization);
    }
    let token = shared
        .config
        .tokens
        .iter()
        .find(|t| t.token == given)
        .ok_or(Code::InvalidToken)?;
    if token.disabled {
        return Err(Code::TokenDisabled);
    }
    Ok(token)
}

/// The request's channel: `X-Splunk-Request-Channel`, else `?channel=`. It must be a GUID;
/// a token with ack on needs one.
fn channel_of(
    headers: &HeaderMap,
    query: Option<&str>,
    required: bool,
) -> Result<Option<String>, Code> {
    let from_header = headers
        .get("x-splunk-request-channel")
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| Code::InvalidChannel)
        })
        .transpose()?;
    let channel = from_header.or_else(|| {
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "channel")
            .map(|(_, v)| v.into_owned())
    });
    match channel {
        Some(c) if !is_guid(&c) => Err(Code::InvalidChannel),
        None if required => Err(Code::ChannelMissing),
        c => Ok(c),
    }
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hexadecimal, any case.
pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_guids() {
        assert!(is_guid("0B6B4E3C-6F3A-4C7A-9E8B-2C1D0A9F8E7D"));
        assert!(is_guid("0b6b4e3c-6f3a-4c7a-9e8b-2c1d0a9f8e7d"));
        assert!(!is_guid("0b6b4e3c6f3a4c7a9e8b2c1d0a9f8e7d"));
        assert!(!is_guid("my-channel"));
        assert!(!is_guid("0b6b4e3c-6f3a-4c7a-9e8b-2c1d0a9f8e7g"));
        let mut h = HeaderMap::new();
        assert_eq!(channel_of(&h, None, true), Err(Code::ChannelMissing));
        assert_eq!(channel_of(&h, None, false), Ok(None));
        assert_eq!(
            channel_of(
                &h,
                Some("channel=0b6b4e3c-6f3a-4c7a-9e8b-2c1d0a9f8e7d"),
                true
            ),
            Ok(Some("0b6b4e3c-6f3a-4c7a-9e8b-2c1d0a9f8e7d".into()))
        );
        h.insert("x-splunk-request-channel", "nope".parse().unwrap());
        assert_eq!(channel_of(&h, None, false), Err(Code::InvalidChannel));
    }
}
