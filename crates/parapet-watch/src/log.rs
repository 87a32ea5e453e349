//! The daemon's log: one line per event on standard error, readable or JSON.

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line.
    Json,
}

/// Writes log lines to standard error.
#[derive(Debug, Clone, Copy)]
pub struct Log(pub LogFormat);

impl Log {
    /// One line: its level, message and fields.
    pub fn line(&self, level: &str, message: &str, fields: serde_json::Value) {
        eprintln!("{}", self.format(level, message, &fields));
    }

    fn format(&self, level: &str, message: &str, fields: &serde_json::Value) -> String {
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        match self.0 {
            LogFormat::Json => {
                let mut record = serde_json::json!({"at": at, "level": level, "message": message});
                if let (Some(record), Some(fields)) = (record.as_object_mut(), fields.as_object()) {
                    record.extend(fields.clone());
                }
                record.to_string()
            }
            LogFormat::Human => {
                let details = fields
                    .as_object()
                    .map(|f| {
                        f.iter()
                            .map(|(k, v)| format!(" {k}={v}"))
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                format!("{at} {level} {message}{details}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_carry_their_fields_and_human_lines_name_them() {
        let fields = serde_json::json!({"resources": 2});
        let json: serde_json::Value =
            serde_json::from_str(&Log(LogFormat::Json).format("info", "refreshed", &fields))
                .expect("JSON");
        assert_eq!(json["message"], "refreshed");
        assert_eq!(json["resources"], 2);
        let human = Log(LogFormat::Human).format("warn", "set aside", &fields);
        assert!(human.ends_with(" warn set aside resources=2"), "{human}");
    }
}
