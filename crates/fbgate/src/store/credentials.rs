//! Queries on `credentials`: encrypted Facebook tokens and their health.

use time::OffsetDateTime;

use super::{Store, StoreError, with_pool};

/// A row of `credentials`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CredentialRow {
    /// `crd_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The provider whose app issued the token.
    pub provider_id: String,
    /// `user` (an fbgate user's identity), `tenant_user`, `page` or `installation`.
    pub owner_kind: String,
    /// The address `credentials/get` finds it by (see `domain::credentials::Address`); unique
    /// per environment and provider.
    pub owner_key: String,
    /// The app's tenant, for tenant users, their pages and installations.
    pub tenant_id: Option<String>,
    /// The app's own user id, for tenant users and their pages.
    pub external_user_id: Option<String>,
    /// The connection, for tenant users and their pages.
    pub connection_id: Option<String>,
    /// The page, for `page` credentials.
    pub page_id: Option<String>,
    /// A page credential's user credential.
    pub parent_id: Option<String>,
    /// The fbgate user, for `user` credentials.
    pub user_id: Option<String>,
    /// The identity, for `user` credentials.
    pub identity_id: Option<String>,
    /// The Facebook id the token acts as.
    pub facebook_id: String,
    /// The sealed token.
    pub token_ciphertext: Vec<u8>,
    /// Which data key sealed it.
    pub key_scope: String,
    /// `user`, `page` or `system_user`.
    pub token_type: String,
    /// When Facebook issued it.
    pub issued_at: OffsetDateTime,
    /// When it expires; `None` = never.
    pub expires_at: Option<OffsetDateTime>,
    /// When data access expires.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// Granted permissions (JSON array).
    pub scopes: String,
    /// `active`, `expiring`, `expired`, `revoked`, `invalid`.
    pub status: String,
    /// Why, for the last three.
    pub status_reason: Option<String>,
    /// Last health check.
    pub last_checked_at: Option<OffsetDateTime>,
    /// When the health job should check it next (`None`: as soon as it can).
    pub next_check_at: Option<OffsetDateTime>,
    /// Bumped whenever the token changes; part of the AAD.
    pub version: i64,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// The columns of a [`CredentialRow`] in field order, each after `$t`: a table alias with its dot
/// (`"u."`), or `""`. The one list behind every SELECT of the table and [`credential_at!`].
macro_rules! columns {
    ($t:literal) => {
        concat!(
            $t,
            "id, ",
            $t,
            "environment_id, ",
            $t,
            "provider_id, ",
            $t,
            "owner_kind, ",
            $t,
            "owner_key, ",
            $t,
            "tenant_id, ",
            $t,
            "external_user_id, ",
            $t,
            "connection_id, ",
            $t,
            "page_id, ",
            $t,
            "parent_id, ",
            $t,
            "user_id, ",
            $t,
            "identity_id, ",
            $t,
            "facebook_id, ",
            $t,
            "token_ciphertext, ",
            $t,
            "key_scope, ",
            $t,
            "token_type, ",
            $t,
            "issued_at, ",
            $t,
            "expires_at, ",
            $t,
            "data_access_expires_at, ",
            $t,
            "scopes, ",
            $t,
            "status, ",
            $t,
            "status_reason, ",
            $t,
            "last_checked_at, ",
            $t,
            "next_check_at, ",
            $t,
            "version, ",
            $t,
            "created_at, ",
            $t,
            "updated_at"
        )
    };
}
pub(crate) use columns;

/// Reads a [`CredentialRow`] from `$row` (any engine's row), whose columns from index `$at` on are
/// [`columns!`]'s: for reads that join it with other tables.
macro_rules! credential_at {
    ($row:expr, $at:expr) => {{
        use sqlx::Row as _;
        let at: usize = $at;
        $crate::store::CredentialRow {
            id: $row.try_get(at)?,
            environment_id: $row.try_get(at + 1)?,
            provider_id: $row.try_get(at + 2)?,
            owner_kind: $row.try_get(at + 3)?,
            owner_key: $row.try_get(at + 4)?,
            tenant_id: $row.try_get(at + 5)?,
            external_user_id: $row.try_get(at + 6)?,
            connection_id: $row.try_get(at + 7)?,
            page_id: $row.try_get(at + 8)?,
            parent_id: $row.try_get(at + 9)?,
            user_id: $row.try_get(at + 10)?,
            identity_id: $row.try_get(at + 11)?,
            facebook_id: $row.try_get(at + 12)?,
            token_ciphertext: $row.try_get(at + 13)?,
            key_scope: $row.try_get(at + 14)?,
            token_type: $row.try_get(at + 15)?,
            issued_at: $row.try_get(at + 16)?,
            expires_at: $row.try_get(at + 17)?,
            data_access_expires_at: $row.try_get(at + 18)?,
            scopes: $row.try_get(at + 19)?,
            status: $row.try_get(at + 20)?,
            status_reason: $row.try_get(at + 21)?,
            last_checked_at: $row.try_get(at + 22)?,
            next_check_at: $row.try_get(at + 23)?,
            version: $row.try_get(at + 24)?,
            created_at: $row.try_get(at + 25)?,
            updated_at: $row.try_get(at + 26)?,
        }
    }};
}
pub(crate) use credential_at;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            $crate::store::credentials::columns!(""),
            " FROM credentials ",
            $rest
        )
    };
}
pub(super) use select;

/// The query reading the credential of an fbgate user's identity.
macro_rules! identity_credential {
    ($identity_id:expr) => {
        sqlx::query_as::<_, $crate::store::CredentialRow>($crate::store::credentials::select!(
            "WHERE identity_id = $1 AND owner_kind = 'user'"
        ))
        .bind($identity_id)
    };
}

/// INSERT of one credential row (used inside the sign-in transaction).
macro_rules! insert_credential {
    ($c:expr) => {
        sqlx::query(
            "INSERT INTO credentials (id, environment_id, provider_id, owner_kind, owner_key,
                tenant_id, external_user_id, connection_id, page_id, parent_id, user_id, identity_id,
                facebook_id, token_ciphertext, key_scope, token_type, issued_at, expires_at,
                data_access_expires_at, scopes, status, status_reason, last_checked_at,
                next_check_at, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)",
        )
        .bind(&$c.id)
        .bind(&$c.environment_id)
        .bind(&$c.provider_id)
        .bind(&$c.owner_kind)
        .bind(&$c.owner_key)
        .bind(&$c.tenant_id)
        .bind(&$c.external_user_id)
        .bind(&$c.connection_id)
        .bind(&$c.page_id)
        .bind(&$c.parent_id)
        .bind(&$c.user_id)
        .bind(&$c.identity_id)
        .bind(&$c.facebook_id)
        .bind(&$c.token_ciphertext)
        .bind(&$c.key_scope)
        .bind(&$c.token_type)
        .bind($c.issued_at)
        .bind($c.expires_at)
        .bind($c.data_access_expires_at)
        .bind(&$c.scopes)
        .bind(&$c.status)
        .bind(&$c.status_reason)
        .bind($c.last_checked_at)
        .bind($c.next_check_at)
        .bind($c.version)
        .bind($c.created_at)
        .bind($c.updated_at)
    };
}
pub(super) use insert_credential;

/// UPDATE of a credential's token and health, guarded by its previous version.
macro_rules! replace_credential_token {
    ($c:expr, $previous_version:expr) => {
        sqlx::query(
            "UPDATE credentials SET facebook_id = $1, token_ciphertext = $2, key_scope = $3,
                token_type = $4, issued_at = $5, expires_at = $6, data_access_expires_at = $7,
                scopes = $8, status = $9, status_reason = $10, last_checked_at = $11, version = $12,
                updated_at = $13, next_check_at = $14, check_lease_owner = NULL,
                check_lease_expires_at = NULL
             WHERE id = $15 AND version = $16",
        )
        .bind(&$c.facebook_id)
        .bind(&$c.token_ciphertext)
        .bind(&$c.key_scope)
        .bind(&$c.token_type)
        .bind($c.issued_at)
        .bind($c.expires_at)
        .bind($c.data_access_expires_at)
        .bind(&$c.scopes)
        .bind(&$c.status)
        .bind(&$c.status_reason)
        .bind($c.last_checked_at)
        .bind($c.version)
        .bind($c.updated_at)
        .bind($c.next_check_at)
        .bind(&$c.id)
        .bind($previous_version)
    };
}
pub(super) use replace_credential_token;

impl Store {
    /// The credential stored for an identity.
    pub async fn credential_for_identity(
        &self,
        identity_id: &str,
    ) -> Result<Option<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            identity_credential!(identity_id).fetch_optional(pool).await?
        }))
    }

    /// The credential at an address (the `credentials/get` hot path: one indexed read).
    pub async fn credential_at(
        &self,
        environment_id: &str,
        provider_id: &str,
        owner_key: &str,
    ) -> Result<Option<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!(
                "WHERE environment_id = $1 AND provider_id = $2 AND owner_key = $3"
            ))
            .bind(environment_id)
            .bind(provider_id)
            .bind(owner_key)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Deletes every credential of an fbgate user (tokens destroyed, not just marked).
    pub async fn delete_user_credentials(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM credentials WHERE environment_id = $1 AND user_id = $2")
                .bind(environment_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
