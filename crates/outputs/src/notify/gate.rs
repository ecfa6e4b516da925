//! Decides, alert by alert in log order, what a notifier sends: the [`Routing`] filters, and
//! suppression by rule and group values over the alerts' own times.

use std::collections::HashMap;

use super::{level_rank, AlertView, Routing};

/// What becomes of one alert at one notifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Below `min_level` or outside `rules`.
    Skip,
    /// The same rule and group values were notified within `suppress_minutes`.
    Suppress,
}

/// A notifier's filter and memory of what it notified.
#[derive(Debug, Clone)]
pub struct Gate {
    routing: Routing,
    /// Suppression key -> the time of the last alert sent for it.
    marks: HashMap<String, i64>,
}

impl Gate {
    pub fn new(routing: Routing, marks: HashMap<String, i64>) -> Gate {
        Gate { routing, marks }
    }

    /// Decides for `alert`, remembering it when it is to be sent. The caller commits the
    /// marks of the sent alerts with the position ([`Gate::marks_for`]).
    pub fn decide(&mut self, alert: &AlertView) -> Decision {
        if !self.takes(alert) {
            return Decision::Skip;
        }
        if alert.test || self.routing.suppress_secs == 0 {
            return Decision::Send;
        }
        let key = alert.suppression_key();
        let at = alert.epoch();
        if let Some(&last) = self.marks.get(&key) {
            // Alerts come in log order, not strictly in time order: one older than the mark
            // is within the window of it too.
            if (at - last).abs() < self.routing.suppress_secs {
                return Decision::Suppress;
            }
        }
        self.marks.insert(key, at);
        Decision::Send
    }

    /// Whether `min_level` and `rules` take the alert (a test alert is taken whatever its
    /// level, so `alerts test` reaches every notifier).
    fn takes(&self, alert: &AlertView) -> bool {
        if alert.test {
            return true;
        }
        let level = level_rank(&alert.rule.level).unwrap_or(0);
        if level < self.routing.min_level {
            return false;
        }
        self.routing.rules.is_empty()
            || self.routing.rules.iter().any(|g| glob(g, &alert.rule.name))
    }

    /// The mark to commit for an alert that was sent.
    pub fn marks_for(&self, alert: &AlertView) -> Option<(String, i64)> {
        (self.routing.suppress_secs > 0 && !alert.test)
            .then(|| (alert.suppression_key(), alert.epoch()))
    }
}

/// `*` any run of characters, `?` one; anything else itself (case-sensitive, as rule names).
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(name: &str, level: &str, user: &str, at: &str) -> AlertView {
        AlertView::of(&json!({"fields": {
            "@timestamp": at, "id": format!("{name}-{user}-{at}"),
            "rule": {"name": name, "level": level}, "group": {"USER_ID": user}
        }}))
        .unwrap()
    }

    fn routing(min: &str, rules: &[&str], minutes: i64) -> Routing {
        Routing {
            min_level: level_rank(min).unwrap(),
            rules: rules.iter().map(|r| r.to_string()).collect(),
            suppress_secs: minutes * 60,
            gather_secs: 0,
        }
    }

    #[test]
    fn level_and_rule_globs_choose_the_alerts() {
        let mut g = Gate::new(routing("high", &["salesforce_brute_*"], 0), HashMap::new());
        let t = "2026-11-30T08:00:00Z";
        assert_eq!(
            g.decide(&alert("salesforce_brute_force", "high", "u", t)),
            Decision::Send
        );
        assert_eq!(
            g.decide(&alert("salesforce_brute_force", "medium", "u", t)),
            Decision::Skip
        );
        assert_eq!(
            g.decide(&alert("salesforce_login_as", "critical", "u", t)),
            Decision::Skip
        );
    }

    #[test]
    fn one_notification_per_rule_and_group_within_the_window() {
        let mut g = Gate::new(routing("low", &[], 30), HashMap::new());
        let a = |user, at| alert("salesforce_brute_force", "high", user, at);
        assert_eq!(g.decide(&a("u1", "2026-11-30T08:00:00Z")), Decision::Send);
        assert_eq!(
            g.decide(&a("u1", "2026-11-30T08:29:59Z")),
            Decision::Suppress
        );
        assert_eq!(g.decide(&a("u2", "2026-11-30T08:10:00Z")), Decision::Send);
        assert_eq!(
            g.decide(&a("u1", "2026-11-30T07:45:00Z")),
            Decision::Suppress
        );
        assert_eq!(g.decide(&a("u1", "2026-11-30T08:30:00Z")), Decision::Send);
        // A restart with the committed marks holds back what the running gate would.
        let marks = HashMap::from([g.marks_for(&a("u1", "2026-11-30T08:30:00Z")).unwrap()]);
        let mut again = Gate::new(routing("low", &[], 30), marks);
        assert_eq!(
            again.decide(&a("u1", "2026-11-30T08:31:00Z")),
            Decision::Suppress
        );
    }

    #[test]
    fn globs() {
        assert!(glob("salesforce_*", "salesforce_login_as"));
        assert!(glob("*_as", "salesforce_login_as"));
        assert!(glob("salesforce_login_?s", "salesforce_login_as"));
        assert!(!glob("salesforce_login", "salesforce_login_as"));
        assert!(glob("*", ""));
    }
}
