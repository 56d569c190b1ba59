//! One ECS document per line, appended to a file.
use super::{Sink, SinkStats};
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

/// One ECS document per line, appended; flushed after every batch.
pub struct JsonLinesSink {
    path: String,
    out: std::io::BufWriter<std::fs::File>,
    stats: Arc<SinkStats>,
}

impl JsonLinesSink {
    pub fn open(path: &str) -> Result<JsonLinesSink, String> {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("cannot open alert file {path}: {e}"))?;
        Ok(JsonLinesSink { path: path.into(), out: std::io::BufWriter::new(f), stats: Arc::default() })
    }
}

impl Sink for JsonLinesSink {
    fn name(&self) -> String {
        format!("jsonl:{}", self.path)
    }
    fn send(&mut self, doc: &serde_json::Value, _: u8) {
        match writeln!(self.out, "{doc}") {
            Ok(()) => self.stats.sent.fetch_add(1, Relaxed),
            Err(_) => self.stats.failed.fetch_add(1, Relaxed),
        };
    }
    fn flush(&mut self) {
        if self.out.flush().is_err() {
            self.stats.failed.fetch_add(1, Relaxed);
        }
    }
    fn reopen(&mut self) {
        self.flush();
        match std::fs::OpenOptions::new().create(true).append(true).open(&self.path) {
            Ok(f) => self.out = std::io::BufWriter::new(f),
            // The old file is kept: nothing is lost, and the next SIGHUP tries again.
            Err(e) => eprintln!("antidote: cannot open alert file {} again: {e}; still writing to the one open", self.path),
        }
    }
    fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }
}
