//! HEC answers: `{"text": ..., "code": N}` with the HTTP status, `ackId` when indexer
//! acknowledgement is on, `invalid-event-number` when one event of a batch is bad. The codes
//! are Splunk's ("Troubleshoot HTTP Event Collector"; the same table as Vector's `splunk_hec`
//! source):
//!
//! | code | status | meaning | what sfevents does |
//! |---|---|---|---|
//! | 0 | 200 | Success | delivered (or wait for the ack) |
//! | 1 | 403 | Token disabled | configuration error |
//! | 2, 3 | 401 | Token required / invalid authorization | configuration error |
//! | 4 | 403 | Invalid token | configuration error |
//! | 5, 6, 12, 13, 15 | 400 | No data, invalid format, event missing or blank, bad indexed fields | events before `invalid-event-number` delivered, that one dead-lettered, the rest sent again |
//! | 7 | 400 | Incorrect index | configuration error (the token may not write there) |
//! | 8, 9 | 500, 503 | Internal error, server busy | retried |
//! | 10, 11 | 400 | Data channel missing or invalid | configuration error |
//! | 14 | 400 | ACK is disabled | configuration error (`ack = true`, token without it) |
//! | - | 413 | body too large | split in halves |
//! | - | 408, 429, 5xx | | retried |

use serde::Deserialize;

use crate::http_client::{self, Answer};
use crate::parts::Part;
use crate::sink::{SinkError, Verdict};

#[derive(Debug, Default, Deserialize)]
pub struct Reply {
    #[serde(default)]
    pub text: String,
    pub code: Option<i64>,
    #[serde(rename = "ackId")]
    pub ack_id: Option<u64>,
    #[serde(rename = "invalid-event-number")]
    pub invalid_event: Option<usize>,
}

pub fn reply(a: &Answer) -> Reply {
    serde_json::from_slice(&a.body).unwrap_or_else(|_| Reply {
        text: http_client::excerpt(&a.body),
        ..Reply::default()
    })
}

/// What an answer to `/services/collector/event` for `n` events means. `Ok((part, ack_id))`:
/// with an ack id, the part's `Delivered` verdicts still wait for the acknowledgement.
pub fn classify(dest: &str, n: usize, a: &Answer) -> Result<(Part, Option<u64>), SinkError> {
    let r = reply(a);
    let status = a.status.as_u16();
    let code = r.code.unwrap_or(-1);
    let said = format!("{status}, code {code}: {}", r.text);
    if a.status.is_success() && (code == 0 || r.code.is_none()) {
        return Ok((Part::Done(vec![Verdict::Delivered; n]), r.ack_id));
    }
    let fatal = |fix: &str| {
        Err(SinkError::Fatal(format!(
            "{dest} refused the events ({said}): {fix}"
        )))
    };
    match (status, code) {
        (_, 1) => fatal("the HEC token is disabled: enable it in Settings > Data inputs > HTTP Event Collector"),
        (_, 2..=4) => fatal("the HEC token is wrong: check token_env / token_file"),
        (_, 7) => fatal("the token may not write to that index: add it to the token's allowed indexes, or change index"),
        (_, 10 | 11) => fatal("the token has indexer acknowledgement on: set ack = true"),
        (_, 14) => fatal("ack = true but the token has indexer acknowledgement off: enable it on the token, or set ack = false"),
        (400, 5 | 6 | 12 | 13 | 15) => {
            let bad = r.invalid_event.filter(|i| *i < n);
            Ok((
                match bad {
                    // Splunk indexed the events before the bad one and none after it.
                    Some(i) => Part::Done(
                        (0..n)
                            .map(|j| match j.cmp(&i) {
                                std::cmp::Ordering::Less => Verdict::Delivered,
                                std::cmp::Ordering::Equal => {
                                    Verdict::Dead(format!("{dest} refused the event ({said})"))
                                }
                                std::cmp::Ordering::Greater => Verdict::Retry(format!(
                                    "sent again: an event before it was refused ({said})"
                                )),
                            })
                            .collect(),
                    ),
                    None => Part::Split(format!("{dest} refused the event ({said})")),
                },
                None,
            ))
        }
        (413, _) => Ok((
            Part::Split(format!("{dest} refuses the event as too large (413) even alone: raise max_content_length in the HEC settings")),
            None,
        )),
        _ => {
            let message = format!("{dest} answered {said}");
            if let Some(e) = http_client::retryable(a.status, &a.headers, &message) {
                return Err(e);
            }
            match status {
                404 => Err(SinkError::Fatal(format!(
                    "{dest} has no HTTP Event Collector ({said}): the url is the HEC address, https://host:8088"
                ))),
                300..=399 => Err(http_client::redirect(dest, "the events", a.status, &a.headers)),
                _ => Err(SinkError::Fatal(message)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use reqwest::StatusCode;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn the_table() {
        let (p, ack) = classify(
            "hec",
            2,
            &answer(200, r#"{"text":"Success","code":0,"ackId":7}"#),
        )
        .unwrap();
        assert!(matches!(p, Part::Done(v) if v == vec![Verdict::Delivered; 2]));
        assert_eq!(ack, Some(7));
        let (p, _) = classify(
            "hec",
            3,
            &answer(
                400,
                r#"{"text":"Event field is required","code":12,"invalid-event-number":1}"#,
            ),
        )
        .unwrap();
        let Part::Done(v) = p else { panic!() };
        assert_eq!(v[0], Verdict::Delivered);
        assert!(matches!(&v[1], Verdict::Dead(r) if r.contains("code 12")));
        assert!(matches!(&v[2], Verdict::Retry(_)));
        for (status, body, want) in [
            (403, r#"{"text":"Invalid token","code":4}"#, "token_env"),
            (
                400,
                r#"{"text":"Incorrect index","code":7}"#,
                "allowed indexes",
            ),
            (
                400,
                r#"{"text":"ACK is disabled","code":14}"#,
                "ack = false",
            ),
            (404, "nope", "https://host:8088"),
        ] {
            let e = classify("hec", 1, &answer(status, body)).unwrap_err();
            assert!(
                matches!(&e, SinkError::Fatal(m) if m.contains(want)),
                "{e:?}"
            );
        }
        let e = classify(
            "hec",
            1,
            &answer(503, r#"{"text":"Server is busy","code":9}"#),
        )
        .unwrap_err();
        assert!(matches!(e, SinkError::Transient(m) if m.contains("busy")));
        assert!(matches!(
            classify("hec", 2, &answer(413, "")),
            Ok((Part::Split(_), None))
        ));
    }
}
