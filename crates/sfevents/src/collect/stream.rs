//! An org's Pub/Sub streams: one task per topic, each a [`Streamer`], for `run` (until a
//! stop) and `collect --stream-for` (for a while). They share the org's client (its session
//! and API budget, for gap fills), archive and state.db with the polled sources, and record
//! their work as one run in `status`'s history.

use std::sync::Arc;

use archive::state::RunTotals;
use salesforce::sources::records::ObjectCtx;
use salesforce::sources::streaming::{StreamSnapshot, Streamer};
use tokio::sync::watch;

use super::OrgRuntime;

/// How an org's streams ended.
#[derive(Debug, Default)]
pub struct StreamsReport {
    pub streams: Vec<StreamSnapshot>,
    /// Streams that stopped on a fault no retry fixes: topic and why.
    pub failed: Vec<(String, String)>,
}

impl OrgRuntime {
    /// The org's streams, ready to run; `None` when it has none.
    fn streamers(&self) -> Result<Option<(i64, Vec<Streamer>)>, String> {
        let cfg = &self.cfg;
        if cfg.streams.is_empty() {
            return Ok(None);
        }
        let run_id = self.store.begin_run(&cfg.name).map_err(|e| e.to_string())?;
        let ctx = Arc::new(ObjectCtx {
            client: self.client.clone(),
            store: self.store.clone(),
            archive: self.archive.clone(),
            org: cfg.name.clone(),
            org_id: self.org_id.clone(),
            run_id,
            seq: Default::default(),
            fields: self.fields.clone(),
            redact: cfg.archive_redaction.clone(),
            pages: self.pages.clone(),
            via: None,
        });
        let streamers = cfg
            .streams
            .iter()
            .map(|s| Streamer::new(ctx.clone(), s.clone(), &cfg.pubsub_url, cfg.ca_file.clone()))
            .collect();
        Ok(Some((run_id, streamers)))
    }

    /// Runs every stream of the org until `stop` turns true or each has failed for good.
    pub async fn stream(&self, stop: watch::Receiver<bool>) -> StreamsReport {
        let mut report = StreamsReport::default();
        let (run_id, streamers) = match self.streamers() {
            Ok(Some(s)) => s,
            Ok(None) => return report,
            Err(e) => {
                report.failed.push(("streams".into(), e));
                return report;
            }
        };
        let live = crate::metrics::live();
        for s in &streamers {
            live.stream_started(&self.cfg.name, s.status());
        }
        let ends =
            futures_util::future::join_all(streamers.iter().map(|s| s.run(stop.clone()))).await;
        for (s, end) in streamers.iter().zip(ends) {
            if let Err(e) = end {
                report
                    .failed
                    .push((s.config().topic.clone(), e.to_string()));
            }
            report.streams.push(s.status().snapshot());
        }
        self.finish_streams(run_id, &report);
        report
    }

    /// Records the streams' run: events archived, and why any stream failed.
    fn finish_streams(&self, run_id: i64, report: &StreamsReport) {
        let totals = RunTotals {
            rows: report.streams.iter().map(|s| s.committed).sum(),
            ..Default::default()
        };
        let (status, message) = match report.failed.first() {
            None => ("ok", None),
            Some((topic, why)) => ("partial", Some(format!("stream {topic}: {why}"))),
        };
        if let Err(e) = self
            .store
            .finish_run(run_id, status, &totals, message.as_deref())
        {
            tracing::error!("cannot record the streams' run in state.db: {e}");
        }
    }
}
