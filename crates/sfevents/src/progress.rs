//! A download progress bar on stderr, shown only when stderr is a terminal and not --quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(enabled: bool, files: u64, bytes: u64) -> Progress {
        if !enabled || files == 0 {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(bytes), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        ) {
            bar.set_style(style);
        }
        bar.set_message(format!("0/{files} files"));
        Progress { bar: Some(bar) }
    }

    pub fn bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn file_done(&self) {
        if let Some(b) = &self.bar {
            let msg = b.message();
            if let Some((done, total)) = msg.split_once(' ').and_then(|(a, _)| a.split_once('/')) {
                let done: u64 = done.parse().unwrap_or(0) + 1;
                b.set_message(format!("{done}/{total} files"));
            }
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
