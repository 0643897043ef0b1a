//! Native sign-in: a mobile app hands over what Facebook's SDK gave it, and gets a session.
//!
//! Two forms. An access token (Android, iOS classic login) goes through the same confirmation as
//! the browser flow's token — `debug_token` must show our app, a valid token and a user id before
//! anything else, `/me` must name that user — then is exchanged for a long-lived one and stored
//! as the identity's credential. A Limited Login token (iOS) is a JWT that no Graph call accepts:
//! it is verified offline against Facebook's keys ([`super::limited_login`]), the profile comes
//! from its claims, and nothing is stored as a credential because there is no token to store (a
//! credential from an earlier access-token sign-in is left as it is).
//!
//! Both end like the browser flow: the records are written with a one-time code, which is
//! consumed here at once to create the session, so the two paths share every rule of
//! `record_sign_in` and `exchange_code` (sign-up policy, email requirement, profile sync).

use fbgate_facebook::{AccessToken, IdToken};
use serde_json::{Map, Value, json};

use super::FlowErrorCode;
use super::limited_login::{self, LimitedLoginError};
use super::sign_in::{self, ExchangedSignIn, SignInError, SignInProfile};
use crate::domain::providers::{self, Provider, ProviderUse};
use crate::domain::{Context, Error};

/// What the app's Facebook SDK returned.
#[derive(Debug)]
pub enum NativeCredential {
    /// A user access token.
    AccessToken(AccessToken),
    /// A Limited Login authentication token and the nonce the app generated for that login.
    LimitedLogin {
        /// The RS256 JWT.
        id_token: IdToken,
        /// The nonce the app passed to the SDK.
        nonce: String,
    },
}

/// Why a native sign-in did not happen.
#[derive(Debug, thiserror::Error)]
pub enum NativeSignInError {
    /// A flow error of the contract, with a message for the app's developer (never secret).
    #[error("{code}: {message}")]
    Refused {
        /// The contract's code.
        code: FlowErrorCode,
        /// What went wrong.
        message: String,
    },
    /// Anything else: unknown provider, provider not enabled, storage.
    #[error(transparent)]
    Domain(#[from] Error),
}

fn refused(code: FlowErrorCode, detail: Option<&str>) -> NativeSignInError {
    let message = match (code, detail) {
        // The app's developer needs to know which check failed; the detail names checks and
        // Facebook's error messages, never a token.
        (FlowErrorCode::TokenNotForThisApp, Some(detail)) => {
            format!("{} ({detail})", code.description())
        }
        _ => code.description().to_owned(),
    };
    NativeSignInError::Refused { code, message }
}

/// Signs a user in with what a mobile app's Facebook SDK returned, and starts a session.
pub async fn sign_in(
    ctx: &Context,
    environment_id: &str,
    provider_slug: &str,
    credential: NativeCredential,
) -> Result<ExchangedSignIn, NativeSignInError> {
    let provider = providers::get_by_slug(ctx, environment_id, provider_slug).await?;
    if !provider.settings.enabled_for.allows(ProviderUse::SignIn) {
        return Err(Error::Forbidden {
            code: "provider_not_enabled",
            message: format!("provider `{provider_slug}` is not enabled for sign_in"),
        }
        .into());
    }
    let recorded = match credential {
        NativeCredential::AccessToken(token) => {
            let facebook = sign_in::facebook_for(ctx, &provider).await?;
            let login = sign_in::confirm_token(
                ctx,
                &facebook,
                &provider,
                token,
                sign_in::TokenSource::HandedIn,
            )
            .await
            .map_err(|failure| {
                tracing::info!(
                    code = failure.code.as_str(),
                    detail = failure.detail.as_deref().unwrap_or("-"),
                    "native sign-in refused"
                );
                refused(failure.code, failure.detail.as_deref())
            })?;
            sign_in::record_sign_in(ctx, &provider, login).await
        }
        NativeCredential::LimitedLogin { id_token, nonce } => {
            let claims = limited_login::verify(ctx, &provider, &id_token, &nonce)
                .await
                .map_err(|error| {
                    tracing::info!(error = %error, "limited login refused");
                    match error {
                        LimitedLoginError::Rejected(detail) => {
                            refused(FlowErrorCode::TokenNotForThisApp, Some(&detail))
                        }
                        LimitedLoginError::Unavailable(_) => {
                            refused(FlowErrorCode::FacebookUnavailable, None)
                        }
                    }
                })?;
            let profile = profile_from_claims(&provider, claims);
            sign_in::record_tokenless_sign_in(ctx, &provider, &profile).await
        }
    }
    .map_err(|error| match error {
        SignInError::Flow(code) => refused(code, None),
        SignInError::Internal(error) => NativeSignInError::Domain(error),
    })?;
    let code = recorded
        .code
        .ok_or_else(|| Error::Internal("a sign-in produced no one-time code".to_owned()))?;
    Ok(sign_in::exchange_code(ctx, environment_id, code.expose()).await?)
}

/// The claims of a Limited Login token seen as a `/me` answer, so that the provider's attribute
/// mapping (dot-paths into `/me`) reads them: `sub`→`id`, `given_name`→`first_name`,
/// `family_name`→`last_name`, `middle_name`, `name`, `email`, and the `picture` URL as
/// `picture.data.url`.
fn as_graph_profile(claims: &Value) -> Value {
    let mut profile = Map::new();
    let renames = [
        ("sub", "id"),
        ("name", "name"),
        ("given_name", "first_name"),
        ("middle_name", "middle_name"),
        ("family_name", "last_name"),
        ("email", "email"),
    ];
    for (claim, field) in renames {
        if let Some(value) = claims.get(claim).filter(|v| !v.is_null()) {
            profile.insert(field.to_owned(), value.clone());
        }
    }
    if let Some(url) = claims.get("picture").and_then(Value::as_str) {
        profile.insert("picture".to_owned(), json!({ "data": { "url": url } }));
    }
    Value::Object(profile)
}

/// The user and identity records' view of a verified Limited Login token. The raw profile kept
/// on the identity is the claims themselves; the token carries no permission list.
fn profile_from_claims(provider: &Provider, claims: Value) -> SignInProfile {
    let mapped = provider
        .settings
        .attribute_mapping
        .apply(&as_graph_profile(&claims));
    SignInProfile {
        facebook_user_id: claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        raw_profile: claims,
        mapped,
        permissions: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_like_a_graph_profile() {
        let claims = json!({
            "iss": "https://www.facebook.com", "sub": "1001", "name": "Ada Lovelace",
            "given_name": "Ada", "family_name": "Lovelace", "email": null,
            "picture": "https://example.test/p.jpg", "nonce": "n"
        });
        let profile = as_graph_profile(&claims);
        assert_eq!(
            profile,
            json!({
                "id": "1001", "name": "Ada Lovelace", "first_name": "Ada",
                "last_name": "Lovelace", "picture": { "data": { "url": "https://example.test/p.jpg" } }
            })
        );
    }
}
