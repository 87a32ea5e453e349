//! A result's message: text with `{{ expression }}` placeholders, each a CEL
//! expression over the same variables as the rule's conditions, so that a
//! failing result names the asset and what is wrong with it ("Bucket `data`
//! grants s3:GetObject to everyone through statement `PublicRead`").
//!
//! A placeholder's value is written as text: a string as it is, a list as
//! its items joined by `, `, a map as `key: value` pairs. A placeholder that
//! reads a field the asset lacks is written `?`: a message never changes a
//! result.

use crate::cel::{Env, Frame};
use crate::condition::{Condition, ConditionError, FieldPath};
use std::sync::Arc;

/// A compiled message template.
#[derive(Debug)]
pub struct Message {
    /// The template as written.
    pub source: String,
    parts: Vec<Part>,
}

#[derive(Debug)]
enum Part {
    Text(String),
    Expression(Condition),
}

/// What a placeholder that could not be worked out is written as.
const MISSING: &str = "?";

impl Message {
    /// Parses `source` and compiles its placeholders. Errors give the
    /// position inside the template.
    pub fn compile(source: &str) -> Result<Message, ConditionError> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let inner_start = open + 2;
            let Some(close) = rest[inner_start..].find("}}") else {
                return Err(at(source, offset + open, "`{{` is not closed by `}}`"));
            };
            let inner = &rest[inner_start..inner_start + close];
            if inner.trim().is_empty() {
                return Err(at(source, offset + open, "a placeholder is empty"));
            }
            let condition = Condition::compile(inner).map_err(|e| {
                let mut error = at(source, offset + inner_start, &e.message);
                if let (Some(line), Some(column)) = (e.line, e.column) {
                    let start = position(source, offset + inner_start);
                    error.line = Some(start.0 + line - 1);
                    error.column = Some(if line == 1 {
                        start.1 + column - 1
                    } else {
                        column
                    });
                }
                error
            })?;
            parts.push(Part::Expression(condition));
            let consumed = inner_start + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if let Some(stray) = rest.find("}}") {
            return Err(at(source, offset + stray, "`}}` closes no placeholder"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Message {
            source: source.to_owned(),
            parts,
        })
    }

    /// The asset paths the placeholders read.
    pub fn reads(&self) -> impl Iterator<Item = &FieldPath> {
        self.parts.iter().flat_map(|part| match part {
            Part::Expression(condition) => condition.reads.as_slice(),
            Part::Text(_) => &[],
        })
    }

    /// What the placeholders read beside the asset and its facts
    /// ([`Condition::context`]).
    pub fn context(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.parts.iter().flat_map(|part| match part {
            Part::Expression(condition) => condition.context.iter().copied(),
            Part::Text(_) => [].iter().copied(),
        })
    }

    /// The rule variables the placeholders read.
    pub fn variables(&self) -> Vec<&String> {
        self.parts
            .iter()
            .flat_map(|part| match part {
                Part::Expression(condition) => condition.variables.as_slice(),
                Part::Text(_) => &[],
            })
            .collect()
    }

    /// The message for the asset of `env`, written in the frame's buffer
    /// (no growing of a new string for each result) and copied out once.
    pub fn render<'a>(&'a self, env: &Env<'a>, frame: &mut Frame<'a>) -> Arc<str> {
        let mut out = frame.take_text();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Expression(condition) => match condition.program.execute(env, frame) {
                    Ok(value) => value.write_text(&mut out),
                    Err(_) => out.push_str(MISSING),
                },
            }
        }
        let message = Arc::from(out.as_str());
        frame.put_text(out);
        message
    }
}

/// The 1-based line and column of byte `index` of `text`.
fn position(text: &str, index: usize) -> (usize, usize) {
    let before = &text[..index];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn at(source: &str, index: usize, message: &str) -> ConditionError {
    let (line, column) = position(source, index);
    ConditionError {
        line: Some(line),
        column: Some(column),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, config: serde_json::Value) -> String {
        let message = Message::compile(template).expect("compiles");
        let asset: parapet_core::Asset = serde_json::from_value(json!({
            "id": "a", "provider": "aws", "account": "1", "region": "us-east-1",
            "resource_type": "AWS::S3::Bucket", "name": "a", "config": config,
            "observed_at": "2026-11-29T00:00:00Z"
        }))
        .expect("valid asset");
        let empty = json!([]);
        let env = Env::new(Some(&asset), chrono::Utc::now().fixed_offset(), &empty);
        message.render(&env, &mut Frame::default()).to_string()
    }

    #[test]
    fn placeholders_are_written_as_text() {
        let config = json!({"Name": "data", "Ports": [22, 3389], "Size": 8, "On": false});
        assert_eq!(
            render(
                "Bucket `{{ config.Name }}` opens {{ config.Ports }}; {{config.Size + 1}} {{ config.On }}",
                config
            ),
            "Bucket `data` opens 22, 3389; 9 false"
        );
        assert_eq!(
            render(
                "{{ config.Rules.map(r, r.Id) }}",
                json!({"Rules": [{"Id": "a"}, {"Id": "b"}]})
            ),
            "a, b"
        );
        assert_eq!(render("no placeholder", json!({})), "no placeholder");
    }

    #[test]
    fn a_missing_field_is_a_question_mark() {
        assert_eq!(
            render(
                "Key `{{ config.KeyId }}` of {{ config.Name }}",
                json!({"Name": "k"})
            ),
            "Key `?` of k"
        );
    }

    #[test]
    fn records_what_placeholders_read() {
        let message =
            Message::compile("{{ resource.name }} admits {{ config.IpPermissions.size() }}")
                .expect("compiles");
        let reads: Vec<String> = message.reads().map(|p| p.join(".")).collect();
        assert_eq!(reads, vec!["name", "config.IpPermissions"]);
    }

    #[test]
    fn malformed_templates_are_refused_with_a_position() {
        let error = Message::compile("Bucket {{ config.Name").expect_err("unclosed");
        assert_eq!((error.line, error.column), (Some(1), Some(8)));
        assert!(error.message.contains("not closed"), "{}", error.message);
        let error = Message::compile("a }} b").expect_err("stray");
        assert!(error.message.contains("closes no placeholder"));
        let error = Message::compile("x {{  }}").expect_err("empty");
        assert!(error.message.contains("empty"));
        let error = Message::compile("ok {{ bucket.Name }}").expect_err("variable");
        assert!(error.message.contains("unknown variable `bucket`"));
        let error = Message::compile("ok\n{{ config.a +* 1 }}").expect_err("syntax");
        assert_eq!(error.line, Some(2), "{error:?}");
    }
}
