//! What a request carries, checked: query parameters against the list an
//! endpoint takes (an unknown filter is an error that lists the known ones,
//! never silently ignored), opaque paging cursors, and JSON bodies of a
//! bounded size.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// How many items a page holds unless `limit` says otherwise.
pub const DEFAULT_LIMIT: usize = 50;
/// The most items one page may hold.
pub const MAX_LIMIT: usize = 500;
/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// A request's query parameters, taken one by one by name.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Params, ApiError> {
        let mut values = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()) {
            if values.insert(key.to_string(), value.to_string()).is_some() {
                return Err(ApiError::parameter(format!(
                    "`{key}` is given twice; give it once (lists are comma-separated)"
                )));
            }
        }
        Ok(Params { values })
    }
}

impl Params {
    /// Refuses any parameter not in `known`, naming the known ones.
    pub fn only(self, known: &[&str]) -> Result<Params, ApiError> {
        if let Some(unknown) = self.values.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(ApiError::parameter(format!(
                "unknown parameter `{unknown}`; this endpoint takes {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        Ok(self)
    }

    /// A text parameter; empty counts as absent.
    pub fn text(&self, name: &str) -> Option<String> {
        self.values.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A comma-separated list (empty when absent).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.text(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A comma-separated list of names, each read by `parse`; empty when
    /// absent, an error when given empty.
    pub fn names<T>(
        &self,
        name: &str,
        allowed: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, ApiError> {
        let Some(text) = self.typed(name)? else {
            return Ok(Vec::new());
        };
        text.split(',')
            .map(|v| {
                parse(v.trim()).ok_or_else(|| {
                    ApiError::parameter(format!("`{name}`: `{v}` is not one of {allowed}"))
                })
            })
            .collect()
    }

    /// One name, read by `parse`.
    pub fn name<T>(
        &self,
        name: &str,
        allowed: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        self.typed(name)?
            .map(|v| {
                parse(&v).ok_or_else(|| {
                    ApiError::parameter(format!("`{name}`: `{v}` is not one of {allowed}"))
                })
            })
            .transpose()
    }

    /// A typed parameter's text: absent, or not empty.
    fn typed(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.values.get(name) {
            Some(v) if v.is_empty() => Err(ApiError::parameter(format!(
                "`{name}` is empty; give a value or leave it out"
            ))),
            other => Ok(other.cloned()),
        }
    }

    /// A true/false parameter, false when absent.
    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.typed(name)?.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::parameter(format!(
                "`{name}`: `{other}` is not `true` or `false`"
            ))),
        }
    }

    /// A time in RFC 3339 (`2026-11-30T12:00:00Z`).
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.typed(name)?
            .map(|v| {
                DateTime::parse_from_rfc3339(&v)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| {
                        ApiError::parameter(format!(
                            "`{name}`: `{v}` is not an RFC 3339 time such as 2026-11-30T12:00:00Z: {e}"
                        ))
                    })
            })
            .transpose()
    }

    /// A whole number.
    pub fn number(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.typed(name)?
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::parameter(format!("`{name}`: `{v}` is not a whole number"))
                })
            })
            .transpose()
    }

    /// The page size: `limit`, 1 to [`MAX_LIMIT`].
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.number("limit")? {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => Ok(n as usize),
            Some(n) => Err(ApiError::parameter(format!(
                "`limit`: {n} is out of range; give 1 to {MAX_LIMIT}"
            ))),
        }
    }

    /// The position `cursor` continues from, for a listing of `kind`.
    pub fn cursor<T: DeserializeOwned>(&self, kind: &str) -> Result<Option<T>, ApiError> {
        let Some(text) = self.text("cursor") else {
            return Ok(None);
        };
        let bad = || {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_cursor",
                format!(
                    "`cursor` is not a cursor of this {kind} listing; pass `next_cursor` from the previous page as it was given"
                ),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text.as_bytes()).map_err(|_| bad())?;
        let (k, value): (String, T) = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if k != kind {
            return Err(bad());
        }
        Ok(Some(value))
    }
}

/// The cursor that continues a listing of `kind` after `position`.
pub fn cursor(kind: &str, position: &impl Serialize) -> String {
    let text = serde_json::to_vec(&(kind, position)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(text)
}

/// One page of a listing.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page of `items` fetched with `limit`: there is a next page when it
    /// is full, continuing after the last item's `position`.
    pub fn of<P: Serialize>(
        items: Vec<T>,
        limit: usize,
        kind: &str,
        position: impl Fn(&T) -> P,
    ) -> Page<T> {
        let next_cursor = (items.len() == limit)
            .then(|| items.last().map(|last| cursor(kind, &position(last))))
            .flatten();
        Page { items, next_cursor }
    }
}

/// A path parameter of type `T`; a malformed one is a clear 400.
#[derive(Debug)]
pub struct PathParam<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<PathParam<T>, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| PathParam(p.0))
            .map_err(|e| ApiError::parameter(format!("the path is not valid: {}", e.body_text())))
    }
}

/// A JSON request body, at most [`MAX_BODY`] bytes, of type `T`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Body<T>, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be JSON, sent with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body is larger than {MAX_BODY} bytes"),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError::body(format!("the body is not valid: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params {
            values: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn unknown_parameters_are_refused_with_the_known_ones() {
        let e = params(&[("acount", "1")])
            .only(&["account", "region"])
            .expect_err("unknown");
        assert_eq!(
            e.message,
            "unknown parameter `acount`; this endpoint takes `account`, `region`"
        );
    }

    #[test]
    fn cursors_round_trip_and_belong_to_one_listing() {
        let c = cursor("assets", &"arn:aws:s3:::b");
        let p = params(&[("cursor", &c)]);
        assert_eq!(
            p.cursor::<String>("assets").expect("valid"),
            Some("arn:aws:s3:::b".to_owned())
        );
        assert_eq!(
            p.cursor::<String>("events").expect_err("other").code,
            "invalid_cursor"
        );
        let bad = params(&[("cursor", "not base64!")]);
        assert_eq!(
            bad.cursor::<String>("assets").expect_err("bad").code,
            "invalid_cursor"
        );
    }

    #[test]
    fn typed_parameters_may_not_be_empty() {
        assert!(params(&[("until", "")]).time("until").is_err());
        assert!(params(&[("limit", "")]).limit().is_err());
        assert!(params(&[("account", "")]).text("account").is_none());
    }

    #[test]
    fn limits_and_times_are_checked() {
        assert_eq!(params(&[]).limit().expect("default"), DEFAULT_LIMIT);
        assert!(params(&[("limit", "0")]).limit().is_err());
        assert!(params(&[("limit", "501")]).limit().is_err());
        assert!(params(&[("limit", "ten")]).limit().is_err());
        assert!(params(&[("since", "yesterday")]).time("since").is_err());
        let at = params(&[("since", "2026-11-30T12:00:00+01:00")]).time("since");
        assert_eq!(
            at.expect("valid").map(|t| t.to_rfc3339()),
            Some("2026-11-30T11:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn pages_have_a_next_cursor_only_when_full() {
        let full = Page::of(vec![1, 2], 2, "n", |n| *n);
        assert!(full.next_cursor.is_some());
        let last = Page::of(vec![1], 2, "n", |n| *n);
        assert!(last.next_cursor.is_none());
    }
}
