//! Message templates: the title (Slack's header, Teams' card title, an
//! email's subject, PagerDuty's summary) and the text (an email's body) of
//! a notification, as MiniJinja templates with sensible defaults, which the
//! configuration may override for every channel or for one.

use crate::NotifyError;
use crate::channel::Message;
use parapet_store::FindingChange;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The default title: what is wrong with the asset (its result's message),
/// the rule it now meets, or what someone did to its incident.
pub const TITLE: &str = "{% if by %}Incident {{ incident.id }} {{ verb | lower }} by {{ by }}: {{ incident.title }}\
{% elif verb == 'Resolved' %}{{ verb }} ({{ severity }}): {{ rule_title }} on {{ asset_name }}\
{% else %}{{ verb }} ({{ severity }}): {{ message }}{% endif %}";

/// The default text.
pub const TEXT: &str = "{{ title }}
{% if incident %}
Incident: {{ incident.id }}, {{ incident.status }}: {{ incident.title }}
{% endif %}
Severity: {{ severity }}
Rule: {{ rule_title }} ({{ rule_id }})
Asset: {{ asset_id }}
Type: {{ resource_type }}
Account: {{ account }}
Region: {{ region }}
When: {{ at }}
{% if link %}
Open in Parapet: {{ link }}
{% endif %}
-- 
Parapet notification {{ key }}
";

/// A title and a text template; absent ones keep the defaults (or the
/// `[notifications.templates]` ones, for a channel's own).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// The title.
    #[serde(default)]
    pub title: Option<String>,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// One channel's own, by its name.
    #[serde(default)]
    pub channels: BTreeMap<String, TemplateConfig>,
}

/// The templates of every channel, checked.
#[derive(Debug)]
pub struct Templates {
    env: minijinja::Environment<'static>,
}

/// The rendered title and text.
pub struct Rendered {
    /// The title.
    pub title: String,
    /// The text.
    pub text: String,
}

impl Templates {
    /// The templates of `config` for `channels`, each rendered once against
    /// a sample change so that a mistake is found when the configuration is
    /// read.
    pub fn new<'a>(
        config: &TemplateConfig,
        channels: impl IntoIterator<Item = &'a str>,
    ) -> Result<Templates, NotifyError> {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        let mut names = Vec::new();
        for channel in channels {
            let own = config.channels.get(channel);
            let pick = |own: Option<&String>, all: &Option<String>, default: &str| {
                own.or(all.as_ref())
                    .map_or(default.to_owned(), String::clone)
            };
            let title = pick(own.and_then(|o| o.title.as_ref()), &config.title, TITLE);
            let text = pick(own.and_then(|o| o.text.as_ref()), &config.text, TEXT);
            for (part, source) in [("title", title), ("text", text)] {
                env.add_template_owned(format!("{channel}/{part}"), source)
                    .map_err(|e| {
                        NotifyError::Config(format!(
                            "the {part} template of channel {channel}: {e}"
                        ))
                    })?;
            }
            names.push(channel.to_owned());
        }
        for name in config.channels.keys() {
            if !names.contains(name) {
                return Err(NotifyError::Config(format!(
                    "templates are given for the channel `{name}`, which is not defined"
                )));
            }
        }
        let templates = Templates { env };
        let samples = [sample(), acknowledged()];
        for channel in &names {
            for sample in &samples {
                templates
                    .render(
                        channel,
                        sample,
                        "parapet-0-sample",
                        Some("https://parapet.example.com"),
                    )
                    .map_err(|e| NotifyError::Config(format!("channel {channel}: {e}")))?;
            }
        }
        Ok(templates)
    }

    /// The title and text of `change` for `channel`.
    pub fn render(
        &self,
        channel: &str,
        change: &FindingChange,
        key: &str,
        link: Option<&str>,
    ) -> Result<Rendered, String> {
        use parapet_core::EventKind;
        let verb = match change.kind {
            EventKind::FindingResolved | EventKind::IncidentResolved => "Resolved",
            EventKind::FindingReopened => "Reopened",
            EventKind::IncidentAcknowledged => "Acknowledged",
            _ => "Opened",
        };
        let incident = change.incident.as_ref();
        let mut context = minijinja::context! {
            event => change.kind.as_str(),
            verb => verb,
            severity => change.severity.as_str(),
            rule_id => &change.rule_id,
            rule_title => &change.rule_title,
            message => &change.message,
            asset_id => &change.asset_id,
            asset_name => &change.asset_name,
            resource_type => &change.resource_type,
            account => &change.account,
            region => &change.region,
            tags => &change.tags,
            at => change.at.to_rfc3339(),
            link => link,
            key => key,
            incident => minijinja::value::Serde(incident),
            by => incident.and_then(|i| i.by.as_deref()),
        };
        let get = |part: &str| {
            self.env
                .get_template(&format!("{channel}/{part}"))
                .map_err(|e| e.to_string())
        };
        let title = get("title")?
            .render(&context)
            .map_err(|e| format!("the title template: {e}"))?;
        context = minijinja::context! { title => &title, ..context };
        let text = get("text")?
            .render(&context)
            .map_err(|e| format!("the text template: {e}"))?;
        Ok(Rendered {
            title: title.trim().to_owned(),
            text,
        })
    }

    /// The rendered parts of `message` for `channel`.
    pub fn for_message(&self, channel: &str, message: &Message<'_>) -> Result<Rendered, String> {
        self.render(
            channel,
            message.change,
            message.idempotency_key,
            message.link.as_deref(),
        )
    }
}

/// A change to check templates against (and for tests).
pub(crate) fn sample() -> FindingChange {
    FindingChange {
        kind: parapet_core::EventKind::FindingOpened,
        at: chrono::Utc::now(),
        rule_id: "aws-s3-bucket-policy-not-public".to_owned(),
        rule_title: "S3 bucket policies do not grant access to everyone".to_owned(),
        severity: parapet_core::Severity::Critical,
        message: "Bucket `data` grants s3:GetObject to everyone through statement `PublicRead`"
            .to_owned(),
        asset_id: "arn:aws:s3:::data".to_owned(),
        asset_name: "data".to_owned(),
        account: "111122223333".to_owned(),
        region: "eu-west-1".to_owned(),
        resource_type: "AWS::S3::Bucket".to_owned(),
        tags: BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
        incident: None,
    }
}

/// The sample change's incident, acknowledged by hand.
pub(crate) fn acknowledged() -> FindingChange {
    FindingChange {
        kind: parapet_core::EventKind::IncidentAcknowledged,
        incident: Some(parapet_store::IncidentInfo {
            id: 12,
            title: "S3 bucket policies do not grant access to everyone in 111122223333".to_owned(),
            status: parapet_store::IncidentStatus::Acknowledged,
            by: Some("alice".to_owned()),
        }),
        ..sample()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_a_title_and_a_text_with_the_facts() {
        let templates = Templates::new(&TemplateConfig::default(), ["mail"]).expect("valid");
        let rendered = templates
            .render(
                "mail",
                &sample(),
                "parapet-7-mail",
                Some("https://p.example/f"),
            )
            .expect("rendered");
        assert_eq!(
            rendered.title,
            "Opened (critical): Bucket `data` grants s3:GetObject to everyone through statement `PublicRead`"
        );
        assert!(rendered.text.starts_with(&rendered.title));
        assert!(
            rendered
                .text
                .contains("Rule: S3 bucket policies do not grant access to everyone (aws-s3-bucket-policy-not-public)\n")
        );
        assert!(
            rendered
                .text
                .contains("Open in Parapet: https://p.example/f")
        );
        assert!(
            rendered
                .text
                .contains("Parapet notification parapet-7-mail")
        );
        let without = templates
            .render("mail", &sample(), "k", None)
            .expect("rendered");
        assert!(!without.text.contains("Open in Parapet"));
        let resolved = FindingChange {
            kind: parapet_core::EventKind::FindingResolved,
            ..sample()
        };
        assert_eq!(
            templates
                .render("mail", &resolved, "k", None)
                .expect("rendered")
                .title,
            "Resolved (critical): S3 bucket policies do not grant access to everyone on data"
        );
    }

    #[test]
    fn an_incident_acknowledged_by_hand_says_who_and_which_incident() {
        let templates = Templates::new(&TemplateConfig::default(), ["mail"]).expect("valid");
        let rendered = templates
            .render("mail", &acknowledged(), "parapet-8-mail", None)
            .expect("rendered");
        assert_eq!(
            rendered.title,
            "Incident 12 acknowledged by alice: S3 bucket policies do not grant access to everyone in 111122223333"
        );
        assert!(
            rendered.text.contains(
                "\n\nIncident: 12, acknowledged: S3 bucket policies do not grant access to everyone in 111122223333\n\nSeverity: critical\n"
            ),
            "{}",
            rendered.text
        );
        let mut resolved = acknowledged();
        resolved.kind = parapet_core::EventKind::IncidentResolved;
        let title = templates
            .render("mail", &resolved, "k", None)
            .expect("rendered")
            .title;
        assert!(
            title.starts_with("Incident 12 resolved by alice: "),
            "{title}"
        );
    }

    #[test]
    fn a_channel_may_have_its_own_and_mistakes_are_found_at_once() {
        let config: TemplateConfig = toml::from_str(
            "title = \"[{{ severity | upper }}] {{ asset_name }}\"\n[channels.pager]\ntitle = \"{{ rule_id }} on {{ tags.env }}\"\n",
        )
        .expect("valid");
        let templates = Templates::new(&config, ["mail", "pager"]).expect("valid");
        let title = |channel| {
            templates
                .render(channel, &sample(), "k", None)
                .expect("r")
                .title
        };
        assert_eq!(title("mail"), "[CRITICAL] data");
        assert_eq!(title("pager"), "aws-s3-bucket-policy-not-public on prod");

        let broken: TemplateConfig =
            toml::from_str("title = \"{{ severity \"").expect("valid TOML");
        let error = Templates::new(&broken, ["mail"])
            .expect_err("refused")
            .to_string();
        assert!(error.contains("title template of channel mail"), "{error}");
        let unknown: TemplateConfig =
            toml::from_str("title = \"{{ colour }}\"").expect("valid TOML");
        assert!(
            Templates::new(&unknown, ["mail"]).is_err(),
            "an unknown variable"
        );
        let stray: TemplateConfig =
            toml::from_str("[channels.nobody]\ntitle = \"x\"").expect("valid TOML");
        assert!(Templates::new(&stray, ["mail"]).is_err());
    }
}
