//! `doctor`'s checks of the Pub/Sub streams: the endpoint answers, and `GetTopic` says each
//! configured topic exists and may be subscribed to. No subscription is opened and no REST
//! call is spent.

use super::Report;
use salesforce::client::SfClient;
use salesforce::config::OrgConfig;
use salesforce::stream::{Auth, PubSub};

/// Checks every stream of `org` with the session `c` holds.
pub async fn check(r: &mut Report, scope: &str, org: &OrgConfig, c: &SfClient) {
    if org.streams.is_empty() {
        return;
    }
    let url = org.pubsub_url.as_str().trim_end_matches('/');
    let what = "Pub/Sub API";
    let Ok(session) = c.tokens.session().await else {
        r.warn(scope, what, "skipped: it needs a login");
        return;
    };
    let Some(auth) = Auth::from_session(&session) else {
        r.warn(scope, what, "skipped: the login did not name its org");
        return;
    };
    let pubsub = match PubSub::open(url, org.ca_file.as_deref(), &auth).await {
        Ok(p) => p,
        Err(e) => {
            r.problem(scope, what, format!("{e}. Fix: check pubsub_url (default https://api.pubsub.salesforce.com:7443) and that port 7443 is open to it"));
            return;
        }
    };
    r.ok(scope, what, format!("{url} answers"));
    for s in &org.streams {
        let what = format!("stream {}", s.topic);
        match pubsub.topic(&s.topic).await {
            Ok(info) => r.ok(
                scope,
                &what,
                format!(
                    "can subscribe (schema {}); archived as {}{}",
                    info.schema_id,
                    s.source,
                    if s.polled {
                        ", which is also polled"
                    } else {
                        ""
                    }
                ),
            ),
            Err(e) => r.problem(scope, &what, e.to_string()),
        }
    }
}
