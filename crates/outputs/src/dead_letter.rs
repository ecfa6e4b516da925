//! Dead letters: events a destination refused for good, kept with the destination's answer
//! in `DIR/dead-letter/<output>/<YYYY-MM-DD>.ndjson`, so they never block the events behind
//! them and can be inspected, fixed and replayed.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::sink::Event;
use base::fsmode;

/// The dead-letter folder of one output in one archive.
pub struct DeadLetters {
    dir: PathBuf,
    output: String,
}

impl DeadLetters {
    pub fn new(archive_root: &Path, output: &str) -> DeadLetters {
        DeadLetters {
            dir: archive_root.join("dead-letter").join(output),
            output: output.to_string(),
        }
    }

    /// Appends the events with their reasons to today's file and syncs it: the position that
    /// passes them is committed only after this returns.
    pub fn write(&self, dead: &[(&Event, &str)]) -> std::io::Result<()> {
        if dead.is_empty() {
            return Ok(());
        }
        // Owner-only even with archive_group_read: the shipper does not know the setting, and
        // dead letters carry the destination's answers as well as events.
        fsmode::create_dir_all(&self.dir, fsmode::PRIVATE_DIR)?;
        let now = chrono::Utc::now();
        let path = self.dir.join(format!("{}.ndjson", now.format("%Y-%m-%d")));
        let mut f = fsmode::open_append(&path, fsmode::PRIVATE_FILE)?;
        let mut buf = Vec::new();
        for (ev, reason) in dead {
            let line = serde_json::json!({
                "dead_at": archive::normalize::iso(&now),
                "output": self.output,
                "id": ev.id,
                "error": reason,
                "event": ev.value(),
            });
            serde_json::to_writer(&mut buf, &line)?;
            buf.push(b'\n');
        }
        f.write_all(&buf)?;
        f.sync_all()
    }
}
