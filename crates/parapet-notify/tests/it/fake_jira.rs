//! A Jira REST API (v2) on 127.0.0.1 that keeps its issues: created with
//! their labels, found by label through JQL search, commented on, and moved
//! between an open status (offering `In Progress` 21 and `Done` 31) and a
//! done one (offering `To Do` 11).

use super::{Received, Receiver};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// One issue.
#[derive(Debug, Clone)]
pub struct Issue {
    /// `SEC-1`, ...
    pub key: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// In a status of the `done` category.
    pub done: bool,
}

/// How the fake behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flavour {
    /// Jira Data Center: `search` only, no `search/jql`.
    pub data_center: bool,
    /// The first issue created is answered with HTTP 502, as if the answer
    /// were lost on the way.
    pub lose_first_answer: bool,
}

/// The fake Jira and its receiver.
pub struct FakeJira {
    /// Its requests.
    pub receiver: Receiver,
    issues: Arc<Mutex<Vec<Issue>>>,
}

impl FakeJira {
    /// Starts one with no issue.
    pub fn start(flavour: Flavour) -> FakeJira {
        let issues: Arc<Mutex<Vec<Issue>>> = Arc::default();
        let state = Arc::clone(&issues);
        let receiver = Receiver::answering("127.0.0.1:0", move |request| {
            let mut issues = state.lock().unwrap_or_else(|e| e.into_inner());
            match answer(&mut issues, flavour, request) {
                (status, Value::Null) => (status, String::new()),
                (status, body) => (status, body.to_string()),
            }
        });
        FakeJira { receiver, issues }
    }

    /// Its address.
    pub fn url(&self) -> &str {
        &self.receiver.url
    }

    /// Its issues, in creation order.
    pub fn issues(&self) -> Vec<Issue> {
        self.issues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `METHOD path` of each request, in order.
    pub fn calls(&self) -> Vec<String> {
        self.receiver
            .received()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }

    /// The JSON bodies of the requests to `path` (exact, with its query).
    pub fn bodies(&self, method: &str, path: &str) -> Vec<Value> {
        self.receiver
            .received()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .map(|r| serde_json::from_str(&r.body).expect("a JSON body"))
            .collect()
    }
}

fn answer(issues: &mut Vec<Issue>, flavour: Flavour, request: &Received) -> (u16, Value) {
    let (path, query) = request
        .path
        .split_once('?')
        .unwrap_or((request.path.as_str(), ""));
    let body: Value = serde_json::from_str(&request.body).unwrap_or_default();
    let missing = (404, json!({"errorMessages": ["Issue does not exist"]}));
    let parts: Vec<&str> = path.trim_start_matches("/rest/api/2/").split('/').collect();
    match (request.method.as_str(), parts.as_slice()) {
        ("POST", ["issue"]) => {
            let key = format!("SEC-{}", issues.len() + 1);
            let labels = body["fields"]["labels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l.as_str().map(str::to_owned))
                .collect();
            issues.push(Issue {
                key: key.clone(),
                labels,
                done: false,
            });
            if flavour.lose_first_answer && issues.len() == 1 {
                return (502, json!({}));
            }
            (
                201,
                json!({"id": format!("1000{}", issues.len()), "key": key}),
            )
        }
        ("GET", ["search", "jql"]) if flavour.data_center => missing,
        ("GET", ["search"]) if !flavour.data_center => (
            410,
            json!({"errorMessages": ["The requested API has been removed."]}),
        ),
        ("GET", ["search"] | ["search", "jql"]) => {
            let jql = query
                .split('&')
                .find_map(|p| p.strip_prefix("jql="))
                .unwrap_or_default()
                .replace("%20", " ")
                .replace("%3D", "=")
                .replace("%22", "\"");
            let Some(label) = jql
                .strip_prefix("labels = \"")
                .and_then(|l| l.strip_suffix('"'))
            else {
                return (
                    400,
                    json!({"errorMessages": [format!("cannot read {jql}")]}),
                );
            };
            let found: Vec<Value> = issues
                .iter()
                .filter(|i| i.labels.iter().any(|l| l == label))
                .map(|i| json!({"id": "10001", "key": i.key}))
                .collect();
            (200, json!({"issues": found}))
        }
        (method, ["issue", key, rest @ ..]) => {
            let Some(issue) = issues.iter_mut().find(|i| i.key == *key) else {
                return missing;
            };
            match (method, rest) {
                ("GET", []) if query == "fields=status" => {
                    let category = if issue.done { "done" } else { "indeterminate" };
                    (
                        200,
                        json!({"fields": {"status": {"statusCategory": {"key": category}}}}),
                    )
                }
                ("POST", ["comment"]) => (201, json!({"id": "1"})),
                ("GET", ["transitions"]) if issue.done => {
                    (200, json!({"transitions": [{"id": "11", "name": "To Do"}]}))
                }
                ("GET", ["transitions"]) => (
                    200,
                    json!({"transitions": [{"id": "21", "name": "In Progress"}, {"id": "31", "name": "Done"}]}),
                ),
                ("POST", ["transitions"]) => {
                    match body["transition"]["id"].as_str() {
                        Some("31") if !issue.done => issue.done = true,
                        Some("11") if issue.done => issue.done = false,
                        Some("21") if !issue.done => {}
                        _ => return (400, json!({"errorMessages": ["not a valid transition"]})),
                    }
                    (204, Value::Null)
                }
                _ => missing,
            }
        }
        _ => missing,
    }
}
