//! SOQL queries, following `nextRecordsUrl` until `done`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ApiError, SfClient};

#[derive(Deserialize)]
struct Page {
    #[serde(rename = "totalSize")]
    total_size: u64,
    done: bool,
    #[serde(rename = "nextRecordsUrl")]
    next: Option<String>,
    #[serde(default)]
    records: Vec<Map<String, Value>>,
}

/// Salesforce's largest page.
pub const BATCH_SIZE: &str = "batchSize=2000";

impl SfClient {
    /// Runs a query and calls `each_page` with every page of records (without `attributes`)
    /// and the query's totalSize. Returns the totalSize.
    pub async fn query_pages<F>(&self, soql: &str, mut each_page: F) -> Result<u64, ApiError>
    where
        F: FnMut(Vec<Map<String, Value>>, u64) -> Result<(), ApiError>,
    {
        let q: String = url::form_urlencoded::byte_serialize(soql.as_bytes()).collect();
        let mut path = format!("{}/query?q={q}", self.data_path());
        let headers = [("Sforce-Query-Options", BATCH_SIZE)];
        loop {
            let page: Page = self.get_json(&path, &headers).await?;
            let total = page.total_size;
            let recs = page
                .records
                .into_iter()
                .map(|mut r| {
                    strip_attributes(&mut r);
                    r
                })
                .collect();
            each_page(recs, total)?;
            match (page.done, page.next) {
                (true, _) => return Ok(total),
                (false, Some(next)) => path = next,
                (false, None) => {
                    return Err(ApiError::Protocol(
                        "query answer says not done but gives no nextRecordsUrl".into(),
                    ))
                }
            }
        }
    }

    /// Logs in (or reuses the session) and returns the org's id: from the token answer when
    /// Salesforce gives it, else from the Organization record (one query).
    pub async fn org_id(&self) -> Result<String, ApiError> {
        let session = self.tokens.session().await?;
        if let Some(id) = session.org_id() {
            return Ok(id);
        }
        let r = self.query_all("SELECT Id FROM Organization").await?;
        r.first()
            .and_then(|r| r.get("Id"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| ApiError::Protocol("no Organization record".into()))
    }

    /// Runs a query and returns every record.
    pub async fn query_all(&self, soql: &str) -> Result<Vec<Map<String, Value>>, ApiError> {
        let mut out = Vec::new();
        self.query_pages(soql, |p, _| {
            out.extend(p);
            Ok(())
        })
        .await?;
        Ok(out)
    }
}

/// Removes Salesforce's `attributes` envelopes, also from related records (`CreatedBy`).
fn strip_attributes(r: &mut Map<String, Value>) {
    r.remove("attributes");
    for v in r.values_mut() {
        if let Value::Object(o) = v {
            strip_attributes(o);
        }
    }
}

/// A SOQL string literal.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('\'');
    for c in s.chars() {
        match c {
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            _ => o.push(c),
        }
    }
    o.push('\'');
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a'b\\c"), "'a\\'b\\\\c'");
    }
}
