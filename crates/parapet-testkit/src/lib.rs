//! What Parapet's integration tests and benchmarks share: the Python
//! virtual environment `scripts/moto-venv` makes (`.ci/test` runs it), with
//! moto's server, jsonschema, Selenium, aiosmtpd, cyclonedx-python-lib and
//! schemathesis, a PostgreSQL server ([`postgres`]), and what benchmarks
//! report: peak memory and latency percentiles.

pub mod postgres;

use std::path::PathBuf;

/// The virtual environment: `PARAPET_MOTO_VENV`, or
/// `~/.cache/parapet/moto-venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("PARAPET_MOTO_VENV")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/parapet/moto-venv"))
        })
        .expect("HOME or PARAPET_MOTO_VENV is set")
}

/// A program of the virtual environment (`python`, `moto_server`,
/// `schemathesis`), which must exist.
pub fn tool(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/moto-venv (bash .ci/test does)",
        path.display()
    );
    path
}

/// The folder of the Python modules the tests' scripts share (`chromium`:
/// the browser as the tests drive it), for `PYTHONPATH`.
pub fn python_modules() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// Starts a Python script of the virtual environment with `args` (its
/// standard error discarded when `quiet`), and returns it with the first
/// line it prints, trimmed: a fixture server's port, or `ready`.
pub fn start_python(
    script: &std::path::Path,
    args: &[&std::ffi::OsStr],
    quiet: bool,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut command = std::process::Command::new(tool("python"));
    command
        .arg(script)
        .args(args)
        .stdout(std::process::Stdio::piped());
    if quiet {
        command.stderr(std::process::Stdio::null());
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("{} does not start: {e}", script.display()));
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{} printed nothing: {e}", script.display()));
    }
    (child, line.trim().to_owned())
}

/// The process's peak resident memory so far, in MB (Linux's `VmHWM`; 0
/// where the system does not tell it).
pub fn peak_resident_mb() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// The processor time the process has used so far (user and system, every
/// thread), in seconds (Linux's `/proc/self/stat`, in ticks of 1/100 s; 0
/// where the system does not tell it).
pub fn processor_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command's name, which is in parentheses
            // and may hold spaces: user time is the 14th field, system time
            // the 15th.
            let (_, after) = stat.rsplit_once(')')?;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let user: f64 = fields.get(11)?.parse().ok()?;
            let system: f64 = fields.get(12)?.parse().ok()?;
            Some((user + system) / 100.0)
        })
        .unwrap_or(0.0)
}

/// Prints the percentiles of the times from `sent` to `done`, key by key
/// (milliseconds since the epoch each), as `what`.
pub fn report_latencies(
    what: &str,
    sent: &std::collections::BTreeMap<String, i64>,
    done: &std::collections::BTreeMap<String, i64>,
) {
    let mut latencies: Vec<i64> = sent
        .iter()
        .filter_map(|(key, at)| done.get(key).map(|d| d - at))
        .collect();
    latencies.sort_unstable();
    if latencies.is_empty() {
        println!("{what}: none of {} events", sent.len());
        return;
    }
    let pick = |p: f64| {
        let rank = (latencies.len() as f64 * p).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1]
    };
    println!(
        "{} of {} events; {what}: p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
        latencies.len(),
        sent.len(),
        pick(0.50),
        pick(0.95),
        pick(0.99),
        latencies.last().copied().unwrap_or_default()
    );
}
