//! Avatar re-hosting: fbgate keeps its own copy of each user's Facebook picture and serves it at
//! `{public_url}/v1/avatars/{id}`, because Facebook's CDN URLs are signed and stop working after
//! a while, and an app should not have to care.
//!
//! A picture is taken on sign-up and on each profile sync. Fetching is best effort: any failure
//! (timeout, redirect loop, too large, not a raster image, storage down) is logged at `warn` and
//! the user keeps Facebook's URL; it never fails the sign-in. See the `fetch` module for the checks.
//!
//! Rows of `avatars` say which picture belongs to which user; the bytes live in an
//! [`AvatarStore`], content-addressed by environment and SHA-256, so the same picture of the same
//! user is stored once and keeps its URL (the row is reused).
//!
//! The store is an interface so that the bytes can live elsewhere than the data dir. An
//! S3-compatible store would implement [`AvatarStore`] with `PutObject`, `GetObject` and
//! `DeleteObject` on the key `avatars/{environment_id}/{sha256}` (PUT is atomic there, as the
//! trait asks), be chosen from configuration in `app.rs`, and be handed to `Context::new`; nothing
//! else changes, since the public URL always names fbgate and fbgate streams the bytes out.

mod fetch;
mod storage;

use std::time::Duration;

use aws_lc_rs::digest;
use url::Url;

pub use fetch::{FetchError, ImageKind, MAX_BYTES, MAX_REDIRECTS};
pub use storage::{AvatarKey, AvatarStore, AvatarStoreError, FileAvatarStore, StoreFuture};

use crate::domain::{Context, Error};
use crate::ids;
use crate::store::{AvatarRow, StoreError, UserRow};

/// Time allowed for the whole download, redirects included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a picture was not re-hosted (logged, never shown to anyone).
#[derive(Debug, thiserror::Error)]
enum RehostError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("timed out after {FETCH_TIMEOUT:?}")]
    Timeout,
    #[error("{0}")]
    Storage(#[from] AvatarStoreError),
    #[error("{0}")]
    Database(#[from] StoreError),
}

/// Takes a copy of the picture at `source_url` for the user and returns fbgate's public URL of
/// it, or `None` (logged at `warn` with the reason) when anything goes wrong.
pub async fn rehost(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    source_url: &str,
) -> Option<String> {
    match try_rehost(ctx, environment_id, user_id, source_url).await {
        Ok(url) => Some(url),
        Err(reason) => {
            // The host only: picture URLs carry signatures that have no place in logs.
            let host = Url::parse(source_url)
                .ok()
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_default();
            tracing::warn!(
                user_id,
                source_host = %host,
                reason = %reason,
                "profile picture not re-hosted; keeping Facebook's URL"
            );
            None
        }
    }
}

async fn try_rehost(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    source_url: &str,
) -> Result<String, RehostError> {
    let picture = tokio::time::timeout(FETCH_TIMEOUT, fetch::download(&ctx.http, source_url))
        .await
        .map_err(|_| RehostError::Timeout)??;
    let sha256 = hex::encode(digest::digest(&digest::SHA256, &picture.bytes));
    if let Some(existing) = ctx
        .store
        .find_user_avatar(environment_id, user_id, &sha256)
        .await?
    {
        return Ok(public_url(ctx, &existing.id));
    }
    // Bytes first, row second: a row never names bytes that are not there.
    let key = AvatarKey::new(environment_id, &sha256)?;
    ctx.avatars.put(&key, &picture.bytes).await?;
    let row = AvatarRow {
        id: ids::new_id("ava"),
        environment_id: environment_id.to_owned(),
        user_id: user_id.to_owned(),
        content_type: picture.kind.content_type().to_owned(),
        sha256,
        size_bytes: i64::try_from(picture.bytes.len()).unwrap_or(i64::MAX),
        created_at: ctx.clock.now(),
    };
    ctx.store.insert_avatar(&row).await?;
    Ok(public_url(ctx, &row.id))
}

/// fbgate's public URL of an avatar.
pub fn public_url(ctx: &Context, avatar_id: &str) -> String {
    format!(
        "{}/v1/avatars/{avatar_id}",
        ctx.settings.issuer.trim_end_matches('/')
    )
}

/// Re-hosts the picture at `source_url` and, when that works, points the stored user (and
/// `user`) at fbgate's copy; otherwise leaves both as they are.
pub async fn adopt_picture(ctx: &Context, user: &mut UserRow, source_url: &str) {
    let Some(url) = rehost(ctx, &user.environment_id, &user.id, source_url).await else {
        return;
    };
    match ctx
        .store
        .set_profile_image_url(&user.environment_id, &user.id, &url)
        .await
    {
        Ok(_) => user.profile_image_url = Some(url),
        Err(error) => tracing::warn!(
            user_id = %user.id,
            error = %error,
            "re-hosted profile picture not recorded; keeping Facebook's URL"
        ),
    }
}

/// A stored avatar, ready to serve.
#[derive(Debug)]
pub struct Avatar {
    /// The checked content type.
    pub content_type: String,
    /// SHA-256 of the bytes, hex (the `ETag`).
    pub sha256: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

fn not_found() -> Error {
    Error::not_found("avatar_not_found", "no avatar with this id")
}

/// The avatar with this id, from any environment (the id in the public URL is the capability).
pub async fn load(ctx: &Context, id: &str) -> Result<Avatar, Error> {
    let row = ctx.store.get_avatar(id).await?.ok_or_else(not_found)?;
    let key = AvatarKey::new(&row.environment_id, &row.sha256)
        .map_err(|e| Error::Internal(format!("avatar {id}: {e}")))?;
    let bytes = ctx
        .avatars
        .get(&key)
        .await
        .map_err(|e| Error::Internal(format!("avatar {id}: {e}")))?;
    let Some(bytes) = bytes else {
        tracing::warn!(
            avatar_id = id,
            "avatar row without bytes in the avatar store"
        );
        return Err(not_found());
    };
    Ok(Avatar {
        content_type: row.content_type,
        sha256: row.sha256,
        bytes,
    })
}
