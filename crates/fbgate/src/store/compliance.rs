//! Queries for Facebook's compliance callbacks: `deletion_requests`, `audit_log`, and the two
//! transactions that change a person's data on Facebook's word (deauthorize, data deletion).
//!
//! Each transaction writes its audit entry (and enqueues its follow-up job) together with the
//! change, so a crash can never leave a change without its record or a request without its job.

use time::OffsetDateTime;

use super::jobs::insert_job;
use super::outbox::record_event;
use super::{JobRow, OutboxEventRow, Store, StoreError, UserRow, with_pool};

/// A row of `deletion_requests`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeletionRequestRow {
    /// The public confirmation code (also the key).
    pub confirmation_code: String,
    /// Owning environment.
    pub environment_id: String,
    /// The provider (Facebook app) whose user asked.
    pub provider_id: String,
    /// Facebook's app-scoped user id; `None` once the deletion completed.
    pub provider_user_id: Option<String>,
    /// `pending` or `completed`.
    pub status: String,
    /// When Facebook's request arrived.
    pub requested_at: OffsetDateTime,
    /// When everything was deleted.
    pub completed_at: Option<OffsetDateTime>,
}

/// A row of `audit_log`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    /// `aud_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// `facebook` (its callbacks) or `system` (background jobs).
    pub actor: String,
    /// What happened, e.g. `identity.deauthorized`.
    pub action: String,
    /// The fbgate id of the object acted on.
    pub subject: String,
    /// Details (JSON text).
    pub detail: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// What becomes of the fbgate user of an erased identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserFate {
    /// No identity was found: no user is touched.
    Untouched,
    /// The user stays, with these (stripped) profile fields.
    Keep(Box<UserRow>),
    /// The user row goes, and with it sessions and anything else that references it.
    Delete {
        /// The user.
        user_id: String,
    },
}

/// Everything a completed data deletion writes, in one transaction.
#[derive(Debug)]
pub struct ErasureWrite<'a> {
    /// The request being completed.
    pub confirmation_code: &'a str,
    /// Its environment.
    pub environment_id: &'a str,
    /// Its provider.
    pub provider_id: &'a str,
    /// The app-scoped id whose data goes.
    pub provider_user_id: &'a str,
    /// The identity found for it, if any.
    pub identity_id: Option<&'a str>,
    /// The avatar rows to delete.
    pub avatar_ids: &'a [String],
    /// What happens to the user.
    pub user: &'a UserFate,
    /// The record of it.
    pub audit: &'a AuditRow,
    /// The `data_deletion.completed` event.
    pub event: &'a OutboxEventRow,
    /// fbgate ids (the user, the identity) whose outbox events are erased: their bodies describe
    /// the person as Facebook did.
    pub erase_events_about: &'a [String],
    /// Completion time.
    pub now: OffsetDateTime,
}

/// The INSERT of one audit entry, for use inside a transaction.
macro_rules! insert_audit {
    ($a:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (id, environment_id, actor, action, subject, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$a.id)
        .bind(&$a.environment_id)
        .bind(&$a.actor)
        .bind(&$a.action)
        .bind(&$a.subject)
        .bind(&$a.detail)
        .bind($a.created_at)
    };
}

macro_rules! select_requests {
    ($rest:literal) => {
        concat!(
            "SELECT confirmation_code, environment_id, provider_id, provider_user_id, status, \
             requested_at, completed_at FROM deletion_requests ",
            $rest
        )
    };
}

impl Store {
    /// Destroys the token material of an identity's credentials and marks them `revoked` with
    /// `reason`, writing `audit` and, for each credential that changed, its event from `events`
    /// (credential id → event); returns the ids of the credentials that changed. Credentials
    /// already revoked with nothing left to destroy are not touched, so a repeat changes
    /// nothing and records nothing.
    pub async fn revoke_identity_credentials(
        &self,
        environment_id: &str,
        identity_id: &str,
        reason: &str,
        audit: &AuditRow,
        events: &[(String, OutboxEventRow)],
    ) -> Result<Vec<String>, StoreError> {
        let now = audit.created_at;
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            // The row stays so that its status remains visible; the version grows so that no
            // ciphertext sealed for the old version could ever be put back and opened.
            let revoked: Vec<(String,)> = sqlx::query_as(
                "UPDATE credentials SET token_ciphertext = $1, version = version + 1,
                    status = 'revoked', status_reason = $2, updated_at = $3
                 WHERE environment_id = $4 AND identity_id = $5
                   AND (status <> 'revoked' OR length(token_ciphertext) > 0)
                 RETURNING id",
            )
            .bind(Vec::<u8>::new())
            .bind(reason)
            .bind(now)
            .bind(environment_id)
            .bind(identity_id)
            .fetch_all(&mut *tx)
            .await?;
            if !revoked.is_empty() {
                insert_audit!(audit).execute(&mut *tx).await?;
            }
            for (credential_id, event) in events {
                if revoked.iter().any(|(id,)| id == credential_id) {
                    record_event!(tx, event);
                }
            }
            tx.commit().await?;
            revoked.into_iter().map(|(id,)| id).collect()
        }))
    }

    /// Records a deletion request together with the job that carries it out.
    pub async fn insert_deletion_request(
        &self,
        request: &DeletionRequestRow,
        job: &JobRow,
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO deletion_requests (confirmation_code, environment_id, provider_id,
                    provider_user_id, status, requested_at, completed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&request.confirmation_code)
            .bind(&request.environment_id)
            .bind(&request.provider_id)
            .bind(&request.provider_user_id)
            .bind(&request.status)
            .bind(request.requested_at)
            .bind(request.completed_at)
            .execute(&mut *tx)
            .await?;
            insert_job!(job).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A deletion request by its confirmation code, from any environment (the code is the
    /// capability of the public status page).
    pub async fn get_deletion_request(
        &self,
        confirmation_code: &str,
    ) -> Result<Option<DeletionRequestRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_requests!("WHERE confirmation_code = $1"))
                .bind(confirmation_code)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// An environment's deletion requests, oldest first, optionally of one status.
    pub async fn list_deletion_requests(
        &self,
        environment_id: &str,
        status: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<DeletionRequestRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_requests!(
                "WHERE environment_id = $1
                   AND ($2 IS NULL OR status = $2)
                   AND ($3 IS NULL OR (requested_at, confirmation_code) >
                        (SELECT requested_at, confirmation_code FROM deletion_requests
                         WHERE confirmation_code = $3))
                 ORDER BY requested_at, confirmation_code
                 LIMIT $4"
            ))
            .bind(environment_id)
            .bind(status)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// The avatar rows of a user.
    pub async fn list_avatars_of_user(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> Result<Vec<super::AvatarRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, environment_id, user_id, content_type, sha256, size_bytes, created_at
                 FROM avatars WHERE environment_id = $1 AND user_id = $2 ORDER BY created_at, id",
            )
            .bind(environment_id)
            .bind(user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Whether any other user of the environment has an avatar with these bytes (avatar files
    /// are content-addressed, so they may be shared).
    pub async fn avatar_bytes_shared(
        &self,
        environment_id: &str,
        sha256: &str,
        except_user_id: &str,
    ) -> Result<bool, StoreError> {
        let (count,): (i64,) = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM avatars
                 WHERE environment_id = $1 AND sha256 = $2 AND user_id <> $3",
            )
            .bind(environment_id)
            .bind(sha256)
            .bind(except_user_id)
            .fetch_one(pool)
            .await?
        });
        Ok(count > 0)
    }

    /// Deletes everything of a Facebook user at a provider and completes the request, at once.
    /// Returns false (and changes nothing) when the request was already completed.
    pub async fn complete_erasure(&self, write: &ErasureWrite<'_>) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let completed = sqlx::query(
                "UPDATE deletion_requests SET status = 'completed', completed_at = $1,
                    provider_user_id = NULL
                 WHERE confirmation_code = $2 AND status = 'pending'",
            )
            .bind(write.now)
            .bind(write.confirmation_code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if completed != 1 {
                // Completed by an earlier run; leave everything as that run left it.
                return Ok(false);
            }
            sqlx::query(
                "DELETE FROM credentials
                 WHERE environment_id = $1 AND provider_id = $2
                   AND (identity_id = $3 OR facebook_id = $4)",
            )
            .bind(write.environment_id)
            .bind(write.provider_id)
            .bind(write.identity_id)
            .bind(write.provider_user_id)
            .execute(&mut *tx)
            .await?;
            if let Some(identity_id) = write.identity_id {
                sqlx::query("DELETE FROM identities WHERE environment_id = $1 AND id = $2")
                    .bind(write.environment_id)
                    .bind(identity_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for avatar_id in write.avatar_ids {
                sqlx::query("DELETE FROM avatars WHERE environment_id = $1 AND id = $2")
                    .bind(write.environment_id)
                    .bind(avatar_id)
                    .execute(&mut *tx)
                    .await?;
            }
            match write.user {
                UserFate::Untouched => {}
                UserFate::Delete { user_id } => {
                    sqlx::query("DELETE FROM users WHERE environment_id = $1 AND id = $2")
                        .bind(write.environment_id)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                UserFate::Keep(user) => {
                    sqlx::query(
                        "UPDATE users SET email = $1, first_name = $2, last_name = $3, name = $4,
                            profile_image_url = $5, updated_at = $6
                         WHERE environment_id = $7 AND id = $8",
                    )
                    .bind(&user.email)
                    .bind(&user.first_name)
                    .bind(&user.last_name)
                    .bind(&user.name)
                    .bind(&user.profile_image_url)
                    .bind(user.updated_at)
                    .bind(write.environment_id)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for subject in write.erase_events_about {
                sqlx::query("DELETE FROM outbox_events WHERE environment_id = $1 AND subject = $2")
                    .bind(write.environment_id)
                    .bind(subject)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_audit!(write.audit).execute(&mut *tx).await?;
            record_event!(tx, write.event);
            tx.commit().await?;
            true
        }))
    }
}
