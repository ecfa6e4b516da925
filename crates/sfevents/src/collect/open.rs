//! Opening an org: its archive (locked against a second sfevents, spool cleaned, pages left
//! pending recovered), its state.db, the API client and a session, and the check that the
//! archive belongs to the org these credentials log in to.

use std::sync::Arc;

use archive::state::{RunTotals, Store};
use archive::Archive;
use salesforce::auth::{AuthError, TokenManager};
use salesforce::client::{build_http_client, ApiError, ApiStats, RetryPolicy, SfClient};
use salesforce::config::OrgConfig;
use salesforce::sources::records::recover_pending;

use super::{OrgReport, OrgRuntime};

/// Why an org could not be opened; `config` marks a configuration or credentials problem
/// (exit code 2) rather than a fault to retry.
struct OpenError {
    message: String,
    config: bool,
}

impl OpenError {
    fn config(message: String) -> OpenError {
        OpenError {
            message,
            config: true,
        }
    }

    fn fault(message: impl ToString) -> OpenError {
        OpenError {
            message: message.to_string(),
            config: false,
        }
    }
}

impl OrgRuntime {
    /// Opens the archive and state, logs in and checks the archive belongs to this org. On
    /// failure the report says why (and whether it is a configuration problem).
    pub async fn open(cfg: &OrgConfig) -> Result<OrgRuntime, OrgReport> {
        open(cfg).await.map_err(|e| OrgReport {
            name: cfg.name.clone(),
            stopped: Some(e.message),
            config_error: e.config,
            ..Default::default()
        })
    }
}

async fn open(cfg: &OrgConfig) -> Result<OrgRuntime, OpenError> {
    let access = base::fsmode::Access::new(cfg.archive_group_read);
    let mut archive = Archive::open_with(&cfg.archive_dir, access).map_err(|e| {
        OpenError::config(format!(
            "cannot create the archive in {}: {e}",
            cfg.archive_dir.display()
        ))
    })?;
    archive.compress_events = cfg.compress_events;
    let lock = archive.lock().map_err(OpenError::fault)?;
    archive.clean_spool().map_err(|e| {
        OpenError::fault(format!(
            "cannot clean the spool of {}: {e}",
            cfg.archive_dir.display()
        ))
    })?;
    let store = Arc::new(Store::open(&archive.state_path()).map_err(OpenError::fault)?);
    recover_pending(&store, &archive).map_err(OpenError::fault)?;
    let http =
        build_http_client(cfg.ca_file.as_deref()).map_err(|e| OpenError::config(e.to_string()))?;
    let stats = Arc::new(ApiStats::default());
    let client = Arc::new(SfClient {
        http: http.clone(),
        tokens: Arc::new(TokenManager::new(cfg.clone(), http)),
        api_version: cfg.api_version.clone(),
        retry: RetryPolicy::new(cfg.max_attempts),
        stats: stats.clone(),
        budget: None,
    });
    let org_id = log_in(cfg, &store, &client).await?;
    claim(cfg, &store, &org_id)?;
    // Outputs label every event with the instance it came from, also in `ship` and
    // `replay`, which do not log in.
    if let Ok(session) = client.tokens.session().await {
        let url = session.instance_url.as_str().trim_end_matches('/');
        store
            .set_meta("instance_url", url)
            .map_err(OpenError::fault)?;
    }
    Ok(OrgRuntime {
        cfg: cfg.clone(),
        archive: Arc::new(archive),
        store,
        client,
        stats,
        org_id,
        fields: Arc::default(),
        pages: Arc::default(),
        _lock: lock,
    })
}

/// The org's id; a failed login is recorded as a failed run, so `status` shows it.
async fn log_in(cfg: &OrgConfig, store: &Store, client: &SfClient) -> Result<String, OpenError> {
    match client.org_id().await {
        Ok(id) => Ok(id),
        Err(e) => {
            let config = matches!(e, ApiError::Auth(AuthError::Rejected(_)));
            if let Ok(run) = store.begin_run(&cfg.name) {
                let _ =
                    store.finish_run(run, "failed", &RunTotals::default(), Some(&e.to_string()));
            }
            Err(OpenError {
                message: e.to_string(),
                config,
            })
        }
    }
}

/// Records the org id in a new archive, and refuses an archive of another org: two orgs'
/// events in one archive could never be told apart again. Ids compare on their first 15
/// characters, since Salesforce gives 15- or 18-character forms of one id.
fn claim(cfg: &OrgConfig, store: &Store, org_id: &str) -> Result<(), OpenError> {
    match store.meta("org_id").map_err(OpenError::fault)? {
        Some(known) if known != org_id && known.get(..15) != org_id.get(..15) => {
            Err(OpenError::config(format!(
                "the archive in {} belongs to org {known}, but these credentials log in to {org_id}: give each org its own --output-dir",
                cfg.archive_dir.display()
            )))
        }
        Some(_) => Ok(()),
        None => store.set_meta("org_id", org_id).map_err(OpenError::fault),
    }
}
