//! Identities: Facebook accounts joined to users, with the health of their stored token.

use super::credentials::current_status;
use super::{Context, Error, providers, webhooks};
use crate::store::{CredentialRow, IdentityRow};

/// An identity with what the API shows next to it.
#[derive(Debug, Clone)]
pub struct IdentityDetails {
    /// The identity.
    pub identity: IdentityRow,
    /// Its provider's slug.
    pub provider_slug: String,
    /// Its stored credential, if any.
    pub credential: Option<CredentialRow>,
    /// The credential's status now (`active`, `expiring`, `expired`, `revoked`, `invalid`).
    pub token_status: Option<String>,
}

/// Adds the provider slug and credential health to an identity.
pub async fn details(ctx: &Context, identity: IdentityRow) -> Result<IdentityDetails, Error> {
    let credential = ctx.store.credential_for_identity(&identity.id).await?;
    details_with(ctx, identity, credential).await
}

/// Like [`details`], with the identity's credential already read.
pub async fn details_with(
    ctx: &Context,
    identity: IdentityRow,
    credential: Option<CredentialRow>,
) -> Result<IdentityDetails, Error> {
    let provider = providers::find_by_id(ctx, &identity.provider_id).await?;
    let token_status = credential.as_ref().map(|c| {
        current_status(
            c,
            ctx.clock.now(),
            ctx.settings.credentials.expiring_threshold,
        )
        .0
    });
    Ok(IdentityDetails {
        identity,
        provider_slug: provider.settings.slug.as_str().to_owned(),
        credential,
        token_status,
    })
}

/// The identities of a user of this environment.
pub async fn list_for_user(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
) -> Result<Vec<IdentityDetails>, Error> {
    super::users::get(ctx, environment_id, user_id).await?;
    let mut out = Vec::new();
    for identity in ctx
        .store
        .list_identities_of_user(environment_id, user_id)
        .await?
    {
        out.push(details(ctx, identity).await?);
    }
    Ok(out)
}

/// A user's identity at the provider named by `slug`.
pub async fn get_for_user(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    slug: &str,
) -> Result<IdentityDetails, Error> {
    let provider = providers::get_by_slug(ctx, environment_id, slug).await?;
    list_for_user(ctx, environment_id, user_id)
        .await?
        .into_iter()
        .find(|d| d.identity.provider_id == provider.id)
        .ok_or_else(|| {
            Error::not_found(
                "identity_not_found",
                "this user has no identity at this provider",
            )
        })
}

/// A user's identity by its id.
pub async fn get_by_id(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    identity_id: &str,
) -> Result<IdentityDetails, Error> {
    let not_found = || Error::not_found("identity_not_found", "no such identity for this user");
    let identity = ctx
        .store
        .get_identity(environment_id, identity_id)
        .await?
        .ok_or_else(not_found)?;
    if identity.user_id != user_id {
        return Err(not_found());
    }
    details(ctx, identity).await
}

/// Removes an identity and its stored credentials (admin: no last-identity rule), announcing
/// `identity.unlinked` in the same transaction.
pub async fn delete(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    identity_id: &str,
) -> Result<IdentityDetails, Error> {
    let details = get_by_id(ctx, environment_id, user_id, identity_id).await?;
    let user = super::users::get(ctx, environment_id, user_id).await?;
    let slug = webhooks::environment_slug(ctx, environment_id).await?;
    let event = webhooks::identity_event(
        webhooks::EventType::IdentityUnlinked,
        &slug,
        &user,
        &details.identity,
        &details.provider_slug,
        ctx.clock.now(),
    )
    .into_row(environment_id);
    if !ctx
        .store
        .delete_identity_with_events(environment_id, identity_id, &[event])
        .await?
    {
        return Err(Error::not_found(
            "identity_not_found",
            "no such identity for this user",
        ));
    }
    ctx.credential_cache.clear();
    Ok(details)
}
