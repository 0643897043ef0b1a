//! The Account API: a signed-in user sees their account, links a Facebook identity, unlinks one.
//!
//! Linking runs the same browser flow as sign-in, bound to the user: the app asks for an
//! authorization URL with the user's session token and opens it in the user's browser. The URL
//! carries a single-use ticket (10 minutes), so the browser that opens it needs no key, and the
//! flow's cookie is set in that browser when it starts.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;

use super::api_keys::hash_key;
use super::flows::{self, FlowKind, StartRequest, Started};
use super::identities::{self, IdentityDetails};
use super::providers::{self, ProviderUse};
use super::{Context, Error, credentials};
use crate::store::{LinkTicketRow, SessionRow, UserRow};

/// How long an authorization URL for linking stays usable.
pub const LINK_TICKET_TTL: Duration = Duration::from_secs(10 * 60);

/// The signed-in user and their identities.
pub async fn account(
    ctx: &Context,
    session: &SessionRow,
) -> Result<(UserRow, Vec<IdentityDetails>), Error> {
    let user = super::users::get(ctx, &session.environment_id, &session.user_id).await?;
    let identities = identities::list_for_user(ctx, &session.environment_id, &user.id).await?;
    Ok((user, identities))
}

/// An authorization URL that links the Facebook account the browser signs into to this user.
pub async fn start_link(
    ctx: &Context,
    session: &SessionRow,
    slug: &str,
    redirect_to: &str,
) -> Result<Url, Error> {
    let provider = providers::get_by_slug(ctx, &session.environment_id, slug).await?;
    flows::check_enabled(&provider, ProviderUse::Linking)?;
    let redirect_to = flows::allowed_redirect(&provider, redirect_to)?;
    let mut random = [0u8; 32];
    rand::fill(&mut random);
    let ticket = URL_SAFE_NO_PAD.encode(random);
    let now = ctx.clock.now();
    ctx.store
        .insert_link_ticket(&LinkTicketRow {
            ticket_hash: hash_key(&ticket).to_vec(),
            environment_id: session.environment_id.clone(),
            user_id: session.user_id.clone(),
            provider_id: provider.id.clone(),
            redirect_to: redirect_to.to_string(),
            created_at: now,
            expires_at: now + LINK_TICKET_TTL,
            used_at: None,
        })
        .await?;
    let mut url = Url::parse(&format!(
        "{}/v1/oauth/{slug}/authorize",
        ctx.settings.issuer
    ))
    .map_err(|e| Error::Internal(format!("issuer is not a URL base: {e}")))?;
    url.query_pairs_mut().append_pair("link_ticket", &ticket);
    Ok(url)
}

/// Starts the link flow of a ticket (once) in the browser that opened its URL.
pub async fn begin_link(ctx: &Context, slug: &str, ticket: &str) -> Result<Started, Error> {
    let invalid = || Error::Invalid {
        field: "link_ticket".to_owned(),
        code: "invalid_link_ticket",
        message: "this link is unknown, used or expired; ask the app for a new one".to_owned(),
    };
    let row = ctx
        .store
        .consume_link_ticket(&hash_key(ticket), ctx.clock.now())
        .await?
        .ok_or_else(invalid)?;
    let provider = providers::find_by_id(ctx, &row.provider_id).await?;
    if provider.settings.slug.as_str() != slug {
        return Err(invalid());
    }
    flows::start(
        ctx,
        &row.environment_id,
        StartRequest {
            provider_slug: slug,
            redirect_to: &row.redirect_to,
            scopes: None,
            rerequest: false,
            kind: FlowKind::Link {
                user_id: row.user_id,
            },
        },
    )
    .await
}

/// Unlinks the user's identity at a provider and destroys its stored token. Refused with
/// `last_identity` when it is the only way a Facebook-created user can sign in.
pub async fn unlink(
    ctx: &Context,
    session: &SessionRow,
    slug: &str,
) -> Result<IdentityDetails, Error> {
    let env = &session.environment_id;
    let user = super::users::get(ctx, env, &session.user_id).await?;
    let details = identities::get_for_user(ctx, env, &user.id, slug).await?;
    let held = ctx.store.list_identities_of_user(env, &user.id).await?;
    if held.len() == 1 && user.created_via == "facebook" {
        return Err(Error::Conflict {
            code: "last_identity",
            message: "this is the only way this user signs in; link another identity first"
                .to_owned(),
        });
    }
    let provider = providers::find_by_id(ctx, &details.identity.provider_id).await?;
    if provider.settings.revoke_on_unlink
        && let Some(credential) = &details.credential
    {
        revoke_at_facebook(ctx, &provider, credential).await;
    }
    identities::delete(ctx, env, &user.id, &details.identity.id).await
}

/// Revokes the app's permissions at Facebook for every identity of the user (best effort) and
/// destroys every stored token of the user; `credentials/get` then answers 404.
pub async fn forget_facebook_tokens(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
) -> Result<u64, Error> {
    for details in identities::list_for_user(ctx, environment_id, user_id).await? {
        if let Some(credential) = &details.credential {
            let provider = providers::find_by_id(ctx, &details.identity.provider_id).await?;
            revoke_at_facebook(ctx, &provider, credential).await;
        }
    }
    let deleted = ctx
        .store
        .delete_user_credentials(environment_id, user_id)
        .await?;
    ctx.credential_cache.clear();
    Ok(deleted)
}

/// Asks Facebook to remove the app's permissions for this person (best effort: the unlink
/// itself never depends on Facebook answering).
async fn revoke_at_facebook(
    ctx: &Context,
    provider: &providers::Provider,
    credential: &crate::store::CredentialRow,
) {
    let token = match credentials::open_token(ctx, credential).await {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(credential = %credential.id, %error, "cannot open the token to revoke it");
            return;
        }
    };
    let facebook = match flows::sign_in::facebook_for(ctx, provider).await {
        Ok(facebook) => facebook,
        Err(error) => {
            tracing::warn!(%error, "cannot build the Facebook client to revoke a token");
            return;
        }
    };
    let token = fbgate_facebook::AccessToken::new(token.expose().as_str());
    if let Err(error) = facebook.revoke_permissions(&token, None).await {
        tracing::warn!(credential = %credential.id, %error, "Facebook did not revoke the app's permissions");
    }
}
