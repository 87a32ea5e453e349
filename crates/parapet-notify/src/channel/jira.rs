//! Jira (REST API v2): an opened finding (or incident) creates an issue,
//! labelled so that a retry finds it rather than making a second; its
//! resolution comments on it and moves it to the resolving transition; a
//! reopening comments and moves it back. The issue's key is kept as the
//! channel's reference of the finding.

use super::post::{Post, describe};
use super::{ChannelType, Message, Sender, TIMEOUT, clip, closes, dedup_key};
use crate::NotifyError;
use crate::config::ChannelConfig;
use parapet_core::{EventKind, Secret};
use parapet_store::FindingChange;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A Jira channel's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The site (`https://example.atlassian.net`).
    url: String,
    /// The account (an email address for Jira Cloud).
    user: String,
    /// Its API token.
    token: Secret,
    /// The project key (`SEC`).
    project: String,
    /// The issue type.
    #[serde(default = "issue_type")]
    issue_type: String,
    /// The transition that closes an issue.
    #[serde(default = "done")]
    resolve_transition: String,
    /// The transition that opens it again, if any.
    #[serde(default)]
    reopen_transition: Option<String>,
    /// Labels every issue gets (besides `parapet`).
    #[serde(default)]
    labels: Vec<String>,
}

fn issue_type() -> String {
    "Bug".to_owned()
}

fn done() -> String {
    "Done".to_owned()
}

/// The Jira kind.
pub const TYPE: ChannelType = ChannelType {
    name: "jira",
    description: "Jira issues: one per finding or incident, commented on and moved as it changes",
    check: |config| super::settings::<Settings>(config).map(drop),
    build: |config: &ChannelConfig| {
        use base64::Engine;
        let settings: Settings = super::settings(config)?;
        let credentials = format!("{}:{}", settings.user, config.read(&settings.token)?);
        Ok(Box::new(Jira {
            authorization: format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(credentials)
            ),
            project: settings.project,
            issue_type: settings.issue_type,
            resolve_transition: settings.resolve_transition,
            reopen_transition: settings.reopen_transition,
            labels: settings.labels,
            post: Post::new(
                &config.name,
                settings.url.trim_end_matches('/').to_owned(),
                None,
                BTreeMap::new(),
            )?,
        }))
    },
};

/// A Jira channel, its token read.
struct Jira {
    /// `Basic` and the user and token.
    authorization: String,
    project: String,
    issue_type: String,
    resolve_transition: String,
    reopen_transition: Option<String>,
    labels: Vec<String>,
    /// The site, for errors.
    post: Post,
}

impl Sender for Jira {
    fn body(&self, message: &Message<'_>) -> Value {
        self.issue(message, &issue_label(message.change))
    }

    fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        self.send_tracked(agent, message, None).map(|_| ())
    }

    fn digests(&self) -> bool {
        false
    }

    fn send_digest(&self, _: &ureq::Agent, _: &[Message<'_>], _: &str) -> Result<(), NotifyError> {
        Err(NotifyError::Config(format!(
            "channel {}: Jira issues are one per finding, never a digest",
            self.post.channel
        )))
    }

    fn keeps_references(&self) -> bool {
        true
    }

    fn send_tracked(
        &self,
        agent: &ureq::Agent,
        message: &Message<'_>,
        existing: Option<&str>,
    ) -> Result<Option<String>, NotifyError> {
        let resolved = closes(message.change);
        let opens = matches!(
            message.change.kind,
            EventKind::FindingOpened | EventKind::FindingReopened
        );
        let Some(issue) = existing else {
            if !opens {
                // Nothing was opened here: nothing to comment on or close.
                return Ok(None);
            }
            // An earlier attempt may have created it (and been cut off before
            // it was recorded): its label finds it.
            let label = issue_label(message.change);
            if let Some(found) = self.jira_find(agent, &label)? {
                return Ok(Some(found));
            }
            let created = self.jira(
                agent,
                "/rest/api/2/issue",
                Some(&self.issue(message, &label)),
            )?;
            return created["key"]
                .as_str()
                .map(|k| Some(k.to_owned()))
                .ok_or_else(|| {
                    self.post
                        .failed("Jira answered without the issue's key".to_owned())
                });
        };
        let comment = json!({"body": wiki(message)});
        self.jira(
            agent,
            &format!("/rest/api/2/issue/{issue}/comment"),
            Some(&comment),
        )?;
        // Resolved: the resolving transition. Opened again: the reopening
        // one. Otherwise (one finding of an open incident resolved, the
        // incident acknowledged) the comment says it.
        let wanted = if resolved {
            Some(self.resolve_transition.as_str())
        } else if opens {
            self.reopen_transition.as_deref()
        } else {
            None
        };
        if let Some(wanted) = wanted {
            let path = format!("/rest/api/2/issue/{issue}/transitions");
            let offered = self.jira(agent, &path, None)?;
            let id = offered["transitions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| {
                    t["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(wanted))
                })
                .and_then(|t| t["id"].as_str().map(str::to_owned));
            match id {
                Some(id) => {
                    self.jira(agent, &path, Some(&json!({"transition": {"id": id}})))?;
                }
                // Not offered because the issue is already where the change
                // would move it (closed by hand, or the open issue of an
                // incident that a finding joins): the comment is enough.
                None if self.jira_done(agent, issue)? == resolved => {}
                None => {
                    return Err(self.post.failed(format!(
                        "issue {issue} offers no transition named `{wanted}`"
                    )));
                }
            }
        }
        Ok(None)
    }
}

impl Jira {
    /// The issue carrying `label`, if there is one: Jira Cloud's
    /// `search/jql`, or where that is missing (Jira Data Center), `search`.
    fn jira_find(&self, agent: &ureq::Agent, label: &str) -> Result<Option<String>, NotifyError> {
        // The label is hex digits after `parapet-`: nothing to escape but
        // the JQL's spaces, `=` and quotes.
        let query = format!("jql=labels%20%3D%20%22{label}%22&fields=summary&maxResults=1");
        let found = match self.jira_call(agent, &format!("/rest/api/2/search/jql?{query}"), None)? {
            Some(found) => found,
            None => self.jira(agent, &format!("/rest/api/2/search?{query}"), None)?,
        };
        let issue = &found["issues"][0];
        Ok(issue["key"]
            .as_str()
            .or_else(|| issue["id"].as_str())
            .map(str::to_owned))
    }

    /// Whether a Jira issue is in a status of the `done` category.
    fn jira_done(&self, agent: &ureq::Agent, issue: &str) -> Result<bool, NotifyError> {
        let found = self.jira(
            agent,
            &format!("/rest/api/2/issue/{issue}?fields=status"),
            None,
        )?;
        match found["fields"]["status"]["statusCategory"]["key"].as_str() {
            Some(category) => Ok(category == "done"),
            None => Err(self.post.failed(format!(
                "Jira answered for issue {issue} without its status category"
            ))),
        }
    }

    /// One call of Jira's REST API; its JSON answer (`null` when empty).
    /// (A POST with a body, a GET without.)
    fn jira(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, NotifyError> {
        self.jira_call(agent, path, body)?.ok_or_else(|| {
            self.post
                .failed(describe(&ureq::Error::StatusCode(404), &self.post.url))
        })
    }

    /// One call of Jira's REST API; its JSON answer, or none when Jira
    /// answers 404 (no such resource).
    fn jira_call(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, NotifyError> {
        let url = format!("{}{path}", self.post.url);
        let fail = |e: ureq::Error| self.post.failed(describe(&e, &self.post.url));
        let answer = match body {
            Some(body) => agent
                .post(&url)
                .header("Authorization", &self.authorization)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(TIMEOUT))
                .build()
                .send(body.to_string().as_bytes()),
            None => agent
                .get(&url)
                .header("Authorization", &self.authorization)
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(TIMEOUT))
                .build()
                .call(),
        };
        let mut answer = match answer {
            Err(ureq::Error::StatusCode(404)) => return Ok(None),
            other => other.map_err(fail)?,
        };
        let text = answer.body_mut().read_to_string().map_err(|e| {
            self.post
                .failed(format!("Jira's answer could not be read: {e}"))
        })?;
        if text.trim().is_empty() {
            return Ok(Some(Value::Null));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.post.failed(format!("Jira's answer is not JSON: {e}")))
    }
}

/// A message's text as Jira wiki markup: in a `{noformat}` block, so that
/// nothing from a scanned account (a name with `[~admin]`, `[x|https://..]`
/// or `!https://...png!`) becomes a mention, a link or an image, and the
/// link to the finding after it.
fn wiki(message: &Message<'_>) -> String {
    let mut text = String::with_capacity(message.text.len() + 64);
    text.push_str("{noformat}\n");
    // The one thing that would end the block early: `{noformat`, in any
    // case; a space after its brace disarms it.
    let lower = message.text.to_ascii_lowercase();
    let mut from = 0;
    for (at, _) in lower.match_indices("{noformat") {
        text.push_str(&message.text[from..=at]);
        text.push(' ');
        from = at + 1;
    }
    text.push_str(&message.text[from..]);
    text.push_str("\n{noformat}");
    if let Some(link) = &message.link {
        text.push_str(&format!("\n[Open in Parapet|{link}]"));
    }
    text
}

/// The label that marks the Jira issue of a finding (or incident):
/// `parapet-` and 16 hex digits of its dedup key's SHA-256.
fn issue_label(change: &FindingChange) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dedup_key(change));
    format!("parapet-{}", &hex::encode(digest)[..16])
}

impl Jira {
    /// A Jira issue for a finding (or its incident), with its `label`.
    fn issue(&self, message: &Message<'_>, label: &str) -> Value {
        let mut labels = vec!["parapet".to_owned(), label.to_owned()];
        labels.extend(self.labels.iter().cloned());
        json!({"fields": {
            "project": {"key": self.project},
            "summary": clip(
                message
                    .change
                    .incident
                    .as_ref()
                    .map_or(&message.title, |i| &i.title),
                250,
            ),
            "description": wiki(message),
            "issuetype": {"name": self.issue_type},
            "labels": labels,
        }})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_description_from_a_hostile_name_is_one_literal_block_and_then_the_link() {
        let (change, _) = super::super::hostile();
        let templates =
            crate::template::Templates::new(&Default::default(), ["jira"]).expect("defaults");
        let rendered = templates
            .render(
                "jira",
                &change,
                "k",
                Some("https://parapet.example.com/findings?rule=r"),
            )
            .expect("renders");
        assert!(
            rendered.text.contains("{noformat}"),
            "the name is in the text"
        );
        let message = Message {
            change: &change,
            idempotency_key: "k",
            link: Some("https://parapet.example.com/findings?rule=r".into()),
            title: rendered.title,
            text: rendered.text.replace("{noformat}", "{NoFormat}"),
        };
        let wiki = wiki(&message);
        let blocks: Vec<usize> = wiki
            .to_ascii_lowercase()
            .match_indices("{noformat}")
            .map(|(at, _)| at)
            .collect();
        assert_eq!(blocks.len(), 2, "{wiki}");
        assert!(wiki.starts_with("{noformat}\n"), "{wiki}");
        let outside = &wiki[blocks[1]..];
        assert_eq!(
            outside,
            "{noformat}\n[Open in Parapet|https://parapet.example.com/findings?rule=r]"
        );
        assert!(wiki[..blocks[1]].contains("[~admin]"), "shown as written");
    }
}
