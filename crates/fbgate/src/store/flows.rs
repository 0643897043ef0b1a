//! Queries on `auth_attempts` (browser flows in progress) and `sign_in_codes`.

use time::OffsetDateTime;

use super::credentials::{insert_credential, replace_credential_token};
use super::sessions::insert_session;
use super::users::insert_user;
use super::{
    CredentialRow, IdentityRow, SessionRow, Store, StoreError, UserRow, conflict_on_unique,
    with_pool,
};

/// A row of `auth_attempts`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthAttemptRow {
    /// `att_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The provider the flow goes through.
    pub provider_id: String,
    /// SHA-256 of `state`.
    pub state_hash: Vec<u8>,
    /// SHA-256 of the browser-binding cookie.
    pub browser_hash: Vec<u8>,
    /// `sign_in`, `link`, `connect`.
    pub flow: String,
    /// Sealed PKCE verifier.
    pub pkce_verifier: Vec<u8>,
    /// Where the browser returns (validated when the flow started).
    pub redirect_to: String,
    /// For `link`: the user.
    pub user_id: Option<String>,
    /// For `connect`: the connect session that started it.
    pub connect_session_id: Option<String>,
    /// Requested permissions (JSON array).
    pub scopes: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// The state is refused after this.
    pub expires_at: OffsetDateTime,
    /// Set on first use.
    pub used_at: Option<OffsetDateTime>,
}

/// A row of `sign_in_codes`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInCodeRow {
    /// SHA-256 of the code.
    pub code_hash: Vec<u8>,
    /// Owning environment.
    pub environment_id: String,
    /// The signed-in user.
    pub user_id: String,
    /// The identity used.
    pub identity_id: String,
    /// Whether this sign-in created the user.
    pub is_new_user: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Refused after this.
    pub expires_at: OffsetDateTime,
    /// Set on use.
    pub used_at: Option<OffsetDateTime>,
}

/// Everything a successful browser sign-in writes, in one transaction.
#[derive(Debug)]
pub struct SignInWrite<'a> {
    /// The user, and whether to insert it (else update).
    pub user: &'a UserRow,
    /// True when the user is new.
    pub new_user: bool,
    /// The identity, and whether to insert it (else update).
    pub identity: &'a IdentityRow,
    /// True when the identity is new.
    pub new_identity: bool,
    /// The credential, and the version it replaces (`None`: insert); no credential at all for
    /// a sign-in that brought no token (Limited Login), which leaves a stored one untouched.
    pub credential: Option<&'a CredentialRow>,
    /// Version of the stored credential being replaced.
    pub replaces_version: Option<i64>,
    /// The one-time code for the app (none when linking: the app already has its user).
    pub code: Option<&'a SignInCodeRow>,
    /// Webhook events announcing this change (`user.created`, …), recorded with it.
    pub events: Vec<super::OutboxEventRow>,
}

/// What a sign-in finds stored about the person: their identity at the provider, its user,
/// and its credential (all `None` for a newcomer).
#[derive(Debug, Default)]
pub struct SignInSubject {
    /// The identity of the Facebook user at the provider.
    pub identity: Option<IdentityRow>,
    /// Its user.
    pub user: Option<UserRow>,
    /// Its stored token.
    pub credential: Option<CredentialRow>,
}

/// A one-time sign-in code just used, with what it names.
#[derive(Debug)]
pub struct RedeemedCode {
    /// The code, now marked used.
    pub code: SignInCodeRow,
    /// Its user (`None` if deleted since).
    pub user: Option<UserRow>,
    /// Its identity (`None` if unlinked since).
    pub identity: Option<IdentityRow>,
    /// The identity's stored token.
    pub credential: Option<CredentialRow>,
    /// The session started for the user (`None` when the user or identity is gone).
    pub session: Option<SessionRow>,
}

/// A person's identity, user and stored token side by side, for the joined reads of the sign-in
/// below: identities as `i`, users as `u`, credentials as `c`.
macro_rules! subject_columns {
    () => {
        concat!(
            $crate::store::identities::columns!("i."),
            ", ",
            $crate::store::users::columns!("u."),
            ", ",
            $crate::store::credentials::columns!("c.")
        )
    };
}

/// Reads a row of [`subject_columns!`] into `(identity, user, credential)`; each is `None` where
/// its LEFT JOIN found nothing (its id column is NULL).
macro_rules! read_subject {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = &$row;
        let user_at = super::identities::COLUMNS;
        let credential_at = user_at + super::users::COLUMNS;
        let present = |at: usize| {
            row.try_get::<Option<String>, usize>(at)
                .map(|id| id.is_some())
        };
        let identity = if present(0)? {
            Some(super::identities::identity_at!(row, 0))
        } else {
            None
        };
        let user = if present(user_at)? {
            Some(super::users::user_at!(row, user_at))
        } else {
            None
        };
        let credential = if present(credential_at)? {
            Some(super::credentials::credential_at!(row, credential_at))
        } else {
            None
        };
        (identity, user, credential)
    }};
}

/// The columns of an [`AuthAttemptRow`], for SELECT and RETURNING.
macro_rules! attempt_columns {
    () => {
        "id, environment_id, provider_id, state_hash, browser_hash, flow, pkce_verifier, \
         redirect_to, user_id, connect_session_id, scopes, created_at, expires_at, used_at"
    };
}

macro_rules! select_attempts {
    ($rest:literal) => {
        concat!("SELECT ", attempt_columns!(), " FROM auth_attempts ", $rest)
    };
}

impl Store {
    /// Records a flow that just sent a browser to Facebook.
    pub async fn insert_auth_attempt(&self, attempt: &AuthAttemptRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO auth_attempts (id, environment_id, provider_id, state_hash, browser_hash, flow,
                    pkce_verifier, redirect_to, user_id, connect_session_id, scopes, created_at,
                    expires_at, used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&attempt.id)
            .bind(&attempt.environment_id)
            .bind(&attempt.provider_id)
            .bind(&attempt.state_hash)
            .bind(&attempt.browser_hash)
            .bind(&attempt.flow)
            .bind(&attempt.pkce_verifier)
            .bind(&attempt.redirect_to)
            .bind(&attempt.user_id)
            .bind(&attempt.connect_session_id)
            .bind(&attempt.scopes)
            .bind(attempt.created_at)
            .bind(attempt.expires_at)
            .bind(attempt.used_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Finds a flow by the SHA-256 of its state.
    pub async fn find_auth_attempt(
        &self,
        state_hash: &[u8],
    ) -> Result<Option<AuthAttemptRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_attempts!("WHERE state_hash = $1"))
                .bind(state_hash)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Marks a flow used and returns it, in one statement, when everything about the callback
    /// checks out: the state is known, unused and unexpired, the browser-binding hash matches,
    /// and the callback came to the URL of the flow's own provider. `None` otherwise (then
    /// [`Store::find_auth_attempt`] tells why) or when a concurrent duplicate won. The binding
    /// is compared as a SHA-256 digest of a 256-bit random cookie, like every lookup by token
    /// hash: timing can reveal nothing about the cookie itself.
    pub async fn claim_auth_attempt(
        &self,
        state_hash: &[u8],
        browser_hash: &[u8],
        provider_slug: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AuthAttemptRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(concat!(
                "UPDATE auth_attempts SET used_at = $1
                 WHERE state_hash = $2 AND used_at IS NULL AND expires_at > $1
                   AND browser_hash = $3
                   AND EXISTS (SELECT 1 FROM oauth_providers
                               WHERE oauth_providers.id = auth_attempts.provider_id
                                 AND oauth_providers.slug = $4)
                 RETURNING ",
                attempt_columns!()
            ))
            .bind(now)
            .bind(state_hash)
            .bind(browser_hash)
            .bind(provider_slug)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Deletes flows that expired before `cutoff` (housekeeping).
    pub async fn delete_expired_auth_attempts(
        &self,
        cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM auth_attempts WHERE expires_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Writes the user, identity, credential and one-time code of a sign-in atomically.
    pub async fn complete_sign_in(&self, write: &SignInWrite<'_>) -> Result<(), StoreError> {
        let (user, identity, credential, code) =
            (write.user, write.identity, write.credential, write.code);
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            if write.new_user {
                insert_user!(user).execute(&mut *tx).await?;
            } else {
                sqlx::query(
                    "UPDATE users SET email = $1, first_name = $2, last_name = $3, name = $4,
                        profile_image_url = $5, updated_at = $6, last_sign_in_at = $7
                     WHERE id = $8",
                )
                .bind(&user.email)
                .bind(&user.first_name)
                .bind(&user.last_name)
                .bind(&user.name)
                .bind(&user.profile_image_url)
                .bind(user.updated_at)
                .bind(user.last_sign_in_at)
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
            }
            if write.new_identity {
                sqlx::query(
                    "INSERT INTO identities (id, environment_id, user_id, provider_id, provider_user_id,
                        raw_profile, granted_scopes, declined_scopes, linked_at, synced_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&identity.id)
                .bind(&identity.environment_id)
                .bind(&identity.user_id)
                .bind(&identity.provider_id)
                .bind(&identity.provider_user_id)
                .bind(&identity.raw_profile)
                .bind(&identity.granted_scopes)
                .bind(&identity.declined_scopes)
                .bind(identity.linked_at)
                .bind(identity.synced_at)
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique("identity"))?;
            } else {
                sqlx::query(
                    "UPDATE identities SET raw_profile = $1, granted_scopes = $2, declined_scopes = $3,
                        synced_at = $4
                     WHERE id = $5",
                )
                .bind(&identity.raw_profile)
                .bind(&identity.granted_scopes)
                .bind(&identity.declined_scopes)
                .bind(identity.synced_at)
                .bind(&identity.id)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(credential) = credential {
                match write.replaces_version {
                    None => {
                        insert_credential!(credential)
                            .execute(&mut *tx)
                            .await
                            .map_err(conflict_on_unique("credential"))?;
                    }
                    Some(previous) => {
                        let replaced = replace_credential_token!(credential, previous)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if replaced != 1 {
                            return Err(StoreError::Conflict("credential version"));
                        }
                    }
                }
            }
            if let Some(code) = code {
                sqlx::query(
                    "INSERT INTO sign_in_codes (code_hash, environment_id, user_id, identity_id, is_new_user,
                        created_at, expires_at, used_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&code.code_hash)
                .bind(&code.environment_id)
                .bind(&code.user_id)
                .bind(&code.identity_id)
                .bind(code.is_new_user)
                .bind(code.created_at)
                .bind(code.expires_at)
                .bind(code.used_at)
                .execute(&mut *tx)
                .await?;
            }
            for event in &write.events {
                super::outbox::record_event!(tx, event);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The identity of a Facebook user at a provider, with its user and credential: read on one
    /// pooled connection, since these reads always come together.
    pub async fn sign_in_subject(
        &self,
        provider_id: &str,
        provider_user_id: &str,
    ) -> Result<SignInSubject, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let row = sqlx::query(concat!(
                "SELECT ",
                subject_columns!(),
                " FROM identities i
                 LEFT JOIN users u ON u.environment_id = i.environment_id AND u.id = i.user_id
                 LEFT JOIN credentials c ON c.identity_id = i.id AND c.owner_kind = 'user'
                 WHERE i.provider_id = $1 AND i.provider_user_id = $2"
            ))
            .bind(provider_id)
            .bind(provider_user_id)
            .fetch_optional(pool)
            .await?;
            match row {
                None => SignInSubject::default(),
                Some(row) => {
                    let (identity, user, credential) = read_subject!(row);
                    SignInSubject {
                        identity,
                        user,
                        credential,
                    }
                }
            }
        }))
    }

    /// Uses a one-time sign-in code, reads what it names (user, identity, credential) and, when
    /// both user and identity still exist, stores the session that `new_session` makes for the
    /// code's user: all on one pooled connection. `None` when the code is unknown, used or
    /// expired.
    pub async fn redeem_sign_in_code(
        &self,
        environment_id: &str,
        code_hash: &[u8],
        now: OffsetDateTime,
        new_session: impl FnOnce(&str) -> SessionRow,
    ) -> Result<Option<RedeemedCode>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut conn = pool.acquire().await?;
            let code: Option<SignInCodeRow> = sqlx::query_as(
                "UPDATE sign_in_codes SET used_at = $1
                 WHERE environment_id = $2 AND code_hash = $3 AND used_at IS NULL AND expires_at > $1
                 RETURNING code_hash, environment_id, user_id, identity_id, is_new_user, created_at,
                    expires_at, used_at",
            )
            .bind(now)
            .bind(environment_id)
            .bind(code_hash)
            .fetch_optional(&mut *conn)
            .await?;
            match code {
                None => None,
                Some(code) => {
                    // One row whatever is left of what the code names.
                    let row = sqlx::query(concat!(
                        "SELECT ",
                        subject_columns!(),
                        " FROM (SELECT 1) AS one
                         LEFT JOIN identities i ON i.environment_id = $1 AND i.id = $3
                         LEFT JOIN users u ON u.environment_id = $1 AND u.id = $2
                         LEFT JOIN credentials c ON c.identity_id = $3 AND c.owner_kind = 'user'"
                    ))
                    .bind(environment_id)
                    .bind(&code.user_id)
                    .bind(&code.identity_id)
                    .fetch_one(&mut *conn)
                    .await?;
                    let (identity, user, credential) = read_subject!(row);
                    let session = match (&user, &identity) {
                        (Some(_), Some(_)) => {
                            let session = new_session(&code.user_id);
                            insert_session!(session).execute(&mut *conn).await?;
                            Some(session)
                        }
                        _ => None,
                    };
                    Some(RedeemedCode {
                        code,
                        user,
                        identity,
                        credential,
                        session,
                    })
                }
            }
        }))
    }
}
