//! Google's discovery documents as the fake's check of every request: the
//! methods an API has, each with its HTTP method and path template
//! (`v1/{+parent}/assets`), and its parameters (where each goes, its type,
//! whether it repeats, its pattern, enum, format and bounds), with the
//! parameters every method of the API takes (`alt`, `fields`...).

use axum::http::{Method, Uri};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One parameter, as the document describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Param {
    location: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    repeated: bool,
    #[serde(default)]
    required: bool,
    #[serde(default, rename = "enum")]
    values: Option<Vec<String>>,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    minimum: Option<String>,
    #[serde(default)]
    maximum: Option<String>,
    /// How many values a repeated parameter takes at most (from its
    /// description, where the document says it in words).
    #[serde(default)]
    max_items: Option<usize>,
}

/// One method.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MethodDef {
    id: String,
    http_method: String,
    path: String,
    #[serde(default)]
    parameters: BTreeMap<String, Param>,
    /// The schema of its request body, if it takes one.
    #[serde(default)]
    request: Option<Value>,
}

/// A request that matched a method: the method's id, its path parameters
/// and its query parameters.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method's id (`cloudasset.assets.list`).
    pub method: String,
    path: BTreeMap<String, String>,
    query: Vec<(String, String)>,
}

impl Request {
    /// The path parameter `name`.
    pub fn path(&self, name: &str) -> String {
        self.path.get(name).cloned().unwrap_or_default()
    }

    /// The query parameter `name`, given once.
    pub fn single(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of the query parameter `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// One API's discovery document.
pub struct Discovery {
    methods: Vec<(MethodDef, regex::Regex, Vec<String>)>,
    globals: BTreeMap<String, Param>,
    schemas: Value,
}

impl Discovery {
    /// Cloud Asset API v1's.
    pub fn cloud_asset() -> Discovery {
        Discovery::of(include_str!("../discovery/cloudasset-v1.json"))
    }

    /// Pub/Sub API v1's.
    pub fn pubsub() -> Discovery {
        Discovery::of(include_str!("../discovery/pubsub-v1.json"))
    }

    /// IAM Service Account Credentials API v1's.
    pub fn iam_credentials() -> Discovery {
        Discovery::of(include_str!("../discovery/iamcredentials-v1.json"))
    }

    /// Whether one of its methods is `method` at `uri`'s path.
    pub fn serves(&self, method: &Method, uri: &Uri) -> bool {
        self.methods
            .iter()
            .any(|(m, r, _)| m.http_method == method.as_str() && r.is_match(uri.path()))
    }

    /// Checks a request's body against its method's request schema.
    pub fn body(&self, request: &Request, body: &[u8]) -> Result<Value, String> {
        let def = self
            .methods
            .iter()
            .find(|(m, _, _)| m.id == request.method)
            .map(|(m, _, _)| m)
            .ok_or("no such method")?;
        let Some(schema) = def.request.as_ref().and_then(|r| r["$ref"].as_str()) else {
            return match body.is_empty() {
                true => Ok(Value::Null),
                false => Err(format!("{} takes no body", def.id)),
            };
        };
        let value: Value =
            serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
        self.conforms(schema, &value, schema)?;
        Ok(value)
    }

    /// Checks `value` against the schema named `name`; `at` names the place.
    fn conforms(&self, name: &str, value: &Value, at: &str) -> Result<(), String> {
        let schema = &self.schemas[name];
        let fields = value
            .as_object()
            .ok_or_else(|| format!("{at} is not an object"))?;
        for (key, field) in fields {
            let property = &schema["properties"][key];
            if property.is_null() {
                return Err(format!("{at} has no field {key}"));
            }
            self.typed(property, field, &format!("{at}.{key}"))?;
        }
        Ok(())
    }

    /// Checks one field against its property's description.
    fn typed(&self, property: &Value, field: &Value, at: &str) -> Result<(), String> {
        if let Some(reference) = property["$ref"].as_str() {
            return self.conforms(reference, field, at);
        }
        let ok = match property["type"].as_str().unwrap_or_default() {
            "boolean" => field.is_boolean(),
            "integer" => field.is_i64() || field.as_str().is_some_and(|s| s.parse::<i64>().is_ok()),
            "string" if property["format"] == "byte" => field.as_str().is_some_and(|s| {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.decode(s).is_ok()
            }),
            "string" => field.is_string(),
            "object" => field
                .as_object()
                .is_some_and(|o| o.values().all(Value::is_string)),
            "array" => {
                let items = field
                    .as_array()
                    .ok_or_else(|| format!("{at} is not a list"))?;
                for (i, item) in items.iter().enumerate() {
                    self.typed(&property["items"], item, &format!("{at}[{i}]"))?;
                }
                true
            }
            _ => true,
        };
        match ok {
            true => Ok(()),
            false => Err(format!("{at} is not what the schema says: {field}")),
        }
    }

    fn of(text: &str) -> Discovery {
        let document: Value = serde_json::from_str(text).expect("a discovery document");
        let globals = serde_json::from_value(document["parameters"].clone()).expect("parameters");
        let mut methods = Vec::new();
        collect(&document["resources"], &mut methods);
        let methods = methods
            .into_iter()
            .map(|m| {
                let (pattern, names) = template(&m.path);
                (
                    m,
                    regex::Regex::new(&pattern).expect("a path template"),
                    names,
                )
            })
            .collect();
        let schemas = document["schemas"].clone();
        Discovery {
            methods,
            globals,
            schemas,
        }
    }

    /// The method `method` and `uri` call, with its parameters, or why the
    /// request breaks the document.
    pub fn request(&self, method: &Method, uri: &Uri) -> Result<Request, String> {
        let path = uri.path();
        let (def, captures, names) = self
            .methods
            .iter()
            .filter(|(m, _, _)| m.http_method == method.as_str())
            .find_map(|(m, r, n)| r.captures(path).map(|c| (m, c, n)))
            .ok_or_else(|| format!("no method of the API is {method} {path}"))?;
        let mut path_params = BTreeMap::new();
        for name in names {
            let raw = captures.name(&safe(name)).map_or("", |c| c.as_str());
            let value = percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map_err(|_| format!("{name} is not UTF-8"))?
                .into_owned();
            let param = def
                .parameters
                .get(name)
                .ok_or(format!("{name} is undeclared"))?;
            check(name, param, std::slice::from_ref(&value))?;
            path_params.insert(name.clone(), value);
        }
        let query: Vec<(String, String)> =
            form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
                .map(|(k, v)| {
                    let value = named(def.parameters.get(k.as_ref()), v.into_owned());
                    (k.into_owned(), value)
                })
                .collect();
        let mut given: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (name, value) in &query {
            given.entry(name).or_default().push(value.clone());
        }
        for (name, values) in &given {
            let param = def
                .parameters
                .get(*name)
                .filter(|p| p.location == "query")
                .or_else(|| self.globals.get(system(name)))
                .ok_or_else(|| format!("{} takes no parameter {name}", def.id))?;
            match system(name) {
                "alt" => check(name, param, &alt(values)?)?,
                _ => check(name, param, values)?,
            }
        }
        for (name, param) in &def.parameters {
            if param.required && param.location == "query" && !given.contains_key(name.as_str()) {
                return Err(format!("{} needs {name}", def.id));
            }
        }
        Ok(Request {
            method: def.id.clone(),
            path: path_params,
            query,
        })
    }
}

/// A system parameter's name without the `$` Google's clients may write
/// it with (`$alt` is `alt`).
fn system(name: &str) -> &str {
    name.strip_prefix('$').unwrap_or(name)
}

/// The data formats `alt` names, without the one modifier Google's REST
/// transcoding takes (`json;enum-encoding=int`: enums as their numbers).
fn alt(values: &[String]) -> Result<Vec<String>, String> {
    values
        .iter()
        .map(|v| match v.split_once(';') {
            None => Ok(v.clone()),
            Some((format, "enum-encoding=int")) => Ok(format.to_owned()),
            Some((_, modifier)) => Err(format!("alt modifier {modifier:?} is not known")),
        })
        .collect()
}

/// An enum's value by its name, where it is given as its number (as
/// proto3's JSON mapping allows).
fn named(param: Option<&Param>, value: String) -> String {
    let values = param.and_then(|p| p.values.as_ref());
    match (values, value.parse::<usize>()) {
        (Some(values), Ok(at)) if at < values.len() => values[at].clone(),
        _ => value,
    }
}

/// Every method under `resources`, at any depth.
fn collect(resources: &Value, into: &mut Vec<MethodDef>) {
    for resource in resources.as_object().into_iter().flat_map(|r| r.values()) {
        for method in resource["methods"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
        {
            into.push(serde_json::from_value(method.clone()).expect("a method"));
        }
        collect(&resource["resources"], into);
    }
}

/// A regex group's name for a parameter (`readTimeWindow.startTime` has a dot).
fn safe(name: &str) -> String {
    name.replace('.', "_")
}

/// A path template as a regex over the request's path, and the names of
/// its parameters: `{+name}` takes slashes (reserved expansion), `{name}`
/// one segment.
fn template(path: &str) -> (String, Vec<String>) {
    let mut pattern = String::from("^/");
    let mut names = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        pattern.push_str(&regex::escape(&rest[..open]));
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        let inner = &rest[open + 1..close];
        let (reserved, name) = match inner.strip_prefix('+') {
            Some(name) => (true, name),
            None => (false, inner),
        };
        let class = if reserved { ".+?" } else { "[^/]+" };
        pattern.push_str(&format!("(?P<{}>{class})", safe(name)));
        names.push(name.to_owned());
        rest = &rest[(close + 1).min(rest.len())..];
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    (pattern, names)
}

/// Checks the values given for one parameter against its description.
fn check(name: &str, param: &Param, values: &[String]) -> Result<(), String> {
    if values.len() > 1 && !param.repeated {
        return Err(format!(
            "{name} is given {} times but does not repeat",
            values.len()
        ));
    }
    if let Some(most) = param.max_items
        && values.len() > most
    {
        return Err(format!(
            "{name} is given {} times; at most {most}",
            values.len()
        ));
    }
    let rfc3339 =
        regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
            .expect("a pattern");
    for value in values {
        if let Some(pattern) = &param.pattern
            && !regex::Regex::new(pattern).is_ok_and(|r| r.is_match(value))
        {
            return Err(format!("{name} {value:?} does not match {pattern}"));
        }
        if let Some(allowed) = &param.values
            && !allowed.contains(value)
        {
            return Err(format!("{name} {value:?} is none of {allowed:?}"));
        }
        match param.kind.as_str() {
            "integer" => {
                let number: i64 = value
                    .parse()
                    .map_err(|_| format!("{name} {value:?} is not an integer"))?;
                let bound = |b: &Option<String>| b.as_ref().and_then(|b| b.parse::<i64>().ok());
                if bound(&param.minimum).is_some_and(|m| number < m)
                    || bound(&param.maximum).is_some_and(|m| number > m)
                {
                    return Err(format!("{name} {number} is out of bounds"));
                }
            }
            "boolean" if value != "true" && value != "false" => {
                return Err(format!("{name} {value:?} is not a boolean"));
            }
            _ => {}
        }
        if param.format.as_deref() == Some("google-datetime") && !rfc3339.is_match(value) {
            return Err(format!("{name} {value:?} is not an RFC 3339 time"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(uri: &str) -> Result<Request, String> {
        Discovery::cloud_asset().request(&Method::GET, &uri.parse().expect("a URI"))
    }

    #[test]
    fn a_list_of_assets_is_read_as_the_document_says() {
        let request = ask(
            "/v1/organizations/42/assets?assetTypes=a&assetTypes=b&contentType=RESOURCE&pageSize=1000&pageToken=",
        )
        .expect("a valid request");
        assert_eq!(request.method, "cloudasset.assets.list");
        assert_eq!(request.path("parent"), "organizations/42");
        assert_eq!(request.all("assetTypes"), ["a", "b"]);
        let request = ask("/v1/projects/p/assets?contentType=2&%24alt=json%3Benum-encoding%3Dint")
            .expect("enums by number, and the system parameter");
        assert_eq!(request.single("contentType"), Some("IAM_POLICY"));
    }

    #[test]
    fn what_the_document_does_not_allow_is_refused() {
        for (uri, why) in [
            (
                "/v1/organizations/42/assets?contentType=EVERYTHING",
                "none of",
            ),
            ("/v1/organizations/42/assets?pageSize=5000", "out of bounds"),
            ("/v1/organizations/42/assets?pageSize=ten", "not an integer"),
            (
                "/v1/organizations/42/assets?filter=x",
                "takes no parameter filter",
            ),
            (
                "/v1/organizations/42/assets?contentType=RESOURCE&contentType=IAM_POLICY",
                "does not repeat",
            ),
            ("/v1/organizations/42/folders/1/assets", "does not match"),
            ("/v1/organizations/42/assets?readTime=yesterday", "RFC 3339"),
            ("/v2/organizations/42/assets", "no method"),
        ] {
            let refused = ask(uri).expect_err(uri);
            assert!(refused.contains(why), "{uri}: {refused}");
        }
    }
}
