//! A JSON-like value as the policy analysis reads it: fields of maps, text,
//! list items and map entries. Implemented for `serde_json` values, which
//! the rules (reading an asset's documents where they are) and the topology
//! hand it.

/// A borrowed JSON-like value.
pub trait Document<'a>: Copy + 'a {
    /// The field `name` of a map; `None` for a missing field or another
    /// shape.
    fn field(self, name: &str) -> Option<Self>;
    /// The text of a string.
    fn text(self) -> Option<&'a str>;
    /// The items of a list.
    fn items(self) -> Option<impl Iterator<Item = Self>>;
    /// The entries of a map whose keys are strings.
    fn entries(self) -> Option<impl Iterator<Item = (&'a str, Self)>>;
    /// Whether it is null.
    fn is_null(self) -> bool;
    /// Whether it is a map.
    fn is_map(self) -> bool;
    /// Its shape, for error messages: `string`, `list`, `map`...
    fn shape(self) -> &'static str;

    /// A string, or the strings of a list, as IAM writes `Action`,
    /// `Resource` and principal values.
    fn strings(self) -> impl Iterator<Item = &'a str> {
        let one = self.text();
        let many = one
            .is_none()
            .then(|| self.items())
            .flatten()
            .into_iter()
            .flatten()
            .filter_map(Document::text);
        one.into_iter().chain(many)
    }
}

impl<'a> Document<'a> for &'a serde_json::Value {
    fn field(self, name: &str) -> Option<Self> {
        self.as_object()?.get(name)
    }

    fn text(self) -> Option<&'a str> {
        self.as_str()
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        self.as_array().map(|items| items.iter())
    }

    fn entries(self) -> Option<impl Iterator<Item = (&'a str, Self)>> {
        self.as_object()
            .map(|map| map.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn is_null(self) -> bool {
        serde_json::Value::is_null(self)
    }

    fn is_map(self) -> bool {
        self.is_object()
    }

    fn shape(self) -> &'static str {
        match self {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "bool",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::String(_) => "string",
            serde_json::Value::Array(_) => "list",
            serde_json::Value::Object(_) => "map",
        }
    }
}

/// Policy text, as AWS returns bucket and queue policies, parsed.
pub fn parse_text(text: &str) -> Result<serde_json::Value, crate::PolicyError> {
    serde_json::from_str(text).map_err(|e| crate::PolicyError::NotJson(e.to_string()))
}
