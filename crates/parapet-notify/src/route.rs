//! Which channels a finding's change goes to: the channels of every route
//! it matches, or the default route's when it matches none.

use crate::NotifyError;
use crate::config::{NotifyConfig, RouteConfig};
use parapet_store::{FindingChange, Router};
use std::collections::{BTreeMap, BTreeSet};
use wildmatch::WildMatch;

/// What routes know of a rule besides its id.
#[derive(Debug, Clone, Default)]
pub struct RuleFacts {
    /// The frameworks its controls belong to.
    pub frameworks: BTreeSet<String>,
    /// Its tags.
    pub tags: BTreeSet<String>,
}

/// The routes of a configuration, checked against its channels.
#[derive(Debug)]
pub struct Routes {
    routes: Vec<RouteConfig>,
    default: Vec<String>,
    /// Rule id to its frameworks and tags.
    rules: BTreeMap<String, RuleFacts>,
}

impl Routes {
    /// The routes of `config`; `rules` gives each rule's frameworks and
    /// tags. A route naming a channel that does not exist is refused.
    pub fn new(
        config: &NotifyConfig,
        rules: BTreeMap<String, RuleFacts>,
    ) -> Result<Routes, NotifyError> {
        let names: BTreeSet<&str> = config.channels.iter().map(|c| c.name()).collect();
        let named = config
            .routes
            .iter()
            .flat_map(|r| &r.channels)
            .chain(&config.default);
        for channel in named {
            if !names.contains(channel.as_str()) {
                return Err(NotifyError::Config(format!(
                    "a route names the channel `{channel}`, which is not defined"
                )));
            }
        }
        Ok(Routes {
            routes: config.routes.clone(),
            default: config.default.clone(),
            rules,
        })
    }

    fn matches(&self, route: &RouteConfig, change: &FindingChange) -> bool {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        route.min_severity.is_none_or(|s| change.severity >= s)
            && (route.rules.is_empty()
                || route
                    .rules
                    .iter()
                    .any(|p| WildMatch::new(p).matches(&change.rule_id)))
            && self.rule_has(&route.frameworks, &change.rule_id, |r| &r.frameworks)
            && self.rule_has(&route.rule_tags, &change.rule_id, |r| &r.tags)
            && listed(&route.accounts, &change.account)
            && listed(&route.regions, &change.region)
            && listed(&route.resource_types, &change.resource_type)
            && route
                .tags
                .iter()
                .all(|(k, v)| change.tags.get(k) == Some(v))
    }

    /// Whether `wanted` is empty, or the rule has one of them in the set
    /// `of` picks.
    fn rule_has(
        &self,
        wanted: &[String],
        rule_id: &str,
        of: impl Fn(&RuleFacts) -> &BTreeSet<String>,
    ) -> bool {
        wanted.is_empty()
            || self
                .rules
                .get(rule_id)
                .is_some_and(|r| wanted.iter().any(|w| of(r).contains(w)))
    }
}

impl Router for Routes {
    fn channels(&self, change: &FindingChange) -> Vec<String> {
        let mut channels: Vec<String> = Vec::new();
        for route in self.routes.iter().filter(|r| self.matches(r, change)) {
            for channel in &route.channels {
                if !channels.contains(channel) {
                    channels.push(channel.clone());
                }
            }
        }
        if channels.is_empty() {
            channels = self.default.clone();
        }
        channels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parapet_core::{EventKind, Severity};

    fn change(rule: &str, severity: Severity, env: &str) -> FindingChange {
        FindingChange {
            kind: EventKind::FindingOpened,
            at: chrono::Utc::now(),
            rule_id: rule.into(),
            rule_title: "t".into(),
            severity,
            message: "m".into(),
            asset_id: "arn:aws:s3:::data".into(),
            asset_name: "data".into(),
            account: "111111111111".into(),
            region: "eu-west-1".into(),
            resource_type: "AWS::S3::Bucket".into(),
            tags: BTreeMap::from([("env".to_owned(), env.to_owned())]),
            incident: None,
        }
    }

    fn config(text: &str) -> NotifyConfig {
        toml::from_str(text).expect("valid")
    }

    const CHANNELS: &str = "[[channels]]\ntype = \"webhook\"\nname = \"pager\"\nurl = \"http://127.0.0.1:1/p\"\n\
        [[channels]]\ntype = \"webhook\"\nname = \"chat\"\nurl = \"http://127.0.0.1:1/c\"\n\
        [[channels]]\ntype = \"webhook\"\nname = \"audit\"\nurl = \"http://127.0.0.1:1/a\"\n";

    #[test]
    fn a_change_goes_to_every_route_it_matches_else_to_the_default() {
        let text = format!(
            "default = [\"audit\"]\n{CHANNELS}\
             [[routes]]\nchannels = [\"pager\"]\nmin_severity = \"high\"\ntags = {{ env = \"prod\" }}\n\
             [[routes]]\nchannels = [\"chat\", \"pager\"]\nrules = [\"aws-s3-*\"]\n\
             [[routes]]\nchannels = [\"chat\"]\nframeworks = [\"cis-aws-foundations-7.0\"]\n\
             [[routes]]\nchannels = [\"pager\"]\nrule_tags = [\"internet-exposed\", \"secrets\"]\n"
        );
        let facts = |frameworks: &[&str], tags: &[&str]| RuleFacts {
            frameworks: frameworks.iter().map(|f| f.to_string()).collect(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
        };
        let rules = BTreeMap::from([
            (
                "aws-iam-root-mfa-enabled".to_owned(),
                facts(&["cis-aws-foundations-7.0"], &["identity"]),
            ),
            (
                "aws-ec2-snapshot-not-public".to_owned(),
                facts(&[], &["internet-exposed"]),
            ),
        ]);
        let routes = Routes::new(&config(&text), rules).expect("routes");
        assert_eq!(
            routes.channels(&change("aws-s3-bucket-x", Severity::Critical, "prod")),
            ["pager", "chat"]
        );
        assert_eq!(
            routes.channels(&change("aws-ec2-x", Severity::Critical, "prod")),
            ["pager"]
        );
        assert_eq!(
            routes.channels(&change("aws-ec2-x", Severity::Medium, "prod")),
            ["audit"],
            "too mild for the pager: the default"
        );
        assert_eq!(
            routes.channels(&change("aws-ec2-x", Severity::High, "dev")),
            ["audit"]
        );
        assert_eq!(
            routes.channels(&change("aws-iam-root-mfa-enabled", Severity::Low, "dev")),
            ["chat"],
            "mapped to the framework; its tag is not one the pager takes"
        );
        assert_eq!(
            routes.channels(&change("aws-ec2-snapshot-not-public", Severity::Low, "dev")),
            ["pager"],
            "tagged internet-exposed"
        );
    }

    #[test]
    fn a_route_to_an_unknown_channel_is_refused() {
        let text = format!("{CHANNELS}[[routes]]\nchannels = [\"pagr\"]\n");
        let error = Routes::new(&config(&text), BTreeMap::new()).expect_err("refused");
        assert!(error.to_string().contains("`pagr`"), "{error}");
        let text = format!("default = [\"nobody\"]\n{CHANNELS}");
        assert!(Routes::new(&config(&text), BTreeMap::new()).is_err());
    }
}
