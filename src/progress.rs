//! Progress on a terminal: one self-overwriting line on stderr, only when stderr is a TTY, at
//! most ten times a second. Nothing is printed when output is piped or captured.

use std::io::{IsTerminal as _, Read, Write};
use std::time::{Duration, Instant};

/// How often the line is redrawn.
const REDRAW_INTERVAL: Duration = Duration::from_millis(100);

/// A progress line.
#[derive(Debug)]
pub(crate) struct Progress {
    label: String,
    total: Option<u64>,
    unit: &'static str,
    enabled: bool,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// A progress line for `label`, out of `total` `unit`s when known.
    pub(crate) fn new(label: &str, total: Option<u64>, unit: &'static str) -> Self {
        Progress {
            label: label.to_owned(),
            total,
            unit,
            enabled: std::io::stderr().is_terminal(),
            last: None,
            drawn: false,
        }
    }

    /// Reports `done` units so far.
    pub(crate) fn set(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last
            .is_some_and(|t| now.duration_since(t) < REDRAW_INTERVAL)
        {
            return;
        }
        self.last = Some(now);
        self.draw(done);
    }

    fn draw(&mut self, done: u64) {
        let line = match self.total {
            Some(total) if total > 0 => {
                let percent = done.saturating_mul(100) / total;
                format!("{}: {done}/{total} {} ({percent}%)", self.label, self.unit)
            }
            _ => format!("{}: {done} {}", self.label, self.unit),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Clears the line.
    pub(crate) fn finish(&mut self) {
        if self.enabled && self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A reader that reports the bytes read through it.
#[derive(Debug)]
pub(crate) struct ProgressReader<R> {
    inner: R,
    read: u64,
    progress: Progress,
}

impl<R: Read> ProgressReader<R> {
    /// Wraps `inner`, whose length is `total` bytes when known.
    pub(crate) fn new(inner: R, label: &str, total: Option<u64>) -> Self {
        ProgressReader {
            inner,
            read: 0,
            progress: Progress::new(label, total.map(|t| t / 1024), "KiB"),
        }
    }
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        self.progress.set(self.read / 1024);
        Ok(n)
    }
}

/// A writer that reports the bytes written through it.
#[derive(Debug)]
pub(crate) struct ProgressWriter<W> {
    inner: W,
    written: u64,
    progress: Progress,
}

impl<W: Write> ProgressWriter<W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W, label: &str) -> Self {
        ProgressWriter {
            inner,
            written: 0,
            progress: Progress::new(label, None, "KiB"),
        }
    }

    /// Gives back the inner writer.
    pub(crate) fn into_inner(mut self) -> W {
        self.progress.finish();
        let ProgressWriter { inner, .. } = self;
        inner
    }
}

impl<W: Write> Write for ProgressWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written = self.written.saturating_add(n as u64);
        self.progress.set(self.written / 1024);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
