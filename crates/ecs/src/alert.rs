//! Alerts sfevents raised (archive source `sfevents`, type `Alert`, the `alert` dataset), as
//! ECS describes an alert: `event.kind: alert`, `rule.*`, `event.severity` (Elastic's detection
//! rules' 21/47/73/99), `threat.*` from the rule's ATT&CK tags, `message` the alert's summary,
//! and the rest of the alert under `salesforce.alert`.

use serde_json::Value;

use crate::body::Body;
use crate::ingest::Ctx;

/// The archive `source` of alerts.
pub const SOURCE: &str = "sfevents";

pub(crate) fn map(cx: &Ctx, b: &mut Body) {
    let r = cx.rec;
    let rule = r.get("rule").cloned().unwrap_or(Value::Null);
    let text = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
    b.set("event.kind", "alert");
    b.set("event.module", "salesforce");
    b.set("event.dataset", "salesforce.alert");
    b.set("event.category", vec![Value::from("intrusion_detection")]);
    b.set("event.type", vec![Value::from("info")]);
    b.set_opt("event.start", r.text("first_seen"));
    b.set_opt("event.end", r.text("last_seen"));
    b.set_opt("message", r.text("summary"));
    b.set_opt("rule.name", text(&rule, "name"));
    b.set_opt("rule.id", text(&rule, "id"));
    b.set_opt("rule.description", text(&rule, "title"));
    b.set("rule.ruleset", "sfevents");
    if let Some(level) = rule["level"].as_str() {
        b.set("log.level", level);
        b.set("event.severity", severity(level));
    }
    threat(&rule, b);
    for (k, v) in r.map() {
        if !matches!(
            k.as_str(),
            "@timestamp" | "id" | "org_id" | "rule" | "summary"
        ) {
            b.set(&format!("salesforce.alert.{k}"), v.clone());
        }
    }
}

/// ECS `event.severity` as Elastic's detection rules number their levels.
fn severity(level: &str) -> u64 {
    match level {
        "critical" => 99,
        "high" => 73,
        "medium" => 47,
        "low" => 21,
        _ => 1,
    }
}

/// `attack.t1110.001` -> technique T1110, subtechnique T1110.001; `attack.credential-access` ->
/// tactic "Credential Access".
fn threat(rule: &Value, b: &mut Body) {
    let tags: Vec<&str> = rule["tags"]
        .as_array()
        .map(|t| t.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut any = false;
    for tag in tags {
        let Some(name) = tag.strip_prefix("attack.") else {
            continue;
        };
        let technique = name
            .strip_prefix('t')
            .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()));
        match technique {
            Some(id) => {
                let id = format!("T{}", id.to_ascii_uppercase());
                let (main, sub) = id
                    .split_once('.')
                    .map_or((id.as_str(), None), |(m, _)| (m, Some(id.as_str())));
                b.append_unique("threat.technique.id", main.to_string());
                if let Some(sub) = sub {
                    b.append_unique("threat.technique.subtechnique.id", sub.to_string());
                }
            }
            None => b.append_unique("threat.tactic.name", tactic(name)),
        }
        any = true;
    }
    if any {
        b.set("threat.framework", "MITRE ATT&CK");
    }
}

fn tactic(tag: &str) -> String {
    tag.split(['-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn an_alert_is_an_ecs_alert() {
        let n = crate::Normalizer::new(crate::Options::default()).unwrap();
        let line = json!({"@timestamp": "2026-11-30T08:14:03.120Z", "id": "a1", "org_id": "00D000000000001AAA",
            "source": "sfevents", "event_type": "Alert", "fields": {
                "@timestamp": "2026-11-30T08:14:03.120Z", "id": "a1", "org_id": "00D000000000001AAA",
                "rule": {"name": "salesforce_brute_force", "id": "r1", "title": "Brute force", "level": "high",
                         "tags": ["attack.credential-access", "attack.t1110.001", "attack.t1078"]},
                "group": {"USER_ID": "005"}, "count": 10, "first_seen": "2026-11-30T08:01:12.000Z",
                "last_seen": "2026-11-30T08:14:03.120Z", "events": {"ids": ["e1"], "total": 10},
                "summary": "Brute force: user jane"}});
        let doc = n.ecs(&line).unwrap();
        assert_eq!(doc.data_stream, "logs-salesforce.alert-default");
        let b = &doc.body;
        assert_eq!(b["event"]["kind"], "alert");
        assert_eq!(b["event"]["severity"], 73);
        assert_eq!(b["rule"]["name"], "salesforce_brute_force");
        assert_eq!(b["threat"]["technique"]["id"], json!(["T1110", "T1078"]));
        assert_eq!(
            b["threat"]["technique"]["subtechnique"]["id"],
            json!(["T1110.001"])
        );
        assert_eq!(b["threat"]["tactic"]["name"], json!(["Credential Access"]));
        assert_eq!(b["message"], "Brute force: user jane");
        assert_eq!(b["salesforce"]["alert"]["count"], 10);
        assert_eq!(b["data_stream"]["dataset"], "salesforce.alert");
        assert_eq!(crate::dataset_for("sfevents", Some("Alert")), "alert");
    }
}
