//! API tokens: kept by the hash of their secret, with a scope, an optional
//! expiry, when each was last used and when it was revoked.

use super::{Database, SqlStore, args, first, ms, rows};
use crate::error::StoreError;
use crate::query::{ApiToken, TokenScope};
use chrono::{DateTime, Utc};

const COLUMNS: &str = "id, name, scope, created_at, expires_at, last_used_at, revoked_at";

/// The token scope stored in `column`.
pub(super) fn scope_at(r: &dyn super::Row, column: usize) -> Result<TokenScope, StoreError> {
    let scope = r.text(column)?;
    TokenScope::parse(&scope).ok_or_else(|| StoreError::UnknownName {
        database: r.database().to_owned(),
        what: "token scope",
        name: scope,
    })
}

impl<D: Database> SqlStore<D> {
    /// Every token, or the one with `hash`.
    fn list_tokens(&self, hash: Option<&str>) -> Result<Vec<ApiToken>, StoreError> {
        let read = |r: &dyn super::Row| {
            Ok(ApiToken {
                id: r.int(0)?,
                name: r.text(1)?,
                scope: scope_at(r, 2)?,
                created_at: r.time(3)?,
                expires_at: r.opt_time(4)?,
                last_used_at: r.opt_time(5)?,
                revoked_at: r.opt_time(6)?,
            })
        };
        match hash {
            Some(hash) => rows(
                &self.db,
                &format!("SELECT {COLUMNS} FROM api_tokens WHERE hash = ?1 ORDER BY id"),
                args![hash],
                read,
            ),
            None => rows(
                &self.db,
                &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id"),
                &[],
                read,
            ),
        }
    }
}

impl<D: Database> crate::roles::Tokens for SqlStore<D> {
    fn create_token(
        &mut self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<ApiToken, StoreError> {
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a token needs a name".to_owned()));
        }
        let id = first(
            &self.db,
            "INSERT INTO api_tokens (name, scope, hash, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
            args![name, scope.as_str(), hash, ms(now), expires_at.map(ms)],
            |r| r.int(0),
        )?
        .ok_or_else(|| StoreError::Invalid(format!("{}: no token id", self.db.name())))?;
        self.db.committed();
        Ok(ApiToken {
            id,
            name: name.to_owned(),
            scope,
            created_at: now,
            expires_at,
            last_used_at: None,
            revoked_at: None,
        })
    }

    fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.list_tokens(None)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        Ok(self.list_tokens(Some(hash))?.pop())
    }

    fn token_used(&mut self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.write(
            "UPDATE api_tokens SET last_used_at = ?1 WHERE id = ?2",
            args![ms(now), id],
        )?;
        Ok(())
    }

    fn revoke_token(&mut self, id: i64, now: DateTime<Utc>) -> Result<ApiToken, StoreError> {
        let changed = self.write(
            "UPDATE api_tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            args![ms(now), id],
        )?;
        let token = self
            .list_tokens(None)?
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
}
