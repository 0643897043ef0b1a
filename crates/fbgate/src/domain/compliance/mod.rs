//! Facebook's compliance callbacks: a person removed the app (deauthorize), or asked for their
//! data to be deleted (data deletion). Meta requires one of the two for every live app; fbgate
//! handles both so that its operators do not have to by hand.
//!
//! Both arrive with no API key, only a `signed_request` signed with the app secret, so the
//! provider named in the URL is looked up by id and its secret verifies the request
//! (`fbgate_facebook::SignedRequest`, constant time, padded or not, HMAC-SHA256 only). A request
//! is refused when `issued_at` is more than [`MAX_AGE`] old or more than [`MAX_SKEW`] ahead of
//! fbgate's clock: an old signed request replayed later must not change anything.
//!
//! Decisions a reader might question:
//! - An unknown app-scoped user is not an error: Facebook calls for every user of the app,
//!   including people who never signed in through fbgate. Deauthorize answers 200 and changes
//!   nothing; a data-deletion request still gets a confirmation code (Facebook shows it to the
//!   person), and its job completes with nothing to delete.
//! - Deauthorize keeps the credential row (status `revoked`, reason `user_removed_app`) so that
//!   `credentials/get` can say why, but overwrites the ciphertext with nothing and bumps the
//!   version. The deletion itself happens in a job (the `erasure` module) enqueued in the same transaction
//!   as the request, so a crash between the two loses nothing.

mod erasure;

pub use erasure::{carry_out, strip_facebook_fields};

use crate::clock::api_time;
use std::time::Duration;

use fbgate_facebook::{AppSecret, SignedRequest, SignedRequestError};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::pagination::{Page, paginate};
use super::providers::{self, Provider};
use super::webhooks::{self, EventType};
use super::{Context, Error};
use crate::ids;
use crate::store::{AuditRow, CredentialRow, DeletionRequestRow, JobRow};

/// The job kind that carries out a data-deletion request.
pub const DATA_DELETION_JOB: &str = "facebook.data_deletion";

/// The reason deauthorized credentials carry.
pub const USER_REMOVED_APP: &str = "user_removed_app";

/// Oldest `issued_at` accepted.
pub const MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// How far ahead of fbgate's clock `issued_at` may be (clocks differ a little).
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Length of a confirmation code: 20 letters and digits, about 119 random bits.
pub const CONFIRMATION_CODE_LEN: usize = 20;

const CODE_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn bad_request(code: &'static str, message: impl Into<String>) -> Error {
    Error::BadRequest {
        code,
        message: message.into(),
    }
}

fn refused(error: SignedRequestError) -> Error {
    match error {
        SignedRequestError::BadSignature => bad_request(
            "invalid_signature",
            "the signed_request signature does not match this app's secret",
        ),
        SignedRequestError::UnsupportedAlgorithm => bad_request(
            "unsupported_algorithm",
            "the signed_request algorithm must be HMAC-SHA256",
        ),
        other => bad_request("invalid_signed_request", other.to_string()),
    }
}

/// A verified callback: the provider it names and the signed request's payload.
struct Verified {
    provider: Provider,
    request: SignedRequest,
}

/// Finds the provider and verifies the signed request with its secret and fbgate's clock.
async fn verify(
    ctx: &Context,
    provider_id: &str,
    signed_request: Option<&str>,
) -> Result<Verified, Error> {
    let provider = match providers::find_by_id(ctx, provider_id).await {
        Ok(provider) => provider,
        Err(Error::NotFound { .. }) => {
            return Err(bad_request(
                "provider_not_found",
                "no OAuth provider with this id",
            ));
        }
        Err(other) => return Err(other),
    };
    let signed_request = signed_request.filter(|s| !s.is_empty()).ok_or_else(|| {
        bad_request(
            "invalid_signed_request",
            "the form field `signed_request` is required",
        )
    })?;
    let secret = providers::client_secret(ctx, &provider).await?;
    let request = SignedRequest::verify(signed_request, &AppSecret::new(secret.expose().as_str()))
        .map_err(refused)?;
    let issued_at = request.issued_at().ok_or_else(|| {
        bad_request(
            "invalid_signed_request",
            "the signed_request has no issued_at",
        )
    })?;
    check_issued_at(issued_at, ctx.clock.now())?;
    Ok(Verified { provider, request })
}

/// Refuses an `issued_at` (unix seconds) older than [`MAX_AGE`] or further ahead than
/// [`MAX_SKEW`].
pub fn check_issued_at(issued_at: i64, now: OffsetDateTime) -> Result<(), Error> {
    let stale = || {
        bad_request(
            "stale_signed_request",
            "the signed_request was issued too long ago, or in the future",
        )
    };
    let issued = OffsetDateTime::from_unix_timestamp(issued_at).map_err(|_| stale())?;
    if issued < now - MAX_AGE || issued > now + MAX_SKEW {
        return Err(stale());
    }
    Ok(())
}

/// A person removed the app at Facebook: destroys the tokens of their identity at this provider
/// and marks its credentials `revoked` (`user_removed_app`). Returns the ids of the credentials
/// that changed (none for an unknown user or a repeat).
pub async fn deauthorize(
    ctx: &Context,
    provider_id: &str,
    signed_request: Option<&str>,
) -> Result<Vec<String>, Error> {
    let Verified { provider, request } = verify(ctx, provider_id, signed_request).await?;
    let payload = request.deauthorize().map_err(refused)?;
    let mut revoked = Vec::new();
    if let Some(identity) = ctx
        .store
        .find_identity(&provider.id, &payload.user_id)
        .await?
        .filter(|i| i.environment_id == provider.environment_id)
    {
        revoked.extend(revoke_identity(ctx, &provider, &identity).await?);
    }
    revoked.extend(revoke_tenant_credentials(ctx, &provider, &payload.user_id).await?);
    ctx.credential_cache.clear();
    if !revoked.is_empty() {
        tracing::info!(
            provider = %provider.id,
            credentials = revoked.len(),
            "user removed the app at Facebook; credentials revoked"
        );
    }
    Ok(revoked)
}

/// Revokes the credential of an fbgate user's identity.
async fn revoke_identity(
    ctx: &Context,
    provider: &Provider,
    identity: &crate::store::IdentityRow,
) -> Result<Vec<String>, Error> {
    let now = ctx.clock.now();
    let audit = AuditRow {
        id: ids::new_id("aud"),
        environment_id: provider.environment_id.clone(),
        actor: "facebook".to_owned(),
        action: "identity.deauthorized".to_owned(),
        subject: identity.id.clone(),
        detail: json!({
            "provider_id": provider.id,
            "user_id": identity.user_id,
            "reason": USER_REMOVED_APP,
        })
        .to_string(),
        created_at: now,
    };
    // The events are built before the change and recorded by it only for the credentials it
    // really changed, so a repeat announces nothing.
    let mut events = Vec::new();
    if let Some(credential) = ctx.store.credential_for_identity(&identity.id).await? {
        let event = webhooks::new_event(
            ctx,
            &provider.environment_id,
            EventType::CredentialRevoked,
            json!({ "credential": revoked_credential_data(ctx, &credential, provider, now) }),
        )
        .await?
        .about(identity.user_id.clone());
        events.push((
            credential.id.clone(),
            event.into_row(&provider.environment_id),
        ));
    }
    Ok(ctx
        .store
        .revoke_identity_credentials(
            &provider.environment_id,
            &identity.id,
            USER_REMOVED_APP,
            &audit,
            &events,
        )
        .await?)
}

/// Revokes every credential a Facebook user gave the app's tenants through connect sessions,
/// with their page credentials (page tokens die with the user's authorization).
async fn revoke_tenant_credentials(
    ctx: &Context,
    provider: &Provider,
    facebook_user_id: &str,
) -> Result<Vec<String>, Error> {
    let env = &provider.environment_id;
    let rows = ctx
        .store
        .tenant_credentials_of_facebook_user(env, &provider.id, facebook_user_id)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let now = ctx.clock.now();
    let slug = webhooks::environment_slug(ctx, env).await?;
    let mut events = Vec::new();
    for row in &rows {
        let data = revoked_credential_data(ctx, row, provider, now);
        let event = webhooks::Event::new(
            EventType::CredentialRevoked,
            &slug,
            json!({ "credential": data }),
            now,
        );
        events.push((row.id.clone(), event.into_row(env)));
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    Ok(ctx
        .store
        .revoke_credentials(env, &ids, USER_REMOVED_APP, now, &events)
        .await?)
}

/// A credential as the API shows it, after the revocation (for the `credential.revoked` event;
/// never the token).
fn revoked_credential_data(
    ctx: &Context,
    credential: &CredentialRow,
    provider: &Provider,
    now: OffsetDateTime,
) -> Value {
    let mut data = crate::domain::credentials::data(
        credential,
        provider.settings.slug.as_str(),
        now,
        &ctx.settings.credentials,
    );
    data["status"] = json!("revoked");
    data["reason"] = json!(USER_REMOVED_APP);
    data["revoked_at"] = json!(api_time(now));
    data
}

/// A new, unguessable confirmation code.
fn confirmation_code() -> String {
    let mut code = String::with_capacity(CONFIRMATION_CODE_LEN);
    let mut bytes = [0u8; 64];
    while code.len() < CONFIRMATION_CODE_LEN {
        rand::fill(&mut bytes);
        // Rejection sampling: 248 = 4 × 62, so every letter and digit is equally likely.
        for byte in bytes.iter().filter(|b| **b < 248) {
            if code.len() == CONFIRMATION_CODE_LEN {
                break;
            }
            code.push(char::from(CODE_ALPHABET[usize::from(*byte) % 62]));
        }
    }
    code
}

/// A person asked Facebook to delete their data: records the request and enqueues its job in
/// one transaction, and returns the request at once (its code goes back to Facebook).
pub async fn request_deletion(
    ctx: &Context,
    provider_id: &str,
    signed_request: Option<&str>,
) -> Result<DeletionRequestRow, Error> {
    let Verified { provider, request } = verify(ctx, provider_id, signed_request).await?;
    let payload = request.data_deletion().map_err(refused)?;
    let now = ctx.clock.now();
    let request = DeletionRequestRow {
        confirmation_code: confirmation_code(),
        environment_id: provider.environment_id.clone(),
        provider_id: provider.id.clone(),
        provider_user_id: Some(payload.user_id),
        status: "pending".to_owned(),
        requested_at: now,
        completed_at: None,
    };
    // The payload names the request only: the app-scoped id stays in one place, which the job
    // erases when it is done.
    let job = JobRow::new(
        DATA_DELETION_JOB,
        Some(&provider.environment_id),
        &json!({ "confirmation_code": request.confirmation_code }),
        now,
        now,
    );
    ctx.store.insert_deletion_request(&request, &job).await?;
    Ok(request)
}

/// The status page's URL of a request.
pub fn status_url(ctx: &Context, confirmation_code: &str) -> String {
    format!(
        "{}/v1/data-deletion/{confirmation_code}",
        ctx.settings.issuer.trim_end_matches('/')
    )
}

/// A deletion request by its confirmation code (the public status page).
pub async fn status(ctx: &Context, confirmation_code: &str) -> Result<DeletionRequestRow, Error> {
    let not_found = || {
        Error::not_found(
            "deletion_request_not_found",
            "no data-deletion request with this confirmation code",
        )
    };
    let well_formed = !confirmation_code.is_empty()
        && confirmation_code.len() <= 64
        && confirmation_code.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(not_found());
    }
    ctx.store
        .get_deletion_request(confirmation_code)
        .await?
        .ok_or_else(not_found)
}

/// One page of an environment's deletion requests, oldest first, optionally of one status.
pub async fn list(
    ctx: &Context,
    environment_id: &str,
    status: Option<&str>,
    page: Page,
) -> Result<(Vec<DeletionRequestRow>, Option<String>), Error> {
    if let Some(status) = status
        && !matches!(status, "pending" | "completed")
    {
        return Err(Error::invalid(
            "status",
            "`status` must be `pending` or `completed`",
        ));
    }
    let rows = ctx
        .store
        .list_deletion_requests(
            environment_id,
            status,
            page.after.as_deref(),
            page.limit + 1,
        )
        .await?;
    Ok(paginate(rows, page.limit, |row| {
        row.confirmation_code.clone()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_codes_are_twenty_letters_and_digits_and_differ() {
        let a = confirmation_code();
        let b = confirmation_code();
        assert_eq!(a.len(), CONFIRMATION_CODE_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn issued_at_must_be_within_a_day_back_and_five_minutes_ahead() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let at = |offset: i64| check_issued_at(1_800_000_000 + offset, now);
        assert!(at(0).is_ok());
        assert!(at(-24 * 3600 + 1).is_ok());
        assert!(at(-24 * 3600 - 1).is_err());
        assert!(at(299).is_ok());
        assert!(at(301).is_err());
        assert!(check_issued_at(i64::MAX, now).is_err());
    }
}
