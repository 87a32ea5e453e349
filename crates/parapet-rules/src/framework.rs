//! Compliance frameworks as data: each framework file (`frameworks/` at the
//! workspace root, built in) lists its controls with a section, a title in
//! Parapet's words, and whether the control needs a person's judgement
//! (`manual`). Rules name the controls they check in their `frameworks` map.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// One control (a CIS recommendation, a Security Hub control).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// The framework's own id, such as `2.4` or `S3.1`.
    pub id: String,
    /// The section or service it belongs to.
    pub section: String,
    /// What a compliant account looks like, in one line.
    pub title: String,
    /// True when no rule can decide it: it needs a person's judgement or
    /// data Parapet does not collect.
    pub manual: bool,
    /// The CIS profile level, where the framework has levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
}

/// A framework and its controls, in the framework's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The id rules use in their `frameworks` map.
    pub id: String,
    /// The framework's name.
    pub name: String,
    /// The version the controls follow.
    pub version: String,
    /// Where the framework is published.
    pub url: String,
    /// Its controls.
    pub controls: Vec<Control>,
}

impl Framework {
    /// The control with this id.
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }
}

/// A framework file that does not parse.
#[derive(Debug, Error)]
#[error("framework file {path}: {message}")]
pub struct FrameworkError {
    /// The file.
    pub path: String,
    /// What is wrong, with the line and column.
    pub message: String,
}

/// Parses a framework file; `path` names it in errors.
pub fn parse(path: &str, text: &str) -> Result<Framework, FrameworkError> {
    let framework: Framework = serde_norway::from_str(text).map_err(|e| FrameworkError {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = framework.controls.iter().find(|c| !seen.insert(&c.id)) {
        return Err(FrameworkError {
            path: path.to_owned(),
            message: format!("control {} is listed twice", dup.id),
        });
    }
    Ok(framework)
}

/// The frameworks built into Parapet.
pub fn builtin() -> Vec<Framework> {
    crate::loader::BUILTIN_FRAMEWORKS
        .iter()
        .map(|(path, text)| match parse(path, text) {
            Ok(framework) => framework,
            // The built-in files are checked by this crate's tests; a broken
            // one is a bug in the release, not bad input.
            Err(e) => panic!("{e}"),
        })
        .collect()
}

/// The built-in framework with this id.
pub fn find(id: &str) -> Option<Framework> {
    builtin().into_iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_frameworks_parse_with_unique_controls() {
        for (path, text) in crate::loader::BUILTIN_FRAMEWORKS {
            let framework = parse(path, text).expect("parses");
            assert!(!framework.controls.is_empty(), "{path}");
        }
        let cis = find("cis-aws-foundations-7.0").expect("CIS 7.0 is built in");
        assert_eq!(cis.control("2.4").map(|c| c.manual), Some(false));
        assert_eq!(cis.control("2.2").map(|c| c.manual), Some(true));
        assert!(find("aws-foundational-security-best-practices").is_some());
        let azure = find("cis-azure-foundations-6.0").expect("CIS Azure 6.0 is built in");
        assert_eq!(azure.control("8.3.5").map(|c| c.manual), Some(false));
        assert_eq!(azure.control("5.3.1").map(|c| c.manual), Some(true));
        assert!(find("cis-azure-foundations-3.0").is_some());
    }

    #[test]
    fn a_broken_file_is_named_with_its_position() {
        let error = parse(
            "mine.yaml",
            "id: x\nname: y\nversion: '1'\nurl: u\ncontrols:\n  - {id: a}\n",
        )
        .expect_err("a control without fields");
        assert!(
            error.to_string().starts_with("framework file mine.yaml"),
            "{error}"
        );
        assert!(error.to_string().contains("line 6"), "{error}");
        let dup = "id: x\nname: y\nversion: '1'\nurl: u\ncontrols:\n  - {id: a, section: s, title: t, manual: false}\n  - {id: a, section: s, title: t, manual: true}\n";
        assert!(
            parse("dup.yaml", dup)
                .expect_err("duplicate")
                .to_string()
                .contains("listed twice")
        );
    }
}
