//! Output formats behind one trait, registered in one list: a new format is
//! one module with a [`Formatter`] and one line in [`FORMATS`]; the
//! command line's choices, help and file extensions come from the list.

use crate::Report;
use parapet_rules::Rule;
use std::io::{self, Write};

/// One output format.
pub trait Formatter: Sync {
    /// Its name, as `--format NAME` and `--output NAME=PATH` take it.
    fn name(&self) -> &'static str;
    /// What it is, in a few words, for `--help`.
    fn description(&self) -> &'static str;
    /// The ends of file names that choose it (`.sarif`), in lower case.
    fn extensions(&self) -> &'static [&'static str];
    /// Writes the report; `rules` are every rule loaded.
    fn write(&self, report: &Report<'_>, rules: &[Rule], out: &mut dyn Write) -> io::Result<()>;
}

/// A format described by its parts: what the built-in formats are.
pub struct Format {
    /// Its name.
    pub name: &'static str,
    /// What it is.
    pub description: &'static str,
    /// The ends of file names that choose it.
    pub extensions: &'static [&'static str],
    /// Writes a report.
    pub write: fn(&Report<'_>, &[Rule], &mut dyn Write) -> io::Result<()>,
}

impl Formatter for Format {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> &'static str {
        self.description
    }

    fn extensions(&self) -> &'static [&'static str] {
        self.extensions
    }

    fn write(&self, report: &Report<'_>, rules: &[Rule], out: &mut dyn Write) -> io::Result<()> {
        (self.write)(report, rules, out)
    }
}

/// Every format, in the order help lists them.
pub static FORMATS: &[&dyn Formatter] = &[
    &crate::json::JSON,
    &crate::json::LINES,
    &crate::csv::CSV,
    &crate::sarif::SARIF,
    &crate::ocsf::OCSF,
    &crate::junit::JUNIT,
    &crate::html::HTML,
];

/// The format of this name (any case).
pub fn by_name(name: &str) -> Option<&'static dyn Formatter> {
    FORMATS
        .iter()
        .copied()
        .find(|f| f.name().eq_ignore_ascii_case(name))
}

/// The format a file name's longest matching extension chooses.
pub fn by_file_name(name: &str) -> Option<&'static dyn Formatter> {
    let name = name.to_ascii_lowercase();
    FORMATS
        .iter()
        .copied()
        .flat_map(|f| f.extensions().iter().map(move |e| (e.len(), *e, f)))
        .filter(|(_, extension, _)| name.ends_with(extension))
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, _, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_and_extensions_are_unique_and_choose_their_format() {
        let mut names = BTreeSet::new();
        let mut extensions = BTreeSet::new();
        for format in FORMATS {
            assert!(names.insert(format.name()), "{} twice", format.name());
            assert!(!format.description().is_empty());
            assert!(!format.extensions().is_empty(), "{}", format.name());
            for extension in format.extensions() {
                assert!(extension.starts_with('.'));
                assert!(extensions.insert(*extension), "{extension} twice");
                let file = format!("report{extension}");
                assert_eq!(by_file_name(&file).map(|f| f.name()), Some(format.name()));
            }
            assert_eq!(
                by_name(&format.name().to_uppercase()).map(|f| f.name()),
                Some(format.name())
            );
        }
        assert_eq!(by_file_name("x.ocsf.jsonl").map(|f| f.name()), Some("ocsf"));
        assert_eq!(by_file_name("x.jsonl").map(|f| f.name()), Some("jsonl"));
        assert!(by_file_name("x.pdf").is_none());
        assert!(by_name("pdf").is_none());
    }
}
