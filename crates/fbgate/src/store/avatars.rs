//! Queries on `avatars`: which re-hosted picture belongs to which user. The bytes themselves live
//! in the avatar store (`domain::avatars`), named by their SHA-256.

use time::OffsetDateTime;

use super::{Store, StoreError, with_pool};

/// A row of `avatars`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AvatarRow {
    /// `ava_…`: the last segment of the public URL.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The user whose picture it is.
    pub user_id: String,
    /// The checked content type (`image/png`, …).
    pub content_type: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Size of the bytes.
    pub size_bytes: i64,
    /// When it was first stored.
    pub created_at: OffsetDateTime,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, user_id, content_type, sha256, size_bytes, created_at \
             FROM avatars ",
            $rest
        )
    };
}

impl Store {
    /// Inserts an avatar row.
    pub async fn insert_avatar(&self, avatar: &AvatarRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO avatars (id, environment_id, user_id, content_type, sha256, \
                 size_bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&avatar.id)
            .bind(&avatar.environment_id)
            .bind(&avatar.user_id)
            .bind(&avatar.content_type)
            .bind(&avatar.sha256)
            .bind(avatar.size_bytes)
            .bind(avatar.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The user's avatar with these bytes, if one was stored before.
    pub async fn find_user_avatar(
        &self,
        environment_id: &str,
        user_id: &str,
        sha256: &str,
    ) -> Result<Option<AvatarRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!(
                "WHERE environment_id = $1 AND user_id = $2 AND sha256 = $3
                 ORDER BY created_at, id LIMIT 1"
            ))
            .bind(environment_id)
            .bind(user_id)
            .bind(sha256)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Reads an avatar by id alone: its URL is public and the id is the capability.
    pub async fn get_avatar(&self, id: &str) -> Result<Option<AvatarRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Points a user's `profile_image_url` at a new URL, touching nothing else of the row (the
    /// sign-in that triggered the re-hosting has already written the rest).
    pub async fn set_profile_image_url(
        &self,
        environment_id: &str,
        user_id: &str,
        url: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE users SET profile_image_url = $1 WHERE environment_id = $2 AND id = $3",
            )
            .bind(url)
            .bind(environment_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
