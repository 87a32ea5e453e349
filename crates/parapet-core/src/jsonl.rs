//! The JSON Lines interchange format for assets: one asset document per line,
//! as described in `docs/assets.md`. Blank lines are skipped. A line that does
//! not parse, or gives the id of an asset on an earlier line, is reported
//! with its line number and does not stop the others.

use crate::asset::Asset;
use crate::error::{AssetError, JsonlError};
use std::io::{BufRead, Seek, Write};

/// Reads assets from `reader`, one per line. Each item is either an asset or
/// the error of one line; reading goes on after a bad line. Of two lines
/// with one id, the first is kept and the second is an error.
pub fn read_assets<'a, R: BufRead + 'a>(
    reader: R,
    source_name: &'a str,
) -> impl Iterator<Item = Result<Asset, JsonlError>> + 'a {
    read_located(reader, source_name).map(|(_, item)| item)
}

/// Where a line of the file starts: its byte offset and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    /// Bytes before it.
    pub offset: u64,
    /// The 1-based line number.
    pub line: usize,
}

/// [`read_assets`], each item with where its line starts, so that a
/// reader can come back for the line ([`read_line_at`]) rather than hold
/// its asset.
pub fn read_located<'a, R: BufRead + 'a>(
    mut reader: R,
    source_name: &'a str,
) -> impl Iterator<Item = (LineAt, Result<Asset, JsonlError>)> + 'a {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut at = LineAt { offset: 0, line: 0 };
    let mut bytes = Vec::new();
    let mut failed = false;
    std::iter::from_fn(move || {
        // A read that failed ends the reading: what follows cannot be
        // told apart.
        while !failed {
            bytes.clear();
            let here = LineAt {
                offset: at.offset,
                line: at.line + 1,
            };
            let read = match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return None,
                Ok(read) => read,
                Err(error) => {
                    failed = true;
                    return Some((here, Err(io_error(source_name, here.line, error))));
                }
            };
            at = LineAt {
                offset: at.offset + read as u64,
                line: here.line,
            };
            let item = match line_text(&bytes) {
                Err(error) => Err(io_error(source_name, here.line, error)),
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_line(text, source_name, here.line).and_then(|asset| {
                    match seen.get(asset.id.as_str()) {
                        Some(&first) => Err(JsonlError::Duplicate {
                            source_name: source_name.to_owned(),
                            line: here.line,
                            id: asset.id.clone(),
                            first,
                        }),
                        None => {
                            seen.insert(asset.id.clone(), here.line);
                            Ok(asset)
                        }
                    }
                }),
            };
            return Some((here, item));
        }
        None
    })
}

/// The asset on the line that starts at `at` of a file read before with
/// [`read_located`].
pub fn read_line_at<R: BufRead + Seek>(
    reader: &mut R,
    at: LineAt,
    source_name: &str,
) -> Result<Asset, JsonlError> {
    let mut bytes = Vec::new();
    // Relative to where the reader stands, so that a buffered reader keeps
    // its buffer when the line is in it (the next line, mostly).
    reader
        .stream_position()
        .and_then(|here| {
            let ahead = i64::try_from(at.offset).unwrap_or(i64::MAX)
                - i64::try_from(here).unwrap_or(i64::MAX);
            reader.seek_relative(ahead)
        })
        .and_then(|()| reader.read_until(b'\n', &mut bytes))
        .map_err(|error| io_error(source_name, at.line, error))?;
    let text = line_text(&bytes).map_err(|error| io_error(source_name, at.line, error))?;
    parse_line(text, source_name, at.line)
}

/// A line's text without its line ending, as [`BufRead::lines`] gives it.
fn line_text(bytes: &[u8]) -> std::io::Result<&str> {
    let text = std::str::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    Ok(text.strip_suffix('\r').unwrap_or(text))
}

fn io_error(source_name: &str, line: usize, error: std::io::Error) -> JsonlError {
    JsonlError::Io {
        source_name: source_name.to_owned(),
        line,
        error,
    }
}

/// Parses one line of the format.
pub fn parse_line(text: &str, source_name: &str, line: usize) -> Result<Asset, JsonlError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| JsonlError::Syntax {
        source_name: source_name.to_owned(),
        line,
        column: e.column(),
        message: without_position(&e.to_string()),
    })?;
    let id = value
        .get("id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?")
        .to_owned();
    serde_json::from_value::<Asset>(value).map_err(|e| {
        // Model violations come back as serde's custom errors; keep their text.
        JsonlError::Invalid {
            source_name: source_name.to_owned(),
            line,
            id,
            error: AssetError::Document(e.to_string()),
        }
    })
}

/// A parser's message without the "at line L column C" that serde_json and
/// YAML parsers end it with, for errors that already say `file:line:column`.
pub fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Writes assets as JSON Lines.
pub fn write_assets<'a, W: Write>(
    mut writer: W,
    assets: impl IntoIterator<Item = &'a Asset>,
) -> std::io::Result<()> {
    for asset in assets {
        serde_json::to_writer(&mut writer, asset)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"arn:aws:s3:::a","provider":"aws","account":"1","region":"us-east-1","resource_type":"AWS::S3::Bucket","config":{},"observed_at":"2026-01-01T00:00:00Z"}"#;

    #[test]
    fn reports_bad_lines_by_number_and_keeps_the_rest() {
        let input = format!(
            "{GOOD}\n\n{{not json\n{}\n{}\n",
            GOOD.replace("AWS::S3::Bucket", "AWS::S3"),
            GOOD.replace(":::a", ":::b")
        );
        let results: Vec<_> = read_assets(input.as_bytes(), "estate.jsonl").collect();
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok());
        let syntax = results[1].as_ref().expect_err("line 3 is not JSON");
        assert!(
            syntax
                .to_string()
                .starts_with("estate.jsonl:3:2: key must be a string"),
            "{syntax}"
        );
        let invalid = results[2].as_ref().expect_err("line 4 has a bad type");
        assert!(
            invalid
                .to_string()
                .starts_with("estate.jsonl:4: asset `arn:aws:s3:::a`: "),
            "{invalid}"
        );
        assert!(invalid.to_string().contains("AWS::S3"), "{invalid}");
        assert!(results[3].is_ok());
    }

    #[test]
    fn each_line_is_located_and_read_back_where_it_starts() {
        let other = GOOD.replace(":::a", ":::b");
        let mut input = format!("{GOOD}\r\n\n").into_bytes();
        input.extend_from_slice(b"\xff\xfe\n");
        input.extend_from_slice(format!("{other}\n{GOOD}").as_bytes());
        let located: Vec<_> = read_located(input.as_slice(), "estate.jsonl").collect();
        let lines: Vec<(u64, usize, bool)> = located
            .iter()
            .map(|(at, item)| (at.offset, at.line, item.is_ok()))
            .collect();
        let first = GOOD.len() as u64;
        assert_eq!(
            lines,
            [
                (0, 1, true),
                (first + 3, 3, false),
                (first + 6, 4, true),
                (first + 7 + other.len() as u64, 5, false),
            ]
        );
        let utf8 = located[1].1.as_ref().expect_err("not UTF-8").to_string();
        assert!(utf8.contains("line 3"), "{utf8}");
        let mut file = std::io::Cursor::new(input);
        for (at, item) in located.iter().filter(|(_, item)| item.is_ok()) {
            let again = read_line_at(&mut file, *at, "estate.jsonl").expect("read back");
            assert_eq!(&again, item.as_ref().expect("an asset"));
        }
    }

    #[test]
    fn a_second_line_with_an_assets_id_is_reported_with_both_line_numbers() {
        let other = GOOD.replace(":::a", ":::b");
        let input = format!("{GOOD}\n{other}\n\n{GOOD}\n{other}\n");
        let results: Vec<_> = read_assets(input.as_bytes(), "estate.jsonl").collect();
        let errors: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            errors,
            [
                "estate.jsonl:4: asset `arn:aws:s3:::a` is also on line 1; each asset appears once (the first is kept)",
                "estate.jsonl:5: asset `arn:aws:s3:::b` is also on line 2; each asset appears once (the first is kept)",
            ]
        );
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    }

    #[test]
    fn round_trips() {
        let asset = parse_line(GOOD, "x", 1).expect("valid");
        let mut out = Vec::new();
        write_assets(&mut out, [&asset]).expect("write");
        let back =
            parse_line(std::str::from_utf8(&out).expect("utf8").trim(), "x", 1).expect("re-read");
        assert_eq!(asset, back);
    }
}
