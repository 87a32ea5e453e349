//! The rule file format: one YAML file per rule, parsed into a raw shape and
//! then checked into a [`Rule`] whose CEL is compiled at load time.
//!
//! The `compliant` condition states **compliance**: it is true when the asset
//! complies, false when it violates the rule. Reading a field the asset lacks
//! makes the result `unknown`, never `pass`.

use crate::condition::{Condition, ConditionError};
use crate::error::{RuleError, RuleErrorKind};
use crate::message::Message;
use chrono::{DateTime, Utc};
use parapet_core::jsonl::without_position;
use parapet_core::{ResourceType, Severity};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How to fix a failing asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remediation {
    /// What to change, in prose.
    pub text: String,
    /// The steps in the provider's web console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    /// The AWS CLI (or other CLI) commands that fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli: Option<String>,
    /// The Terraform that keeps it fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<String>,
}

/// An example asset in a rule file, which `parapet rules test` evaluates.
/// Only the configuration is required; the rest is filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// What the example shows.
    pub description: String,
    /// The resource type, when the rule has more than one (default: the
    /// rule's first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The account (default: its provider's example account, such as
    /// `123456789012` on AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region (default: its provider's example region, such as
    /// `us-east-1` on AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The asset's name (default: `example`), which the rule's messages
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The message the result must have, when the example states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The configuration document.
    pub config: serde_json::Value,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Fields that could not be collected, with the reason.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unknown: BTreeMap<String, String>,
    /// The evaluation time (default: the time of the test run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub now: Option<DateTime<Utc>>,
    /// The tag keys the tag policy requires (default: the engine's policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_tags: Option<Vec<String>>,
    /// The asset's internet exposures, objects of the shape of
    /// [`parapet_core::ExposureFact`] with the fields the rule reads
    /// (default: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposure: Option<Vec<serde_json::Value>>,
    /// The known vulnerabilities of the asset's software, as a scan
    /// attached to it gives them (default: none attached, so a rule that
    /// reads them is unknown).
    /// Objects of the shape of [`parapet_core::VulnerabilityFact`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<Vec<serde_json::Value>>,
    /// The principal's effective permissions, an object of the shape of
    /// [`parapet_core::Permissions`] (default: no policy reaches it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<serde_json::Value>,
}

/// A rule's examples, by the status each must produce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Assets that must pass; at least one.
    pub compliant: Vec<Example>,
    /// Assets that must fail; at least one.
    pub non_compliant: Vec<Example>,
    /// Assets whose result must be unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<Example>,
}

/// What a rule's results say, as written: templates with `{{ expression }}`
/// placeholders (see [`crate::message`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// What is wrong with a failing asset, naming it and the offending
    /// detail.
    pub fail: String,
    /// Why an asset passes (default: the rule's title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
}

/// A named expression a rule's conditions and messages read as
/// `variables.NAME`, evaluated once per asset, in order, after `applies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariable {
    /// The name: letters, digits and `_`, starting with a letter.
    pub name: String,
    /// The CEL expression; it may read the variables before it.
    pub expression: String,
}

/// A rule's variable, compiled.
#[derive(Debug)]
pub struct Variable {
    /// Its name.
    pub name: String,
    /// Its expression.
    pub expression: Condition,
}

/// A rule file as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    title: String,
    description: String,
    severity: Severity,
    #[serde(default)]
    tags: Vec<String>,
    resource_types: Vec<String>,
    #[serde(default)]
    applies: Option<String>,
    #[serde(default)]
    variables: Vec<RawVariable>,
    compliant: String,
    #[serde(default)]
    message: Option<Messages>,
    remediation: Remediation,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    frameworks: BTreeMap<String, Vec<String>>,
    examples: Examples,
}

/// A loaded, checked rule with its conditions compiled.
#[derive(Debug)]
pub struct Rule {
    /// Unique id, kebab-case: `aws-s3-bucket-public-access-blocked`.
    pub id: Arc<str>,
    /// One line saying what a compliant asset looks like.
    pub title: Arc<str>,
    /// Why it matters.
    pub description: String,
    /// How bad a failure is.
    pub severity: Severity,
    /// Categories, kebab-case (`internet-exposed`, `encryption`, `logging`):
    /// for routing notifications and listing rules.
    pub tags: Vec<String>,
    /// The resource types it applies to.
    pub resource_types: Vec<ResourceType>,
    /// An optional filter: the rule is evaluated only where this is true.
    pub applies: Option<Condition>,
    /// Named expressions the conditions and messages read, in order.
    pub variables: Vec<Variable>,
    /// True when the asset complies.
    pub compliant: Condition,
    /// Whether the variables or the condition read `vulnerabilities`.
    reads_vulnerabilities: bool,
    /// What a failing result says (default: the title).
    pub fail_message: Option<Message>,
    /// What a passing result says (default: the title).
    pub pass_message: Option<Message>,
    /// How to fix it.
    pub remediation: Remediation,
    /// Documentation links.
    pub references: Vec<String>,
    /// Framework id to the control ids it maps to, such as
    /// `cis-aws-foundations-7.0: ["3.1.4"]`.
    pub frameworks: BTreeMap<String, Vec<String>>,
    /// The examples `parapet rules test` runs.
    pub examples: Examples,
    /// The file it came from.
    pub path: PathBuf,
}

/// A rule as the CLI's JSON output and the HTTP API show it: its
/// conditions as their source text.
#[derive(Debug, Serialize)]
pub struct RuleView<'a> {
    /// The id.
    pub id: &'a str,
    /// The title.
    pub title: &'a str,
    /// The severity.
    pub severity: Severity,
    /// The tags.
    pub tags: &'a [String],
    /// The resource types it applies to.
    pub resource_types: Vec<&'a str>,
    /// Its framework mappings.
    pub frameworks: &'a BTreeMap<String, Vec<String>>,
    /// The file it came from.
    pub path: String,
    /// The rest, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<RuleDetail<'a>>,
}

/// The parts of a rule shown only for one rule.
#[derive(Debug, Serialize)]
pub struct RuleDetail<'a> {
    /// Why it matters.
    pub description: &'a str,
    /// The `applies` condition.
    pub applies: Option<&'a str>,
    /// The variables.
    pub variables: Vec<RawVariable>,
    /// The `compliant` condition.
    pub compliant: &'a str,
    /// The message templates.
    pub message: Option<Messages>,
    /// How to fix it.
    pub remediation: &'a Remediation,
    /// Documentation links.
    pub references: &'a [String],
    /// Its examples.
    pub examples: &'a Examples,
}

impl Rule {
    /// The rule to show, with its detail when `detailed`.
    pub fn view(&self, detailed: bool) -> RuleView<'_> {
        RuleView {
            id: &self.id,
            title: &self.title,
            severity: self.severity,
            tags: &self.tags,
            resource_types: self.resource_types.iter().map(|t| t.as_str()).collect(),
            frameworks: &self.frameworks,
            path: self.path.display().to_string(),
            detail: detailed.then(|| RuleDetail {
                description: &self.description,
                applies: self.applies.as_ref().map(|c| c.source.as_str()),
                variables: self
                    .variables
                    .iter()
                    .map(|v| RawVariable {
                        name: v.name.clone(),
                        expression: v.expression.source.clone(),
                    })
                    .collect(),
                compliant: &self.compliant.source,
                message: self.fail_message.as_ref().map(|fail| Messages {
                    fail: fail.source.clone(),
                    pass: self.pass_message.as_ref().map(|p| p.source.clone()),
                }),
                remediation: &self.remediation,
                references: &self.references,
                examples: &self.examples,
            }),
        }
    }
}

/// The 1-based line of the top-level `key:` in a YAML text, if present.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let prefix = format!("{key}:");
    text.lines()
        .position(|l| l.starts_with(&prefix))
        .map(|i| i + 1)
}

/// Maps a position inside a CEL expression to the file: a block scalar
/// (`compliant: |`) starts on the line after the key, indented; a plain or
/// quoted value starts on the key's line after `key: `.
fn expression_position(
    text: &str,
    key: &str,
    error: &ConditionError,
) -> (Option<usize>, Option<usize>) {
    let Some(line) = key_line(text, key) else {
        return (None, None);
    };
    let key_text = text.lines().nth(line - 1).unwrap_or_default();
    let rest = key_text[key.len() + 1..].trim_start();
    let inner_line = error.line.unwrap_or(1);
    let inner_column = error.column.unwrap_or(1);
    if rest.is_empty() || rest.starts_with(['|', '>']) {
        let file_line = line + inner_line;
        // The block's indentation is that of its first line; deeper lines
        // keep their extra spaces in the expression.
        let indent = text
            .lines()
            .nth(line)
            .map(|l| l.len() - l.trim_start().len())
            .unwrap_or(0);
        (Some(file_line), Some(indent + inner_column))
    } else {
        let offset = key_text.len() - rest.len();
        let quote = usize::from(rest.starts_with(['"', '\'']));
        if inner_line == 1 {
            (Some(line), Some(offset + quote + inner_column))
        } else {
            (Some(line + inner_line - 1), error.column)
        }
    }
}

/// Compiles a rule's variables in order: each name is an identifier, used
/// once, and each expression reads only the variables before it; `applies`
/// reads none, as it runs before them.
fn compile_variables(
    raw: &[RawVariable],
    applies: Option<&Condition>,
) -> Result<Vec<Variable>, String> {
    if let Some(name) = applies.and_then(|a| a.variables.first()) {
        return Err(format!(
            "`applies` reads `variables.{name}`, but variables are worked out after it"
        ));
    }
    let mut variables: Vec<Variable> = Vec::with_capacity(raw.len());
    for v in raw {
        let identifier = v.name.starts_with(|c: char| c.is_ascii_alphabetic())
            && v.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            return Err(format!(
                "`{}` is not a name: letters, digits and `_`, starting with a letter",
                v.name
            ));
        }
        if variables.iter().any(|d| d.name == v.name) {
            return Err(format!("`{}` is defined twice", v.name));
        }
        let expression = Condition::compile(&v.expression)
            .map_err(|e| format!("`{}`: {}", v.name, e.message))?;
        if let Some(name) = expression
            .variables
            .iter()
            .find(|n| !variables.iter().any(|d| &&d.name == n))
        {
            return Err(format!(
                "`{}` reads `variables.{name}`, which is not defined before it",
                v.name
            ));
        }
        variables.push(Variable {
            name: v.name.clone(),
            expression,
        });
    }
    Ok(variables)
}

/// The checks of a rule's plain fields, as the field and what is wrong.
fn check_fields(raw: &RawRule) -> Result<(), (&'static str, String)> {
    let kebab = |what: &str| {
        format!("`{what}` must be kebab-case: lowercase letters and digits joined by `-`")
    };
    if !is_kebab_id(&raw.id) {
        return Err(("id", kebab(&raw.id)));
    }
    if let Some(tag) = raw.tags.iter().find(|t| !is_kebab_id(t)) {
        return Err(("tags", kebab(tag)));
    }
    for (key, value) in [("title", &raw.title), ("description", &raw.description)] {
        if value.trim().is_empty() {
            return Err((key, "must not be empty".to_owned()));
        }
    }
    if raw.remediation.text.trim().is_empty() {
        return Err(("remediation", "`text` must not be empty".to_owned()));
    }
    if raw.resource_types.is_empty() {
        return Err((
            "resource_types",
            "name at least one resource type".to_owned(),
        ));
    }
    if let Some((framework, _)) = raw
        .frameworks
        .iter()
        .find(|(_, controls)| controls.is_empty() || controls.iter().any(|c| c.trim().is_empty()))
    {
        return Err((
            "frameworks",
            format!("framework `{framework}` needs at least one non-empty control id"),
        ));
    }
    Ok(())
}

/// That every `variables.NAME` the condition and messages read is defined.
fn check_variables_defined<'a>(
    variables: &[Variable],
    used: impl Iterator<Item = (&'static str, Vec<&'a String>)>,
) -> Result<(), (&'static str, String)> {
    for (field, names) in used {
        if let Some(name) = names
            .into_iter()
            .find(|n| !variables.iter().any(|v| &v.name == *n))
        {
            return Err((
                field.split('.').next().unwrap_or(field),
                format!("`{field}` reads `variables.{name}`, which the rule does not define"),
            ));
        }
    }
    Ok(())
}

/// That there is a compliant and a non-compliant example, each with a map
/// for `config` and, if it names one, a resource type of the rule's.
fn check_examples(raw: &RawRule) -> Result<(), String> {
    if raw.examples.compliant.is_empty() || raw.examples.non_compliant.is_empty() {
        return Err("give at least one `compliant` and one `non_compliant` example".to_owned());
    }
    let all = raw
        .examples
        .compliant
        .iter()
        .chain(&raw.examples.non_compliant)
        .chain(&raw.examples.unknown);
    for example in all {
        if !example.config.is_object() {
            return Err(format!(
                "example `{}`: `config` must be a map",
                example.description
            ));
        }
        if let Some(t) = &example.resource_type
            && !raw.resource_types.contains(t)
        {
            return Err(format!(
                "example `{}`: resource type `{t}` is not one of the rule's",
                example.description
            ));
        }
    }
    Ok(())
}

fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

impl Rule {
    /// Parses and checks one rule file's text. `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Rule, RuleError> {
        let at = |line: Option<usize>, column: Option<usize>, kind: RuleErrorKind| RuleError {
            path: path.to_owned(),
            line,
            column,
            kind,
        };
        let invalid = |key: &str, message: String| {
            at(
                key_line(text, key),
                key_line(text, key).map(|_| 1),
                RuleErrorKind::Invalid {
                    field: key.to_owned(),
                    message,
                },
            )
        };
        let raw: RawRule = serde_norway::from_str(text).map_err(|e| {
            let location = e.location();
            at(
                location.as_ref().map(|l| l.line()),
                location.as_ref().map(|l| l.column()),
                RuleErrorKind::Yaml(without_position(&e.to_string())),
            )
        })?;
        check_fields(&raw).map_err(|(key, message)| invalid(key, message))?;
        let resource_types = raw
            .resource_types
            .iter()
            .map(|t| ResourceType::new(t.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("resource_types", e.to_string()))?;
        if let Some((framework, _)) = raw.frameworks.iter().find(|(_, controls)| {
            controls.is_empty() || controls.iter().any(|c| c.trim().is_empty())
        }) {
            return Err(invalid(
                "frameworks",
                format!("framework `{framework}` needs at least one non-empty control id"),
            ));
        }
        let compile = |key: &'static str, source: &str| {
            Condition::compile(source).map_err(|e| {
                let (line, column) = expression_position(text, key, &e);
                at(
                    line,
                    column,
                    RuleErrorKind::Cel {
                        field: key,
                        message: e.message,
                    },
                )
            })
        };
        let applies = raw
            .applies
            .as_deref()
            .map(|s| compile("applies", s))
            .transpose()?;
        let variables = compile_variables(&raw.variables, applies.as_ref())
            .map_err(|message| invalid("variables", message))?;
        let compliant = compile("compliant", &raw.compliant)?;
        let template = |field: &'static str, source: &str| {
            Message::compile(source).map_err(|e| {
                at(
                    key_line(text, "message"),
                    None,
                    RuleErrorKind::Cel {
                        field,
                        message: match (e.line, e.column) {
                            (Some(line), Some(column)) => {
                                format!(
                                    "{} (line {line}, column {column} of the template)",
                                    e.message
                                )
                            }
                            _ => e.message,
                        },
                    },
                )
            })
        };
        let (fail_message, pass_message) = match &raw.message {
            Some(messages) => (
                Some(template("message.fail", &messages.fail)?),
                messages
                    .pass
                    .as_deref()
                    .map(|p| template("message.pass", p))
                    .transpose()?,
            ),
            None => (None, None),
        };
        let used = std::iter::once(("compliant", compliant.variables.iter().collect::<Vec<_>>()))
            .chain(fail_message.iter().map(|m| ("message.fail", m.variables())))
            .chain(pass_message.iter().map(|m| ("message.pass", m.variables())));
        check_variables_defined(&variables, used)
            .map_err(|(key, message)| invalid(key, message))?;
        check_examples(&raw).map_err(|message| invalid("examples", message))?;
        let reads_vulnerabilities = variables
            .iter()
            .map(|v| &v.expression)
            .chain([&compliant])
            .flat_map(|c| c.reads.iter())
            .any(|read| read.first().is_some_and(|f| f == "vulnerabilities"));
        Ok(Rule {
            id: raw.id.into(),
            title: raw.title.into(),
            description: raw.description,
            severity: raw.severity,
            tags: raw.tags,
            resource_types,
            applies,
            variables,
            compliant,
            reads_vulnerabilities,
            fail_message,
            pass_message,
            remediation: raw.remediation,
            references: raw.references,
            frameworks: raw.frameworks,
            examples: raw.examples,
            path: path.to_owned(),
        })
    }

    /// The asset paths the rule's messages read: converted for evaluation,
    /// but what they lack never makes a result unknown.
    pub fn message_reads(&self) -> impl Iterator<Item = &Vec<String>> {
        self.fail_message
            .iter()
            .chain(&self.pass_message)
            .flat_map(|m| m.reads())
    }

    /// The asset paths the rule's conditions and variables read.
    pub fn reads(&self) -> impl Iterator<Item = &Vec<String>> {
        self.applies
            .iter()
            .chain(self.variables.iter().map(|v| &v.expression))
            .chain([&self.compliant])
            .flat_map(|c| c.reads.iter())
    }

    /// What the rule's conditions, variables and messages read beside the
    /// asset and its facts (`now`, `required_tags`, `administrators`).
    pub fn context(&self) -> std::collections::BTreeSet<&'static str> {
        self.applies
            .iter()
            .chain(self.variables.iter().map(|v| &v.expression))
            .chain([&self.compliant])
            .flat_map(|c| c.context.iter().copied())
            .chain(
                self.fail_message
                    .iter()
                    .chain(&self.pass_message)
                    .flat_map(Message::context),
            )
            .collect()
    }

    /// Whether the rule's conditions, variables or messages read the
    /// derived fact `name` (`exposure`, `vulnerabilities`, `permissions`).
    pub fn reads_fact(&self, name: &str) -> bool {
        self.reads()
            .chain(self.message_reads())
            .any(|path| path.first().is_some_and(|f| f == name))
    }

    /// Whether what decides the result (not `applies`) reads the asset's
    /// vulnerabilities; worked out once, as the rule loads.
    pub fn reads_vulnerabilities(&self) -> bool {
        self.reads_vulnerabilities
    }
}
