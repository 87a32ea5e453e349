//! API tokens: kept by the hash of their secret, with a scope, an optional
//! expiry, when each was last used and when it was revoked.

use super::{AtPath, ms, time};
use crate::error::StoreError;
use crate::query::{ApiToken, TokenScope};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use std::path::Path;

const COLUMNS: &str = "id, name, scope, created_at, expires_at, last_used_at, revoked_at";

/// Records a token.
fn create(
    conn: &Connection,
    path: &Path,
    name: &str,
    scope: TokenScope,
    hash: &str,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<ApiToken, StoreError> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid("a token needs a name".to_owned()));
    }
    conn.execute(
        "INSERT INTO api_tokens (name, scope, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, scope.as_str(), hash, ms(now), expires_at.map(ms)],
    )
    .at(path)?;
    Ok(ApiToken {
        id: conn.last_insert_rowid(),
        name: name.to_owned(),
        scope,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    })
}

/// Every token, or the one with `hash`.
fn list(conn: &Connection, path: &Path, hash: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE ?1 IS NULL OR hash = ?1 ORDER BY id"
        ))
        .at(path)?;
    let rows = stmt
        .query_map(params![hash], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })
        .at(path)?
        .collect::<Result<Vec<_>, _>>()
        .at(path)?;
    rows.into_iter()
        .map(|(id, name, scope, created, expires, used, revoked)| {
            Ok(ApiToken {
                id,
                name,
                scope: TokenScope::parse(&scope).ok_or_else(|| StoreError::UnknownName {
                    path: path.to_owned(),
                    what: "token scope",
                    name: scope.clone(),
                })?,
                created_at: time(created),
                expires_at: expires.map(time),
                last_used_at: used.map(time),
                revoked_at: revoked.map(time),
            })
        })
        .collect()
}

/// Records a use.
fn used(conn: &Connection, path: &Path, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
        params![ms(now), id],
    )
    .at(path)?;
    Ok(())
}

/// Revokes a token.
fn revoke(
    conn: &Connection,
    path: &Path,
    id: i64,
    now: DateTime<Utc>,
) -> Result<ApiToken, StoreError> {
    let changed = conn
        .execute(
            "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![ms(now), id],
        )
        .at(path)?;
    let token = list(conn, path, None)?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| StoreError::NotFound(format!("no token {id}")))?;
    if changed == 0 {
        return Err(StoreError::Invalid(format!(
            "token {id} was already revoked"
        )));
    }
    Ok(token)
}

impl crate::roles::Tokens for super::SqliteStore {
    fn create_token(
        &mut self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError> {
        let token = create(&self.conn, &self.path, name, scope, hash, expires_at, now)?;
        self.committed();
        Ok(token)
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        list(&self.conn, &self.path, None)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        Ok(list(&self.conn, &self.path, Some(hash))?.pop())
    }

    fn token_used(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        used(&self.conn, &self.path, id, now)?;
        self.committed();
        Ok(())
    }

    fn revoke_token(&mut self, id: i64, now: DateTime<Utc>) -> Result<ApiToken, StoreError> {
        let token = revoke(&self.conn, &self.path, id, now)?;
        self.committed();
        Ok(token)
    }
}
