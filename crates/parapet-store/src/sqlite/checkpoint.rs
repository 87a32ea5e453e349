//! Checkpoints on a thread of their own.
//!
//! In WAL mode a commit appends pages to the log, and a checkpoint later
//! copies them into the database file. SQLite would run that copy inside the
//! commit of the writer that crossed the threshold, which doubles the time a
//! large scan takes to commit. Instead the writer's own automatic checkpoints
//! are off and, after each commit, a second connection copies the log in
//! passive mode (never blocking readers or the next writer) on another thread.
//! A log grown past a limit (writes back to back never let it start over) is
//! emptied by a checkpoint that waits for the writer. Closing the store waits
//! for the last checkpoint.

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

/// The log's length past which a checkpoint waits for the writer and
/// empties it.
const MAX_LOG_BYTES: i64 = 256 << 20;

pub(super) struct Checkpointer {
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread with its own connection to the database at `path`;
    /// `None` when that cannot be done, and the writer must checkpoint as
    /// SQLite does by default.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open(path).ok()?;
        conn.busy_timeout(Duration::from_secs(10)).ok()?;
        // The log counts pages (frames), of the database's own size.
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .ok()?;
        let max_frames = MAX_LOG_BYTES / page_size.max(512);
        let (wake, woken) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("parapet-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // Commits made meanwhile are covered by one checkpoint.
                    while woken.try_recv().is_ok() {}
                    // A checkpoint that fails (the disk is full, a reader
                    // holds the log) loses nothing: the pages stay in the
                    // log, where readers find them, until the next one.
                    let frames = conn
                        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                            row.get::<_, i64>(1)
                        })
                        .unwrap_or(0);
                    // The log starts over only when a writer finds it all
                    // copied, which back-to-back commits never let happen:
                    // past a limit, wait for the writer and empty it.
                    if frames > max_frames {
                        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                    }
                }
            })
            .ok()?;
        Some(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint of what has been committed so far.
    pub(super) fn after_commit(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
