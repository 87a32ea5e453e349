//! Browser sessions and OpenID Connect logins in progress, kept by hashes
//! only, each table bounded: expired rows go with every new one, and past
//! the bound the oldest make room.

use super::{Database, SqlStore, args, first, ms, rows};
use crate::error::StoreError;
use crate::query::WebSession;
use crate::roles::WebSessions;
use chrono::{DateTime, Utc};

/// How many browser sessions are kept at most.
pub const MAX_SESSIONS: i64 = 100_000;
/// How many logins in progress are kept at most.
pub const MAX_LOGINS: i64 = 10_000;

impl<D: Database> SqlStore<D> {
    /// Removes the rows of `table` that expired by `now`, and those past
    /// the newest `max`.
    fn bound(&self, table: &str, max: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.db.execute(
            &format!(
                "DELETE FROM {table} WHERE expires_at <= ?1 OR expires_at < \
                 (SELECT expires_at FROM {table} ORDER BY expires_at DESC LIMIT 1 OFFSET ?2)"
            ),
            args![ms(now), max],
        )?;
        Ok(())
    }
}

impl<D: Database> WebSessions for SqlStore<D> {
    fn start_session(
        &mut self,
        id_hash: &str,
        session: &WebSession,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO web_sessions (id_hash, name, scope, token_hash, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![
                id_hash,
                session.name.as_str(),
                session.scope.as_str(),
                session.token_hash.as_deref(),
                ms(session.expires_at)
            ],
        )?;
        self.bound("web_sessions", MAX_SESSIONS, now)?;
        self.db.committed();
        Ok(())
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<WebSession>, StoreError> {
        first(
            &self.db,
            "SELECT name, scope, token_hash, expires_at FROM web_sessions WHERE id_hash = ?1 AND expires_at > ?2",
            args![id_hash, ms(now)],
            |r| {
                Ok(WebSession {
                    name: r.text(0)?,
                    scope: super::tokens::scope_at(r, 1)?,
                    token_hash: r.opt_text(2)?,
                    expires_at: r.time(3)?,
                })
            },
        )
    }

    fn end_session(&mut self, id_hash: &str) -> Result<(), StoreError> {
        self.write(
            "DELETE FROM web_sessions WHERE id_hash = ?1",
            args![id_hash],
        )?;
        Ok(())
    }

    fn start_login(
        &mut self,
        state_hash: &str,
        binding_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db.execute(
            "INSERT INTO oidc_logins (state_hash, binding_hash, expires_at) VALUES (?1, ?2, ?3)",
            args![state_hash, binding_hash, ms(expires_at)],
        )?;
        self.bound("oidc_logins", MAX_LOGINS, now)?;
        self.db.committed();
        Ok(())
    }

    fn take_login(
        &mut self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let taken = rows(
            &self.db,
            "DELETE FROM oidc_logins WHERE state_hash = ?1 RETURNING binding_hash, expires_at",
            args![state_hash],
            |r| Ok((r.text(0)?, r.int(1)?)),
        )?;
        self.db.committed();
        Ok(taken
            .into_iter()
            .find(|(_, expires)| *expires > ms(now))
            .map(|(binding, _)| binding))
    }
}
