//! Loading rules: the built-in rules embedded in the binary, then each user
//! folder (searched recursively for `*.yaml` and `*.yml`). A broken file is
//! reported with its path and position and the others still load.

use crate::error::{RuleError, RuleErrorKind};
use crate::rule::Rule;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The rules that loaded and the errors of those that did not.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Rules that loaded, in load order: built-in first, then each folder's
    /// files sorted by path.
    pub rules: Vec<Rule>,
    /// Files that did not load.
    pub errors: Vec<RuleError>,
}

impl LoadReport {
    fn add(&mut self, path: &Path, text: &str, seen: &mut HashMap<String, PathBuf>) {
        match Rule::parse(path, text) {
            Ok(rule) => {
                if let Some(first) = seen.get(&*rule.id) {
                    self.errors.push(RuleError {
                        path: path.to_owned(),
                        line: None,
                        column: None,
                        kind: RuleErrorKind::DuplicateId {
                            id: rule.id.to_string(),
                            first: first.clone(),
                        },
                    });
                } else {
                    seen.insert(rule.id.to_string(), path.to_owned());
                    self.rules.push(rule);
                }
            }
            Err(e) => self.errors.push(e),
        }
    }
}

/// Where rules come from.
#[derive(Debug, Clone, Default)]
pub struct RuleSources {
    /// Load the rules built into Parapet.
    pub builtin: bool,
    /// User folders, loaded after the built-in rules.
    pub folders: Vec<PathBuf>,
}

/// Loads every rule from `sources`. Ids must be unique across all of them.
pub fn load(sources: &RuleSources) -> LoadReport {
    let mut report = LoadReport::default();
    let mut seen = HashMap::new();
    if sources.builtin {
        for (relative, text) in BUILTIN_RULES {
            report.add(&Path::new("rules").join(relative), text, &mut seen);
        }
    }
    for folder in &sources.folders {
        let mut files = Vec::new();
        if let Err(e) = collect(folder, &mut files) {
            report.errors.push(RuleError {
                path: folder.clone(),
                line: None,
                column: None,
                kind: RuleErrorKind::Io(e),
            });
            continue;
        }
        files.sort();
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => report.add(&file, &text, &mut seen),
                Err(e) => report.errors.push(RuleError {
                    path: file,
                    line: None,
                    column: None,
                    kind: RuleErrorKind::Io(e),
                }),
            }
        }
    }
    report
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    Ok(())
}
