//! `GET /v1/avatars/{id}`: fbgate's copies of users' profile pictures, public so that an app can
//! put the URL straight into an `<img>`.
//!
//! An avatar's bytes never change under its id, so it is cached for a year and marked immutable.
//! The headers also stop a browser from treating it as anything but an image: the type was
//! checked against the bytes when it was stored, `nosniff` forbids guessing another, and a
//! `default-src 'none'` policy leaves nothing to run if it is opened as a page.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::domain::avatars;

/// A user's profile picture, as re-hosted by fbgate (public, no key).
#[utoipa::path(get, path = "/v1/avatars/{id}", tag = "users",
    params(("id" = String, Path, description = "The avatar id (`ava_…`) from a user's `profile_image_url`")),
    responses(
        (status = 200, description = "The image, with its stored type (JPEG, PNG, GIF or WebP)",
            content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/gif"),
                (Vec<u8> = "image/webp"))),
        (status = 304, description = "Unchanged (`If-None-Match` named its `ETag`)"),
        (status = 404, description = "No such avatar (`avatar_not_found`)", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let avatar = avatars::load(&state.ctx, &id).await?;
    let etag = format!("\"{}\"", avatar.sha256);
    let unchanged = request_headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        avatar.bytes.into_response()
    };
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&avatar.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    if !unchanged {
        headers.insert(header::CONTENT_TYPE, content_type);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    Ok(response)
}
