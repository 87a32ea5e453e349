//! The channels: what each sends for a notification, and how. A webhook
//! receives one JSON document per change, with the idempotency key in its
//! body and in the `Idempotency-Key` header, and an HMAC-SHA256 signature of
//! the body when a secret is configured; Slack a Block Kit message; Teams
//! an Adaptive Card; PagerDuty an Events API v2 trigger, then the resolve of
//! the same dedup key.

use crate::NotifyError;
use crate::config::ChannelConfig;
use hmac::Mac;
use parapet_core::{EventKind, Severity};
use parapet_store::FindingChange;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What a channel's messages look like.
enum Kind {
    /// Parapet's own JSON document.
    Webhook,
    /// A Block Kit message.
    Slack,
    /// An Adaptive Card.
    Teams,
    /// An Events API v2 event.
    PagerDuty {
        /// The integration's routing key.
        routing_key: String,
    },
    /// Jira issues.
    Jira(Box<Jira>),
    /// A plain-text email.
    Email {
        /// The connection to the SMTP server.
        transport: Box<lettre::SmtpTransport>,
        /// The sender.
        from: lettre::message::Mailbox,
        /// The recipients.
        to: Vec<lettre::message::Mailbox>,
    },
}

/// A Jira channel's settings, its token read.
struct Jira {
    /// `Basic` and the user and token.
    authorization: String,
    project: String,
    issue_type: String,
    resolve_transition: String,
    reopen_transition: Option<String>,
    labels: Vec<String>,
}

/// A channel ready to send: its secrets read.
pub struct Channel {
    name: String,
    kind: Kind,
    url: String,
    /// The key of the body's signature.
    signing: Option<String>,
    headers: BTreeMap<String, String>,
}

/// What a delivery sends: the change, its key, and where to see it.
pub struct Message<'a> {
    /// The change.
    pub change: &'a FindingChange,
    /// The same for every attempt of one notification.
    pub idempotency_key: &'a str,
    /// The finding in the web UI, when a base URL is configured.
    pub link: Option<String>,
    /// The title, from the channel's template.
    pub title: String,
    /// The text, from the channel's template.
    pub text: String,
}

impl Channel {
    /// The channel `config` describes, its secrets read.
    pub fn new(config: &ChannelConfig) -> Result<Channel, NotifyError> {
        let name = config.name().to_owned();
        let read = |secret: &parapet_core::Secret| {
            secret.read().map_err(|source| NotifyError::Secret {
                channel: name.clone(),
                source,
            })
        };
        let channel = match config {
            ChannelConfig::Webhook {
                url,
                secret,
                headers,
                ..
            } => Channel {
                name: name.clone(),
                kind: Kind::Webhook,
                url: url.clone(),
                signing: secret.as_ref().map(read).transpose()?,
                headers: headers.clone(),
            },
            ChannelConfig::Slack { url, .. } => Channel {
                name: name.clone(),
                kind: Kind::Slack,
                url: read(url)?,
                signing: None,
                headers: BTreeMap::new(),
            },
            ChannelConfig::Teams { url, .. } => Channel {
                name: name.clone(),
                kind: Kind::Teams,
                url: read(url)?,
                signing: None,
                headers: BTreeMap::new(),
            },
            ChannelConfig::Email {
                host,
                port,
                security,
                username,
                password,
                from,
                to,
                ca_file,
                ..
            } => {
                let invalid = |what: String| NotifyError::Config(format!("channel {name}: {what}"));
                let address = |text: &String| {
                    text.parse::<lettre::message::Mailbox>()
                        .map_err(|e| invalid(format!("`{text}` is not an email address: {e}")))
                };
                let from = address(from)?;
                let to = to.iter().map(address).collect::<Result<Vec<_>, _>>()?;
                if to.is_empty() {
                    return Err(invalid("no recipient".to_owned()));
                }
                let credentials = match (username, password) {
                    (Some(user), Some(password)) => {
                        Some(lettre::transport::smtp::authentication::Credentials::new(
                            user.clone(),
                            read(password)?,
                        ))
                    }
                    (None, None) => None,
                    _ => {
                        return Err(invalid(
                            "a username needs a password, and a password a username".to_owned(),
                        ));
                    }
                };
                let transport =
                    smtp_transport(host, *port, *security, ca_file.as_deref(), credentials)
                        .map_err(invalid)?;
                Channel {
                    name: name.clone(),
                    kind: Kind::Email {
                        transport: Box::new(transport),
                        from,
                        to,
                    },
                    url: format!("smtp://{host}"),
                    signing: None,
                    headers: BTreeMap::new(),
                }
            }
            ChannelConfig::Jira {
                url,
                user,
                token,
                project,
                issue_type,
                resolve_transition,
                reopen_transition,
                labels,
                ..
            } => {
                use base64::Engine;
                let credentials = format!("{user}:{}", read(token)?);
                Channel {
                    name: name.clone(),
                    kind: Kind::Jira(Box::new(Jira {
                        authorization: format!(
                            "Basic {}",
                            base64::engine::general_purpose::STANDARD.encode(credentials)
                        ),
                        project: project.clone(),
                        issue_type: issue_type.clone(),
                        resolve_transition: resolve_transition.clone(),
                        reopen_transition: reopen_transition.clone(),
                        labels: labels.clone(),
                    })),
                    url: url.trim_end_matches('/').to_owned(),
                    signing: None,
                    headers: BTreeMap::new(),
                }
            }
            ChannelConfig::PagerDuty {
                routing_key, url, ..
            } => Channel {
                name: name.clone(),
                kind: Kind::PagerDuty {
                    routing_key: read(routing_key)?,
                },
                url: url.clone(),
                signing: None,
                headers: BTreeMap::new(),
            },
        };
        for (header, value) in &channel.headers {
            let valid_name = !header.is_empty()
                && header
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            let valid_value = value
                .bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
            if !valid_name || !valid_value {
                return Err(NotifyError::Config(format!(
                    "channel {name}: the header `{header}` is not a valid HTTP header"
                )));
            }
        }
        Ok(channel)
    }

    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The body the channel sends for `message`.
    pub fn body(&self, message: &Message<'_>) -> Value {
        match &self.kind {
            Kind::Webhook => webhook_body(message),
            Kind::Slack => slack_body(message),
            Kind::Teams => teams_body(message),
            Kind::PagerDuty { routing_key } => pagerduty_body(routing_key, message),
            Kind::Email { .. } => {
                json!({"subject": clip(&message.title, 200), "text": message.text})
            }
            Kind::Jira(jira) => jira_issue(jira, message, &issue_label(message.change)),
        }
    }

    /// Sends one message; an error says why without the channel's address.
    pub fn send(&self, agent: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        match &self.kind {
            Kind::Email { .. } => self.mail(&message.title, &message.text, message.idempotency_key),
            Kind::Jira(_) => self.send_tracked(agent, message, None).map(|_| ()),
            Kind::PagerDuty { .. }
                if message.change.kind == EventKind::FindingResolved && !closes(message.change) =>
            {
                // One finding of a still open incident: its alert stays.
                Ok(())
            }
            _ => self.post(
                agent,
                &self.body(message),
                message.idempotency_key,
                message.change.kind.as_str(),
            ),
        }
    }

    /// Whether the channel can carry a digest (PagerDuty's alerts are one
    /// per finding).
    pub fn digests(&self) -> bool {
        !matches!(self.kind, Kind::PagerDuty { .. } | Kind::Jira(_))
    }

    /// Whether the channel keeps a reference per finding (a Jira issue).
    pub fn keeps_references(&self) -> bool {
        matches!(self.kind, Kind::Jira(_))
    }

    /// Sends one message to a channel that keeps references: with the
    /// finding's (or incident's) existing issue, comments on it and moves
    /// it; without one, creates it when the change opens a finding. Returns
    /// the issue created.
    pub fn send_tracked(
        &self,
        agent: &ureq::Agent,
        message: &Message<'_>,
        existing: Option<&str>,
    ) -> Result<Option<String>, NotifyError> {
        let Kind::Jira(jira) = &self.kind else {
            return self.send(agent, message).map(|()| None);
        };
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
                Some(&jira_issue(jira, message, &label)),
            )?;
            return created["key"]
                .as_str()
                .map(|k| Some(k.to_owned()))
                .ok_or_else(|| self.failed("Jira answered without the issue's key".to_owned()));
        };
        let comment = json!({"body": message.text});
        self.jira(
            agent,
            &format!("/rest/api/2/issue/{issue}/comment"),
            Some(&comment),
        )?;
        // Resolved: the resolving transition. Opened again: the reopening
        // one. Otherwise (one finding of an open incident resolved, the
        // incident acknowledged) the comment says it.
        let wanted = if resolved {
            Some(jira.resolve_transition.as_str())
        } else if opens {
            jira.reopen_transition.as_deref()
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
                    return Err(self.failed(format!(
                        "issue {issue} offers no transition named `{wanted}`"
                    )));
                }
            }
        }
        Ok(None)
    }

    fn failed(&self, reason: String) -> NotifyError {
        NotifyError::Delivery {
            channel: self.name.clone(),
            reason,
        }
    }

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
            None => Err(self.failed(format!(
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
        self.jira_call(agent, path, body)?
            .ok_or_else(|| self.failed(describe(&ureq::Error::StatusCode(404), &self.url)))
    }

    /// One call of Jira's REST API; its JSON answer, or none when Jira
    /// answers 404 (no such resource).
    fn jira_call(
        &self,
        agent: &ureq::Agent,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Option<Value>, NotifyError> {
        let Kind::Jira(jira) = &self.kind else {
            return Err(self.failed("not a Jira channel".to_owned()));
        };
        let url = format!("{}{path}", self.url);
        let fail = |e: ureq::Error| self.failed(describe(&e, &self.url));
        let answer = match body {
            Some(body) => agent
                .post(&url)
                .header("Authorization", &jira.authorization)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .config()
                .timeout_global(Some(TIMEOUT))
                .build()
                .send(body.to_string().as_bytes()),
            None => agent
                .get(&url)
                .header("Authorization", &jira.authorization)
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
        let text = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| self.failed(format!("Jira's answer could not be read: {e}")))?;
        if text.trim().is_empty() {
            return Ok(Some(Value::Null));
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.failed(format!("Jira's answer is not JSON: {e}")))
    }

    /// Sends several messages as one digest under `key`.
    pub fn send_digest(
        &self,
        agent: &ureq::Agent,
        messages: &[Message<'_>],
        key: &str,
    ) -> Result<(), NotifyError> {
        let heading = format!("Parapet: {} finding changes", messages.len());
        let body = match &self.kind {
            Kind::Email { .. } => {
                let text: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
                return self.mail(&heading, &text.join("\n----\n\n"), key);
            }
            Kind::Webhook => json!({
                "idempotency_key": key,
                "digest": true,
                "count": messages.len(),
                "notifications": messages.iter().map(webhook_body).collect::<Vec<_>>(),
            }),
            Kind::Slack => {
                let mut blocks = vec![
                    json!({"type": "header", "text": {"type": "plain_text", "text": heading}}),
                ];
                for m in messages.iter().take(DIGEST_LINES) {
                    let line = match &m.link {
                        Some(link) => format!("• <{link}|{}>", mrkdwn(&m.title)),
                        None => format!("• {}", mrkdwn(&m.title)),
                    };
                    blocks
                        .push(json!({"type": "section", "text": {"type": "mrkdwn", "text": line}}));
                }
                if messages.len() > DIGEST_LINES {
                    blocks.push(json!({"type": "context", "elements": [
                        {"type": "mrkdwn", "text": format!("and {} more", messages.len() - DIGEST_LINES)}
                    ]}));
                }
                json!({"text": heading, "blocks": blocks})
            }
            Kind::Teams => {
                let mut body = vec![
                    json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": heading}),
                ];
                body.extend(messages.iter().take(DIGEST_LINES).map(|m| {
                    json!({"type": "TextBlock", "wrap": true, "text": format!("- {}", m.title)})
                }));
                if messages.len() > DIGEST_LINES {
                    body.push(json!({"type": "TextBlock", "isSubtle": true,
                        "text": format!("and {} more", messages.len() - DIGEST_LINES)}));
                }
                json!({"type": "message", "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": null,
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard", "version": "1.4", "body": body,
                    },
                }]})
            }
            Kind::PagerDuty { .. } | Kind::Jira(_) => {
                return Err(NotifyError::Config(format!(
                    "channel {} takes no digest",
                    self.name
                )));
            }
        };
        self.post(agent, &body, key, "digest")
    }

    /// Posts a JSON body, signed when the channel has a secret.
    fn post(
        &self,
        agent: &ureq::Agent,
        body: &Value,
        key: &str,
        event: &str,
    ) -> Result<(), NotifyError> {
        let body = body.to_string();
        let mut request = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("parapet/", env!("CARGO_PKG_VERSION")))
            .header("Idempotency-Key", key)
            .header("X-Parapet-Event", event);
        if let Some(secret) = &self.signing {
            request = request.header("X-Parapet-Signature", signature(secret, body.as_bytes()));
        }
        for (header, value) in &self.headers {
            request = request.header(header, value);
        }
        request
            .config()
            .timeout_global(Some(TIMEOUT))
            .build()
            .send(body.as_bytes())
            .map(|_| ())
            .map_err(|e| NotifyError::Delivery {
                channel: self.name.clone(),
                reason: describe(&e, &self.url),
            })
    }

    /// Mails a plain-text message whose id comes from `key`.
    fn mail(&self, subject: &str, text: &str, key: &str) -> Result<(), NotifyError> {
        use lettre::Transport;
        let Kind::Email {
            transport,
            from,
            to,
        } = &self.kind
        else {
            return Err(NotifyError::Config(format!(
                "channel {} does not send email",
                self.name
            )));
        };
        let failed = |reason: String| NotifyError::Delivery {
            channel: self.name.clone(),
            reason,
        };
        let mut email = lettre::Message::builder()
            .from(from.clone())
            .subject(clip(subject, 200))
            // Receivers drop a second copy of one notification by its id.
            .message_id(Some(format!("<{key}@parapet>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        for recipient in to {
            email = email.to(recipient.clone());
        }
        let email = email
            .body(text.to_owned())
            .map_err(|e| failed(format!("the message could not be built: {e}")))?;
        transport
            .send(&email)
            .map(|_| ())
            .map_err(|e| failed(e.to_string()))
    }
}

/// How many changes a chat digest lists; the rest are counted.
const DIGEST_LINES: usize = 40;

/// The SMTP connection an email channel describes.
fn smtp_transport(
    host: &str,
    port: Option<u16>,
    security: crate::config::SmtpSecurity,
    ca_file: Option<&std::path::Path>,
    credentials: Option<lettre::transport::smtp::authentication::Credentials>,
) -> Result<lettre::SmtpTransport, String> {
    use crate::config::SmtpSecurity;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let tls = || -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(host.to_owned());
        if let Some(path) = ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| format!("{} is not a PEM certificate: {e}", path.display()))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder
            .build_rustls()
            .map_err(|e| format!("TLS for {host}: {e}"))
    };
    let (tls, default_port) = match security {
        SmtpSecurity::Starttls => (Tls::Required(tls()?), 587),
        SmtpSecurity::Tls => (Tls::Wrapper(tls()?), 465),
        SmtpSecurity::None => (Tls::None, 25),
    };
    let mut builder = lettre::SmtpTransport::builder_dangerous(host)
        .port(port.unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(TIMEOUT));
    if let Some(credentials) = credentials {
        builder = builder.credentials(credentials);
    }
    Ok(builder.build())
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of every length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a request failed, without the address.
fn describe(error: &ureq::Error, url: &str) -> String {
    match error {
        ureq::Error::StatusCode(code) => format!("the receiver answered HTTP {code}"),
        ureq::Error::Timeout(_) => format!("no answer within {} s", TIMEOUT.as_secs()),
        other => other.to_string().replace(url, "its address"),
    }
}

/// The webhook's document.
fn webhook_body(message: &Message<'_>) -> Value {
    let change = message.change;
    json!({
        "idempotency_key": message.idempotency_key,
        "event": change.kind.as_str(),
        "at": change.at,
        "finding": {
            "rule_id": change.rule_id,
            "severity": change.severity,
            "message": change.message,
            "url": message.link,
        },
        "asset": {
            "id": change.asset_id,
            "name": change.asset_name,
            "account": change.account,
            "region": change.region,
            "resource_type": change.resource_type,
            "tags": change.tags,
        },
        "incident": change.incident,
    })
}

/// The facts every message gives, label and value.
fn facts(change: &FindingChange) -> Vec<(&'static str, String)> {
    vec![
        ("Severity", change.severity.as_str().to_owned()),
        ("Rule", change.rule_id.clone()),
        ("Asset", change.asset_id.clone()),
        ("Type", change.resource_type.clone()),
        ("Account", change.account.clone()),
        ("Region", change.region.clone()),
    ]
}

/// Text for Slack's mrkdwn: its three control characters escaped.
fn mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// At most `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text.chars().count() > max => format!("{}…", &text[..cut]),
        _ => text.to_owned(),
    }
}

/// A Slack Block Kit message.
fn slack_body(message: &Message<'_>) -> Value {
    let change = message.change;
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": clip(&message.title, 150)}}),
        json!({"type": "section", "fields": facts(change)
            .into_iter()
            .map(|(label, value)| json!({"type": "mrkdwn", "text": format!("*{label}*\n{}", mrkdwn(&value))}))
            .collect::<Vec<_>>()}),
    ];
    if let Some(link) = &message.link {
        blocks.push(json!({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open in Parapet"}, "url": link}
        ]}));
    }
    blocks.push(json!({"type": "context", "elements": [
        {"type": "mrkdwn", "text": mrkdwn(&format!("{} · {}", change.kind.as_str(), change.at.to_rfc3339()))}
    ]}));
    json!({"text": message.title, "blocks": blocks})
}

/// A Teams message carrying an Adaptive Card.
fn teams_body(message: &Message<'_>) -> Value {
    let change = message.change;
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": message.title},
            {"type": "FactSet", "facts": facts(change)
                .into_iter()
                .map(|(label, value)| json!({"title": label, "value": value}))
                .collect::<Vec<_>>()},
        ],
    });
    if let Some(link) = &message.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": "Open in Parapet", "url": link}]);
    }
    json!({"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive",
        "contentUrl": null,
        "content": card,
    }]})
}

/// PagerDuty's key (and Jira's subject) for one finding: an opened finding
/// triggers it, its resolution resolves the same alert. When findings are
/// grouped into incidents, the key is the incident's: one alert or issue per
/// incident.
pub fn dedup_key(change: &FindingChange) -> String {
    if let Some(incident) = &change.incident {
        return format!("parapet/incident/{}", incident.id);
    }
    let readable = format!("parapet/{}/{}", change.rule_id, change.asset_id);
    if readable.len() <= 255 {
        return readable;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{}\n{}", change.rule_id, change.asset_id));
    format!("parapet/{}", hex::encode(digest))
}

/// Whether `change` ends what the channel tracks: the finding resolved, or
/// with incidents, the incident.
fn closes(change: &FindingChange) -> bool {
    match &change.incident {
        Some(incident) => incident.status == parapet_store::IncidentStatus::Resolved,
        None => change.kind == EventKind::FindingResolved,
    }
}

/// The label that marks the Jira issue of a finding (or incident):
/// `parapet-` and 16 hex digits of its dedup key's SHA-256.
fn issue_label(change: &FindingChange) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dedup_key(change));
    format!("parapet-{}", &hex::encode(digest)[..16])
}

/// A Jira issue for a finding (or its incident), with its `label`.
fn jira_issue(jira: &Jira, message: &Message<'_>, label: &str) -> Value {
    let mut labels = vec!["parapet".to_owned(), label.to_owned()];
    labels.extend(jira.labels.iter().cloned());
    json!({"fields": {
        "project": {"key": jira.project},
        "summary": clip(
            message
                .change
                .incident
                .as_ref()
                .map_or(&message.title, |i| &i.title),
            250,
        ),
        "description": message.text,
        "issuetype": {"name": jira.issue_type},
        "labels": labels,
    }})
}

/// A PagerDuty Events API v2 event.
fn pagerduty_body(routing_key: &str, message: &Message<'_>) -> Value {
    let change = message.change;
    let action = if closes(change) {
        "resolve"
    } else if change.kind == EventKind::IncidentAcknowledged {
        "acknowledge"
    } else {
        "trigger"
    };
    let severity = match change.severity {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "info",
    };
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup_key(change),
    });
    if action == "trigger" {
        body["payload"] = json!({
            "summary": clip(
                change.incident.as_ref().map_or(&message.title, |i| &i.title),
                1024,
            ),
            "source": change.asset_id,
            "severity": severity,
            "timestamp": change.at,
            "component": change.resource_type,
            "group": change.account,
            "class": change.rule_id,
            "custom_details": {
                "region": change.region,
                "asset": change.asset_name,
                "tags": change.tags,
            },
        });
        body["client"] = json!("Parapet");
        if let Some(link) = &message.link {
            body["client_url"] = json!(link);
            body["links"] = json!([{"href": link, "text": "Open in Parapet"}]);
        }
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_the_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn text_is_clipped_on_characters_and_escaped_for_slack() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(mrkdwn("<a & b>"), "&lt;a &amp; b&gt;");
    }

    #[test]
    fn dedup_keys_stay_within_pagerdutys_limit() {
        let mut change = FindingChange {
            rule_id: "r".into(),
            asset_id: "a".into(),
            ..crate::template::sample()
        };
        assert_eq!(dedup_key(&change), "parapet/r/a");
        change.asset_id = "x".repeat(400);
        let long = dedup_key(&change);
        assert!(long.len() <= 255 && long.starts_with("parapet/"), "{long}");
        change.rule_id = "s".into();
        assert_ne!(dedup_key(&change), long);
    }

    #[test]
    fn headers_that_are_not_http_headers_are_refused() {
        let config: ChannelConfig = toml::from_str(
            "type = \"webhook\"\nname = \"w\"\nurl = \"http://127.0.0.1:1\"\nheaders = { \"Bad Header\" = \"x\" }",
        )
        .expect("parses");
        assert!(Channel::new(&config).is_err());
        let config: ChannelConfig = toml::from_str(
            "type = \"webhook\"\nname = \"w\"\nurl = \"http://127.0.0.1:1\"\nheaders = { \"X-Team\" = \"line\\nbreak\" }",
        )
        .expect("parses");
        assert!(Channel::new(&config).is_err());
    }
}
