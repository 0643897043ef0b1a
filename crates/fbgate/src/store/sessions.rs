//! Queries on `sessions` and `signing_keys`.

use time::OffsetDateTime;

use super::{Store, StoreError, conflict_on_unique, with_pool};

/// A row of `sessions`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// `ses_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// SHA-256 of the session token.
    pub token_hash: Vec<u8>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// The session ends at this time even if never revoked.
    pub expires_at: OffsetDateTime,
    /// Set when revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A row of `signing_keys`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    /// The JWS `kid`.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// `ES256`.
    pub algorithm: String,
    /// Sealed PKCS#8 private key.
    pub private_key: Vec<u8>,
    /// Public JWK, JSON text.
    pub public_jwk: String,
    /// Whether new tokens are signed with it.
    pub active: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

macro_rules! select_sessions {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, user_id, token_hash, created_at, expires_at, revoked_at FROM sessions ",
            $rest
        )
    };
}

macro_rules! select_signing_keys {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, algorithm, private_key, public_jwk, active, created_at FROM signing_keys ",
            $rest
        )
    };
}

/// The INSERT of one session.
macro_rules! insert_session {
    ($session:expr) => {
        sqlx::query(
            "INSERT INTO sessions (id, environment_id, user_id, token_hash, created_at, expires_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$session.id)
        .bind(&$session.environment_id)
        .bind(&$session.user_id)
        .bind(&$session.token_hash)
        .bind($session.created_at)
        .bind($session.expires_at)
        .bind($session.revoked_at)
    };
}
pub(super) use insert_session;

impl Store {
    /// Inserts a session.
    pub async fn insert_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            insert_session!(session).execute(pool).await?;
        });
        Ok(())
    }

    /// Finds a session by the SHA-256 of its token.
    pub async fn find_session_by_hash(
        &self,
        hash: &[u8],
    ) -> Result<Option<SessionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_sessions!("WHERE token_hash = $1"))
                .bind(hash)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Reads a session of an environment.
    pub async fn get_session(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_sessions!("WHERE environment_id = $1 AND id = $2"))
                .bind(environment_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Revokes a session (idempotent); false when no such session exists in the environment.
    pub async fn revoke_session(
        &self,
        environment_id: &str,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $1)
                 WHERE environment_id = $2 AND id = $3",
            )
            .bind(now)
            .bind(environment_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// The key that signs new session JWTs of an environment.
    pub async fn active_signing_key(
        &self,
        environment_id: &str,
    ) -> Result<Option<SigningKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_signing_keys!("WHERE environment_id = $1 AND active"))
                .bind(environment_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Every signing key of an environment (the JWKS publishes all of them).
    pub async fn list_signing_keys(
        &self,
        environment_id: &str,
    ) -> Result<Vec<SigningKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_signing_keys!("WHERE environment_id = $1 ORDER BY created_at"))
                .bind(environment_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Stores a new active signing key; `Conflict` when another request made one first.
    pub async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO signing_keys (id, environment_id, algorithm, private_key, public_jwk, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&key.id)
            .bind(&key.environment_id)
            .bind(&key.algorithm)
            .bind(&key.private_key)
            .bind(&key.public_jwk)
            .bind(key.active)
            .bind(key.created_at)
            .execute(pool)
            .await
            .map_err(conflict_on_unique("active signing key"))?;
        });
        Ok(())
    }
}
