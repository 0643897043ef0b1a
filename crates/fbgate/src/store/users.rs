//! Queries on `users`.

use time::OffsetDateTime;

use super::{Store, StoreError, with_pool};

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    /// `usr_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Email address, when known.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Full display name.
    pub name: Option<String>,
    /// fbgate's URL of the user's picture.
    pub profile_image_url: Option<String>,
    /// `facebook` or `api`.
    pub created_via: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Last successful sign-in.
    pub last_sign_in_at: Option<OffsetDateTime>,
}

/// The columns of a [`UserRow`] in field order, each after `$t`: a table alias with its dot
/// (`"u."`), or `""`. The one list behind every SELECT of the table and [`user_at!`].
macro_rules! columns {
    ($t:literal) => {
        concat!(
            $t,
            "id, ",
            $t,
            "environment_id, ",
            $t,
            "email, ",
            $t,
            "first_name, ",
            $t,
            "last_name, ",
            $t,
            "name, ",
            $t,
            "profile_image_url, ",
            $t,
            "created_via, ",
            $t,
            "created_at, ",
            $t,
            "updated_at, ",
            $t,
            "last_sign_in_at"
        )
    };
}
pub(crate) use columns;

/// How many [`columns!`] there are.
pub(crate) const COLUMNS: usize = 11;

/// Reads a [`UserRow`] from `$row` (any engine's row), whose columns from index `$at` on are
/// [`columns!`]'s: for reads that join it with other tables.
macro_rules! user_at {
    ($row:expr, $at:expr) => {{
        use sqlx::Row as _;
        let at: usize = $at;
        $crate::store::UserRow {
            id: $row.try_get(at)?,
            environment_id: $row.try_get(at + 1)?,
            email: $row.try_get(at + 2)?,
            first_name: $row.try_get(at + 3)?,
            last_name: $row.try_get(at + 4)?,
            name: $row.try_get(at + 5)?,
            profile_image_url: $row.try_get(at + 6)?,
            created_via: $row.try_get(at + 7)?,
            created_at: $row.try_get(at + 8)?,
            updated_at: $row.try_get(at + 9)?,
            last_sign_in_at: $row.try_get(at + 10)?,
        }
    }};
}
pub(crate) use user_at;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            $crate::store::users::columns!(""),
            " FROM users ",
            $rest
        )
    };
}
pub(super) use select;

/// The query reading one user of an environment by id (bind nothing more).
macro_rules! user_by_id {
    ($environment_id:expr, $id:expr) => {
        sqlx::query_as::<_, $crate::store::UserRow>($crate::store::users::select!(
            "WHERE environment_id = $1 AND id = $2"
        ))
        .bind($environment_id)
        .bind($id)
    };
}

/// The INSERT of one `users` row, also used inside the sign-in transaction.
macro_rules! insert_user {
    ($user:expr) => {
        sqlx::query(
            "INSERT INTO users (id, environment_id, email, first_name, last_name, name, \
             profile_image_url, created_via, created_at, updated_at, last_sign_in_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&$user.id)
        .bind(&$user.environment_id)
        .bind(&$user.email)
        .bind(&$user.first_name)
        .bind(&$user.last_name)
        .bind(&$user.name)
        .bind(&$user.profile_image_url)
        .bind(&$user.created_via)
        .bind($user.created_at)
        .bind($user.updated_at)
        .bind($user.last_sign_in_at)
    };
}
pub(super) use insert_user;

impl Store {
    /// Inserts a user.
    pub async fn insert_user(&self, user: &UserRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            insert_user!(user).execute(pool).await?;
        });
        Ok(())
    }

    /// Reads a user of an environment.
    pub async fn get_user(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<UserRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            user_by_id!(environment_id, id).fetch_optional(pool).await?
        }))
    }

    /// Lists users in creation order, optionally only those with an email address.
    pub async fn list_users(
        &self,
        environment_id: &str,
        email: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<UserRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!(
                "WHERE environment_id = $1
                   AND ($2 IS NULL OR email = $2)
                   AND ($3 IS NULL
                        OR (created_at, id) > (SELECT created_at, id FROM users WHERE id = $3))
                 ORDER BY created_at, id
                 LIMIT $4"
            ))
            .bind(environment_id)
            .bind(email)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// Replaces a user's profile fields and times.
    pub async fn update_user(&self, user: &UserRow) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE users SET email = $1, first_name = $2, last_name = $3, name = $4,
                    profile_image_url = $5, updated_at = $6, last_sign_in_at = $7
                 WHERE environment_id = $8 AND id = $9",
            )
            .bind(&user.email)
            .bind(&user.first_name)
            .bind(&user.last_name)
            .bind(&user.name)
            .bind(&user.profile_image_url)
            .bind(user.updated_at)
            .bind(user.last_sign_in_at)
            .bind(&user.environment_id)
            .bind(&user.id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Deletes a user with its identities and sessions.
    pub async fn delete_user(&self, environment_id: &str, id: &str) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM users WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }
}

impl Store {
    /// Inserts a user and records the events announcing it, in one transaction.
    pub async fn insert_user_with_events(
        &self,
        user: &UserRow,
        events: &[super::OutboxEventRow],
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            insert_user!(user).execute(&mut *tx).await?;
            for event in events {
                super::outbox::record_event!(tx, event);
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
