//! Streaming against sfsim's Pub/Sub API: each event archived once, as its storage object's
//! record, across polling of the same object, restarts, faults and lost replay positions.

mod common;

use std::time::Duration;

use common::stream::{archived, assert_once, command, stored, LOGIN_TOPIC};

fn long_ago() -> chrono::Duration {
    chrono::Duration::days(30)
}

/// Streaming and polling LoginEvent together archive every event once: the poll reads up to
/// the collector's start less the settle delay, the stream everything retained and every
/// event published while it runs.
#[tokio::test]
async fn streaming_and_polling_one_object_archive_each_event_once() {
    let sim = common::start(common::stream::config(21, 2)).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let args = [
        "--stream",
        LOGIN_TOPIC,
        "--object",
        "LoginEvent",
        "--stream-for",
        "4",
    ];
    let child = command(&sim, dir, "collect", &args).spawn().unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = stored(&sim, "LoginEvent", sim.now() - long_ago()).len();
    sim.advance_clock(Duration::from_secs(3600));
    let o = child.wait_with_output().await.unwrap();
    common::assert_exit(&o, 0);
    let got = archived(dir, "LoginEvent");
    assert_once(&got);
    let want = stored(&sim, "LoginEvent", sim.now() - long_ago());
    assert!(want.len() > before, "the hour published nothing");
    let ids: Vec<String> = got.keys().cloned().collect();
    assert_eq!(ids.len(), want.len());
    assert_eq!(ids, want);
    let streamed = got.values().filter(|(_, v)| v[0] == "pubsub").count();
    assert!(
        streamed >= want.len() - before,
        "{streamed} streamed, {} published while streaming",
        want.len() - before
    );
}
