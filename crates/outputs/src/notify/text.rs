//! The words every notifier's message is made of, so Slack, Teams, PagerDuty and mail say the
//! same thing: a title with the level, the fields a responder looks at first (user, address,
//! app, org, count, window), the summary, and a context line naming the rule and the alert id.

use super::AlertView;

/// `[HIGH] Salesforce brute force against one user (ELF Login)`; a test alert says so.
pub fn title(a: &AlertView) -> String {
    let title = if a.rule.title.is_empty() {
        &a.rule.name
    } else {
        &a.rule.title
    };
    let test = if a.test { "TEST: " } else { "" };
    format!("{test}[{}] {title}", a.rule.level.to_ascii_uppercase())
}

/// The labelled facts of an alert, those it has, in a fixed order.
pub fn facts(a: &AlertView) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(u) = a.user() {
        out.push(("User", u.to_string()));
    }
    if let Some(ip) = a.ip() {
        out.push(("IP", ip.to_string()));
    }
    if let Some(app) = a.app() {
        out.push(("App", app.to_string()));
    }
    if !a.org_id.is_empty() {
        out.push(("Org", a.org_id.clone()));
    }
    out.push(("Count", a.count.to_string()));
    out.push(("Window", window(a)));
    out
}

/// `first_seen – last_seen`, or the one time when they are the same.
pub fn window(a: &AlertView) -> String {
    if a.first_seen.is_empty() || a.first_seen == a.last_seen {
        a.timestamp.clone()
    } else {
        format!("{} – {}", a.first_seen, a.last_seen)
    }
}

/// `rule salesforce_brute_force · alert 5b1e…`
pub fn context(a: &AlertView) -> String {
    format!("rule {} · alert {}", a.rule.name, a.id)
}

/// The plain-text body of a message: title, facts, summary, context.
pub fn plain(a: &AlertView) -> String {
    let mut s = title(a);
    s.push_str("\n\n");
    for (k, v) in facts(a) {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push('\n');
    s.push_str(&a.summary);
    s.push_str("\n\n");
    s.push_str(&context(a));
    s.push('\n');
    s
}

/// Cuts `s` to at most `max` characters, marking the cut with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// PagerDuty's severity for a Sigma level.
pub fn severity(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "critical" => "critical",
        "high" => "error",
        "medium" => "warning",
        _ => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("ééé", 3), "ééé");
        assert_eq!(clip("éééé", 3), "éé…");
        assert_eq!(clip("abc", 0), "…");
    }
}
