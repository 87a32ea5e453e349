//! Output: colour only on a terminal and never with `NO_COLOR`, tables for
//! people, JSON for machines.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use parapet_core::{Severity, Status};
use std::io::IsTerminal;

/// Exit code for a threshold met or tests failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code for errors.
pub const EXIT_ERROR: u8 = 2;

/// Whether to colour the output.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when standard output is a terminal, `NO_COLOR` is unset or
    /// empty, and `--no-color` was not given.
    pub fn detect(no_color_flag: bool) -> Style {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color_flag && !no_color_env && std::io::stdout().is_terminal(),
        }
    }

    /// No colour, for files.
    pub fn plain() -> Style {
        Style { color: false }
    }

    /// A new table in the house style.
    pub fn table(&self, header: &[&str]) -> Table {
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_header(header.iter().map(Cell::new));
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        // Wrap to the terminal's width where it reports a usable one; a
        // terminal that reports none, or a tiny one, gets unwrapped rows.
        let arrangement = match table.width() {
            Some(width) if width >= 60 => ContentArrangement::Dynamic,
            _ => ContentArrangement::Disabled,
        };
        table.set_content_arrangement(arrangement);
        table
    }

    /// A severity cell, coloured by severity.
    pub fn severity(&self, severity: Severity) -> Cell {
        let cell = Cell::new(severity.as_str());
        if !self.color {
            return cell;
        }
        match severity {
            Severity::Critical => cell.fg(Color::Magenta),
            Severity::High => cell.fg(Color::Red),
            Severity::Medium => cell.fg(Color::Yellow),
            Severity::Low => cell.fg(Color::Blue),
            Severity::Informational => cell,
        }
    }

    /// A status cell, coloured by status.
    pub fn status(&self, status: Status) -> Cell {
        self.status_cell(Cell::new(status.as_str()), status)
    }

    /// A cell coloured as `status` is.
    pub fn status_cell(&self, cell: Cell, status: Status) -> Cell {
        if !self.color {
            return cell;
        }
        match status {
            Status::Pass => cell.fg(Color::Green),
            Status::Fail => cell.fg(Color::Red),
            Status::Unknown => cell.fg(Color::Yellow),
            Status::Error => cell.fg(Color::Magenta),
        }
    }
}

/// Writes a line to standard output, returning an error (from the calling
/// function) when it cannot, such as when the reader of a pipe has gone.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// Writes to standard output without a new line, as [`out!`] does.
macro_rules! out_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// Whether `error` is standard output's reader having gone away (`parapet
/// ... | head`): not a failure of Parapet's.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }) || error
        .downcast_ref::<serde_json::Error>()
        .and_then(|e| e.io_error_kind())
        == Some(std::io::ErrorKind::BrokenPipe)
}

/// A time as shown in tables: RFC 3339 in UTC, to the second.
pub fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// The process's peak resident memory so far, where the system tells it
/// (Linux's `VmHWM`).
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `, peak memory N MB` where the system tells it, for a timing line.
pub fn peak_memory_note() -> String {
    peak_memory_mb().map_or(String::new(), |mb| format!(", peak memory {mb:.0} MB"))
}
