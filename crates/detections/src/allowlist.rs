//! `[detections]` allowlists (users, CIDR ranges, connected apps), compiled to Sigma filter
//! rules that apply to every Salesforce rule: an event from an allowlisted user, address or
//! app matches no rule, so it neither alerts nor counts towards a correlation.

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Fields that name the acting user, in EventLogFile and object records.
const USER_FIELDS: &[&str] = &[
    "USER_NAME",
    "USER_ID",
    "Username",
    "UserId",
    "CreatedBy.Username",
    "CreatedById",
];
/// Fields that carry the client's address.
const IP_FIELDS: &[&str] = &["SOURCE_IP", "CLIENT_IP", "SourceIp"];
/// Fields that name a connected app or API client.
const APP_FIELDS: &[&str] = &[
    "CONNECTED_APP_ID",
    "CONNECTED_APP_NAME",
    "CLIENT_NAME",
    "CLIENT_ID",
    "Application",
    "ConnectedAppId",
];

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// User names or ids.
    #[serde(default)]
    pub users: Vec<String>,
    /// Address ranges (`10.0.0.0/8`, `2001:db8::/32`); a bare address is its own range.
    #[serde(default)]
    pub cidrs: Vec<String>,
    /// Connected app names or ids, or API client names.
    #[serde(default)]
    pub apps: Vec<String>,
}

impl Allowlist {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.cidrs.is_empty() && self.apps.is_empty()
    }

    /// The Sigma filter rule, as YAML; `None` when the list is empty.
    pub fn to_sigma(&self) -> Result<Option<String>, String> {
        if self.is_empty() {
            return Ok(None);
        }
        let mut selections = String::new();
        let mut names: Vec<String> = Vec::new();
        let cidrs: Vec<String> = self
            .cidrs
            .iter()
            .map(|c| cidr(c))
            .collect::<Result<_, _>>()?;
        let lists = [
            ("user", USER_FIELDS, "", &self.users),
            ("ip", IP_FIELDS, "|cidr", &cidrs),
            ("app", APP_FIELDS, "", &self.apps),
        ];
        for (what, fields, modifier, values) in lists {
            if values.is_empty() {
                continue;
            }
            for field in fields {
                let name = format!(
                    "allow_{what}_{}",
                    field.replace('.', "_").to_ascii_lowercase()
                );
                selections.push_str(&format!("  {name}:\n    {field}{modifier}:\n"));
                names.push(name);
                for v in values {
                    selections.push_str(&format!("      - {}\n", quoted(v)));
                }
            }
        }
        let id = uuid_from(&selections);
        // The selections by name, not `1 of allow_*`: rsigma 0.23 does not rename a filter's
        // selector patterns when it merges the filter into a rule, so a pattern would match
        // nothing and the filter would let everything through.
        let condition = names.join(" or ");
        Ok(Some(format!(
            "title: sfevents allowlist\nid: {id}\nname: sfevents_allowlist\nlogsource:\n  product: salesforce\nfilter:\n  rules: any\n{selections}  condition: not ({condition})\n"
        )))
    }
}

fn cidr(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (text, None),
    };
    let ip: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("cidrs: {text:?} is not an address or range (like 10.0.0.0/8)"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits =
        match bits {
            Some(b) => b.parse::<u8>().ok().filter(|b| *b <= max).ok_or_else(|| {
                format!("cidrs: {text:?} has a prefix length that is not 0 to {max}")
            })?,
            None => max,
        };
    Ok(format!("{ip}/{bits}"))
}

/// A YAML single-quoted scalar: allowlist values are literal, never wildcards.
fn quoted(value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('*', "\\*")
        .replace('?', "\\?");
    format!("'{}'", escaped.replace('\'', "''"))
}

/// A stable UUID-shaped id from the filter's content.
fn uuid_from(text: &str) -> String {
    let h = hex::encode(Sha256::digest(text.as_bytes()));
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_list_is_no_filter() {
        assert_eq!(Allowlist::default().to_sigma().unwrap(), None);
    }

    #[test]
    fn bad_ranges_name_the_value() {
        let list = Allowlist {
            cidrs: vec!["10.0.0.0/33".into()],
            ..Default::default()
        };
        assert!(list.to_sigma().unwrap_err().contains("10.0.0.0/33"));
        let list = Allowlist {
            cidrs: vec!["intranet".into()],
            ..Default::default()
        };
        assert!(list.to_sigma().unwrap_err().contains("intranet"));
    }

    #[test]
    fn the_filter_parses_as_sigma() {
        let list = Allowlist {
            users: vec!["svc@example.com".into(), "o'brien*".into()],
            cidrs: vec!["10.1.0.0/16".into(), "2001:db8::1".into()],
            apps: vec![],
        };
        let yaml = list.to_sigma().unwrap().unwrap();
        let collection = rsigma_parser::parse_sigma_yaml(&yaml).unwrap();
        assert!(
            collection.errors.is_empty(),
            "{:?}\n{yaml}",
            collection.errors
        );
        assert_eq!(collection.filters.len(), 1);
    }
}
