//! Checkpoints on a thread of their own.
//!
//! In WAL mode a commit appends pages to the log, and a checkpoint later
//! copies them into the database file. SQLite would run that copy inside the
//! commit of the writer that crossed the threshold, which doubles the time a
//! large scan takes to commit. Instead the writer's own automatic checkpoints
//! are off and, after each commit, a second connection copies the log in
//! passive mode (never blocking readers or the next writer) on another thread.
//! A log grown past a limit (writes back to back never let it start over) is
//! emptied by a checkpoint that waits for the writer and holds it off while
//! it runs; passive copies first bring what is left to copy down to a few
//! pages, so that the writer is held off for those alone. One checkpoint runs
//! at a time: [`Checkpointer::alone`] waits for the thread's. Closing the
//! store waits for the last checkpoint.

use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// The log's length past which a checkpoint waits for the writer and
/// empties it.
const MAX_LOG_BYTES: i64 = 256 << 20;

/// What may be left to copy when the checkpoint that empties the log
/// starts: the writer waits while it is copied.
const LEFT_BYTES: i64 = 16 << 20;

/// Passive copies, at most, before the log is emptied whatever is left (a
/// writer that writes faster than the copies never lets it shrink).
const PASSES: usize = 8;

pub(super) struct Checkpointer {
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    running: Arc<Mutex<()>>,
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
        let frames = |bytes: i64| bytes / page_size.max(512);
        let (max_frames, left_frames) = (frames(MAX_LOG_BYTES), frames(LEFT_BYTES));
        let running = Arc::new(Mutex::new(()));
        let held = Arc::clone(&running);
        let (wake, woken) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("parapet-checkpoint".into())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // Commits made meanwhile are covered by one checkpoint.
                    while woken.try_recv().is_ok() {}
                    let _alone = held.lock().unwrap_or_else(PoisonError::into_inner);
                    // A checkpoint that fails (the disk is full, a reader
                    // holds the log) loses nothing: the pages stay in the
                    // log, where readers find them, until the next one.
                    let Some((log, copied)) = passive(&conn) else {
                        continue;
                    };
                    // The log starts over only when a writer finds it all
                    // copied, which back-to-back commits never let happen:
                    // past a limit, wait for the writer and empty it.
                    if log <= max_frames {
                        continue;
                    }
                    let mut left = log - copied;
                    for _ in 1..PASSES {
                        if left <= left_frames {
                            break;
                        }
                        let Some((log, copied)) = passive(&conn) else {
                            break;
                        };
                        left = log - copied;
                    }
                    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
                }
            })
            .ok()?;
        Some(Checkpointer {
            wake: Some(wake),
            thread: Some(thread),
            running,
        })
    }

    /// Asks for a checkpoint of what has been committed so far.
    pub(super) fn after_commit(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.send(());
        }
    }

    /// Waits for the thread's checkpoint, if one runs, and keeps the next
    /// from starting while the guard lives (SQLite refuses a checkpoint
    /// while another runs).
    pub(super) fn alone(&self) -> MutexGuard<'_, ()> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A passive checkpoint: the log's length and how much of it has been
/// copied into the database, in pages; `None` when it failed.
fn passive(conn: &Connection) -> Option<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    })
    .ok()
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
