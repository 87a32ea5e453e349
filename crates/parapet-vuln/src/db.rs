//! The advisory database: OSV records imported from a folder or a zip file
//! (such as osv.dev's per-ecosystem `all.zip`), kept in one SQLite file with
//! only the fields matching and reports use, and indexed by ecosystem and
//! package name.

use crate::ecosystem::Ecosystem;
use crate::error::VulnError;
use crate::osv::Advisory;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest OSV record read (uncompressed), against zip bombs.
const MAX_RECORD: u64 = 16 * 1024 * 1024;

/// The environment variable that names the advisory database.
pub const DB_ENV: &str = "PARAPET_VULN_DB";

/// The default advisory database: `parapet/advisories.db` in the platform's
/// data folder.
pub fn default_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("parapet")
        .join("advisories.db")
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS advisories (
    id        TEXT PRIMARY KEY,
    modified  TEXT,
    withdrawn INTEGER NOT NULL,
    record    TEXT NOT NULL                 -- JSON: parapet_vuln::osv::Advisory
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS affected (
    ecosystem TEXT NOT NULL,                -- Debian, PyPI, ... (OSV's name)
    release   TEXT NOT NULL,                -- 12, v3.20, '' for none
    name      TEXT NOT NULL,                -- normalised as the ecosystem compares names
    advisory  TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, release, advisory)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (advisory);
";

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportReport {
    /// Records added or changed.
    pub imported: usize,
    /// Records already there, not newer.
    pub unchanged: usize,
    /// Records of ecosystems Parapet does not match (kept out).
    pub skipped: usize,
    /// Files that could not be read, each with the reason; the others are
    /// imported all the same.
    pub errors: Vec<String>,
}

/// How many advisories the database holds per ecosystem.
pub type Counts = BTreeMap<String, usize>;

/// An advisory database file.
pub struct AdvisoryDb {
    conn: Connection,
    path: PathBuf,
}

impl AdvisoryDb {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<AdvisoryDb, VulnError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| VulnError::io(parent, e))?;
        }
        let db = |source| VulnError::Database {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open(path).map_err(db)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(AdvisoryDb {
            conn,
            path: path.to_owned(),
        })
    }

    fn db(&self) -> impl Fn(rusqlite::Error) -> VulnError + '_ {
        |source| VulnError::Database {
            path: self.path.clone(),
            source,
        }
    }

    /// Imports every `.json` record of a folder (recursively) or a zip file.
    pub fn import(&mut self, source: &Path) -> Result<ImportReport, VulnError> {
        let mut records: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
        if source.is_dir() {
            for entry in walkdir::WalkDir::new(source).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(source).to_owned();
                    VulnError::io(
                        path,
                        e.into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("a loop of links")),
                    )
                })?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|x| x == "json")
                {
                    let name = entry.path().display().to_string();
                    let text = read_limited(std::fs::File::open(entry.path()), MAX_RECORD);
                    records.push((name, text));
                }
            }
        } else {
            let file = std::fs::File::open(source).map_err(|e| VulnError::io(source, e))?;
            let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
                .map_err(|e| VulnError::malformed(source.display().to_string(), "zip", e))?;
            for i in 0..zip.len() {
                let mut entry = zip.by_index(i).map_err(|e| {
                    VulnError::malformed(source.display().to_string(), format!("entry {i}"), e)
                })?;
                let entry_name = entry
                    .name()
                    .map_err(|e| {
                        VulnError::malformed(source.display().to_string(), format!("entry {i}"), e)
                    })?
                    .into_owned();
                if !entry.is_file() || !entry_name.ends_with(".json") {
                    continue;
                }
                let name = format!("{}:{entry_name}", source.display());
                let text = read_limited(Ok(&mut entry), MAX_RECORD);
                records.push((name, text));
            }
        }
        self.import_records(records)
    }

    /// Imports records, each named for errors.
    pub fn import_records(
        &mut self,
        records: Vec<(String, Result<Vec<u8>, String>)>,
    ) -> Result<ImportReport, VulnError> {
        let path = self.path.clone();
        let db = |source| VulnError::Database {
            path: path.clone(),
            source,
        };
        let mut report = ImportReport::default();
        let tx = self.conn.transaction().map_err(db)?;
        {
            let mut existing = tx
                .prepare("SELECT modified FROM advisories WHERE id = ?1")
                .map_err(db)?;
            let mut upsert = tx
                .prepare(
                    "INSERT INTO advisories (id, modified, withdrawn, record) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (id) DO UPDATE SET modified = ?2, withdrawn = ?3, record = ?4",
                )
                .map_err(db)?;
            let mut forget = tx
                .prepare("DELETE FROM affected WHERE advisory = ?1")
                .map_err(db)?;
            let mut index = tx
                .prepare(
                    "INSERT OR IGNORE INTO affected (ecosystem, release, name, advisory) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for (name, text) in records {
                let text = match text {
                    Ok(text) => text,
                    Err(reason) => {
                        report.errors.push(format!("{name}: {reason}"));
                        continue;
                    }
                };
                let advisory: Advisory = match serde_json::from_slice(&text) {
                    Ok(a) => a,
                    Err(e) => {
                        report.errors.push(format!(
                            "{name}: not an OSV record (line {}, column {}): {e}",
                            e.line(),
                            e.column()
                        ));
                        continue;
                    }
                };
                let keys: Vec<(Ecosystem, String, String)> = advisory
                    .affected
                    .iter()
                    .filter_map(|a| {
                        let package = a.package.as_ref()?;
                        let (ecosystem, release) = Ecosystem::from_osv(&package.ecosystem)?;
                        Some((
                            ecosystem,
                            release.unwrap_or_default().to_owned(),
                            ecosystem.normalise_name(&package.name),
                        ))
                    })
                    .collect();
                if keys.is_empty() {
                    report.skipped += 1;
                    continue;
                }
                let stored: Option<Option<String>> = existing
                    .query_row(params![advisory.id], |r| r.get(0))
                    .optional()
                    .map_err(db)?;
                if let Some(stored) = stored
                    && stored.is_some()
                    && stored >= advisory.modified
                {
                    report.unchanged += 1;
                    continue;
                }
                let record = serde_json::to_string(&advisory)
                    .map_err(|e| VulnError::malformed(name.clone(), "record", e))?;
                upsert
                    .execute(params![
                        advisory.id,
                        advisory.modified,
                        advisory.withdrawn.is_some(),
                        record
                    ])
                    .map_err(db)?;
                forget.execute(params![advisory.id]).map_err(db)?;
                for (ecosystem, release, package) in keys {
                    index
                        .execute(params![ecosystem.osv_name(), release, package, advisory.id])
                        .map_err(db)?;
                }
                report.imported += 1;
            }
        }
        tx.commit().map_err(db)?;
        Ok(report)
    }

    /// The advisories naming `name` in `ecosystem` (any release), withdrawn
    /// ones left out.
    pub fn advisories_for(
        &self,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Vec<Advisory>, VulnError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT a.id, a.record FROM affected f JOIN advisories a ON a.id = f.advisory \
                 WHERE f.ecosystem = ?1 AND f.name = ?2 AND a.withdrawn = 0 ORDER BY a.id",
            )
            .map_err(self.db())?;
        let rows = stmt
            .query_map(
                params![ecosystem.osv_name(), ecosystem.normalise_name(name)],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(self.db())?;
        let mut advisories = Vec::new();
        for row in rows {
            let (id, record) = row.map_err(self.db())?;
            advisories.push(serde_json::from_str(&record).map_err(|e| {
                VulnError::malformed(self.path.display().to_string(), format!("advisory {id}"), e)
            })?);
        }
        Ok(advisories)
    }

    /// How many advisories name each ecosystem.
    pub fn counts(&self) -> Result<Counts, VulnError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT f.ecosystem, COUNT(DISTINCT f.advisory) FROM affected f \
                 JOIN advisories a ON a.id = f.advisory WHERE a.withdrawn = 0 GROUP BY f.ecosystem",
            )
            .map_err(self.db())?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(self.db())?;
        let mut counts = Counts::new();
        for row in rows {
            let (ecosystem, n) = row.map_err(self.db())?;
            counts.insert(ecosystem, n as usize);
        }
        Ok(counts)
    }
}

/// Reads at most `limit` bytes; more is an error.
fn read_limited(reader: std::io::Result<impl Read>, limit: u64) -> Result<Vec<u8>, String> {
    let reader = reader.map_err(|e| e.to_string())?;
    let mut text = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > limit {
        return Err(format!("larger than {} MB", limit / (1024 * 1024)));
    }
    Ok(text)
}
