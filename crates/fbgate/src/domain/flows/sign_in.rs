//! Completing a sign-in: from Facebook's code to a user, an identity, a stored credential and a
//! one-time code for the app.
//!
//! The order matters and is the security argument of the flow: the code is exchanged once
//! (never retried: Facebook burns codes on first use); `debug_token` must show our app, a valid
//! token and a user id before anything else is done with the token; `/me` must name the same
//! user; only then are users and identities touched. Facebook's token answers carry no scopes,
//! so granted and declined permissions come from `/me/permissions`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fbgate_facebook::{
    AccessToken, AuthorizationCode, CodeExchange, ErrorKind, Facebook, FacebookError,
};
use time::OffsetDateTime;
use url::Url;

use super::{FlowErrorCode, FlowFailure, Resumed, pkce_verifier};
use crate::domain::api_keys::hash_key;
use crate::domain::providers::{self, MappedProfile, Provider, SyncProfile};
use crate::domain::users::display_name;
use crate::domain::{Context, Error, avatars, credentials, sessions, webhooks};
use crate::ids;
use crate::store::{IdentityRow, SignInCodeRow, SignInWrite, StoreError, UserRow};

/// How long the one-time sign-in code handed to the app is valid.
pub const SIGN_IN_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What Facebook told us about the person, confirmed.
#[derive(Debug)]
pub struct ConfirmedLogin {
    /// The long-lived token.
    pub token: AccessToken,
    /// When Facebook issued it.
    pub issued_at: OffsetDateTime,
    /// When it expires.
    pub expires_at: Option<OffsetDateTime>,
    /// When data access expires.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// The raw `/me` answer.
    pub raw_profile: serde_json::Value,
    /// The profile as the provider's mapping reads it.
    pub mapped: MappedProfile,
    /// The app-scoped user id.
    pub facebook_user_id: String,
    /// Granted permissions.
    pub granted: Vec<String>,
    /// Declined permissions.
    pub declined: Vec<String>,
}

impl ConfirmedLogin {
    /// The token to store, as the vault takes it.
    pub fn new_token(&self) -> crate::domain::credentials::NewToken<'_> {
        crate::domain::credentials::NewToken {
            token: self.token.expose(),
            token_type: "user",
            facebook_id: &self.facebook_user_id,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            data_access_expires_at: self.data_access_expires_at,
            scopes: &self.granted,
        }
    }
}

/// Maps a Facebook failure to the flow's error code (with no return URL: the browser flow adds
/// its own with [`returning_to`], the native sign-in answers with JSON).
fn facebook_failure(step: &str, error: &FacebookError) -> FlowFailure {
    let code = match error.kind() {
        ErrorKind::Transport
        | ErrorKind::Transient
        | ErrorKind::Throttled { .. }
        | ErrorKind::Protocol => FlowErrorCode::FacebookUnavailable,
        _ if step == "exchange" => FlowErrorCode::TokenExchangeFailed,
        ErrorKind::Auth { .. } => FlowErrorCode::TokenNotForThisApp,
        _ => FlowErrorCode::TokenExchangeFailed,
    };
    FlowFailure::page(code).with_detail(format!("{step}: {error}"))
}

/// Sends a failure back to the browser flow's validated `redirect_to`.
fn returning_to(mut failure: FlowFailure, redirect_to: &Url) -> FlowFailure {
    failure.redirect_to = Some(redirect_to.clone());
    failure
}

fn internal(redirect_to: &Url, error: impl std::fmt::Display) -> FlowFailure {
    FlowFailure::redirect(FlowErrorCode::FacebookUnavailable, redirect_to)
        .with_detail(error.to_string())
}

/// A Facebook client for a provider, sharing fbgate's HTTP connection pool.
pub async fn facebook_for(ctx: &Context, provider: &Provider) -> Result<Facebook, Error> {
    let app = providers::facebook_app(ctx, provider).await?;
    Facebook::builder(app)
        .http_client(ctx.http.clone())
        .build()
        .map_err(|e| Error::Internal(format!("facebook client: {e}")))
}

/// Where a user token to confirm comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// fbgate's own code exchange, with the app's secret: `debug_token` and `/me` go to
    /// Facebook in one batch request, and the profile is used only once `debug_token` confirmed
    /// the token.
    CodeExchange,
    /// Handed in by an app (native sign-in): nothing but `debug_token` is asked with it until
    /// `debug_token` has confirmed it.
    HandedIn,
}

/// Confirms a user token: ours, valid, and the same person as `/me`; trades it for a long-lived
/// one and reads the profile and the permissions. Failures carry no return URL; the caller
/// decides where they are reported.
pub async fn confirm_token(
    ctx: &Context,
    facebook: &Facebook,
    provider: &Provider,
    token: AccessToken,
    source: TokenSource,
) -> Result<ConfirmedLogin, FlowFailure> {
    let not_ours = |detail: &str| {
        FlowFailure::page(FlowErrorCode::TokenNotForThisApp).with_detail(detail.to_owned())
    };
    let fields = provider.settings.attribute_mapping.graph_fields();
    let field_list: Vec<&str> = fields.split(',').collect();
    // An operation that failed inside the batch is asked again on its own below, with the
    // client's retries, as it would have been without the batch.
    let (debug, batched_profile) = match source {
        TokenSource::CodeExchange => {
            let both = facebook
                .debug_token_and_me(&token, &field_list)
                .await
                .map_err(|e| facebook_failure("debug_token", &e))?;
            let debug = match both.debug {
                Ok(debug) => Ok(debug),
                Err(_) => facebook.debug_token(&token).await,
            };
            (debug, both.profile.ok())
        }
        TokenSource::HandedIn => (facebook.debug_token(&token).await, None),
    };
    let debug = debug.map_err(|e| facebook_failure("debug_token", &e))?;
    if !debug.is_valid {
        return Err(not_ours("debug_token: token is not valid"));
    }
    if !debug.is_for_app(provider.settings.client_id.as_str()) {
        return Err(not_ours("debug_token: token was issued to another app"));
    }
    let debug_user = debug
        .user_id
        .clone()
        .ok_or_else(|| not_ours("debug_token: no user id"))?;
    let now = ctx.clock.now();
    let long = facebook
        .exchange_long_lived(&token)
        .await
        .map_err(|e| facebook_failure("long-lived exchange", &e))?;
    let expires_at = long
        .expires_in
        .map(|s| now + std::time::Duration::from_secs(s));
    let token = long.access_token;
    let (profile, permissions) = match batched_profile {
        Some(read) => read,
        None => facebook
            .me_with_permissions(&token, &field_list)
            .await
            .map_err(|e| facebook_failure("me", &e))?,
    };
    if profile.id != debug_user {
        return Err(not_ours("/me names another user than debug_token"));
    }
    let mapped = provider.settings.attribute_mapping.apply(&profile.raw);
    Ok(ConfirmedLogin {
        token,
        issued_at: debug
            .issued_at
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or(now),
        expires_at,
        data_access_expires_at: debug.data_access_expires_at(),
        raw_profile: profile.raw,
        facebook_user_id: profile.id,
        mapped,
        granted: permissions
            .granted()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        declined: permissions
            .declined()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    })
}

/// Completes a browser sign-in and returns where to send the browser.
pub async fn complete(ctx: &Context, resumed: Resumed) -> Result<Url, FlowFailure> {
    let Resumed {
        attempt,
        provider,
        redirect_to,
        code,
    } = resumed;
    let facebook = facebook_for(ctx, &provider)
        .await
        .map_err(|e| internal(&redirect_to, e))?;
    let verifier = pkce_verifier(ctx, &attempt)
        .await
        .map_err(|e| internal(&redirect_to, e))?;
    let redirect_uri = super::callback_url(ctx, provider.settings.slug.as_str());
    let exchange = CodeExchange {
        redirect_uri: Some(&redirect_uri),
        code_verifier: Some(&verifier),
        ..CodeExchange::default()
    };
    let short = facebook
        .exchange_code(&AuthorizationCode::new(code), exchange)
        .await
        .map_err(|e| returning_to(facebook_failure("exchange", &e), &redirect_to))?;
    let login = confirm_token(
        ctx,
        &facebook,
        &provider,
        short.access_token,
        TokenSource::CodeExchange,
    )
    .await
    .map_err(|failure| returning_to(failure, &redirect_to))?;
    if let Some(session_id) = attempt.connect_session_id.as_deref() {
        let connection =
            crate::domain::connections::complete(ctx, &facebook, &provider, session_id, &login)
                .await
                .map_err(|e| internal(&redirect_to, e))?;
        let mut url = redirect_to;
        url.query_pairs_mut()
            .append_pair("connection_id", &connection.id)
            .append_pair("tenant_id", &connection.tenant_id)
            .append_pair("user_id", &connection.external_user_id);
        return Ok(url);
    }
    let recorded = match attempt.user_id.as_deref() {
        Some(user_id) if attempt.flow == "link" => {
            record_link(ctx, &provider, user_id, login).await
        }
        _ => record_sign_in(ctx, &provider, login).await,
    };
    let outcome = recorded.map_err(|e| match e {
        SignInError::Flow(code) => FlowFailure::redirect(code, &redirect_to),
        SignInError::Internal(e) => internal(&redirect_to, e),
    })?;
    let mut url = redirect_to;
    match &outcome.code {
        Some(code) => {
            url.query_pairs_mut().append_pair("code", code.expose());
        }
        None => {
            url.query_pairs_mut()
                .append_pair("linked", provider.settings.slug.as_str())
                .append_pair("identity_id", &outcome.identity.id);
        }
    }
    Ok(url)
}

/// Why recording a sign-in failed.
#[derive(Debug)]
pub enum SignInError {
    /// A policy refused it.
    Flow(FlowErrorCode),
    /// Storage or vault failure.
    Internal(Error),
}

impl From<Error> for SignInError {
    fn from(error: Error) -> Self {
        SignInError::Internal(error)
    }
}

impl From<StoreError> for SignInError {
    fn from(error: StoreError) -> Self {
        SignInError::Internal(error.into())
    }
}

/// The result of a recorded sign-in.
#[derive(Debug)]
pub struct RecordedSignIn {
    /// The user.
    pub user: UserRow,
    /// The identity.
    pub identity: IdentityRow,
    /// Whether the user was created now.
    pub is_new_user: bool,
    /// The one-time code for `POST /v1/sign-ins/exchange` (none when linking).
    pub code: Option<crate::vault::SecretString>,
}

fn json_list(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// Who signed in, as the user and identity records need it: from `/me`, or from the claims of a
/// Limited Login token.
#[derive(Debug, Clone)]
pub struct SignInProfile {
    /// The app-scoped user id.
    pub facebook_user_id: String,
    /// The raw profile kept on the identity.
    pub raw_profile: serde_json::Value,
    /// The profile as the provider's mapping reads it.
    pub mapped: MappedProfile,
    /// Granted and declined permissions; `None` when unknown (a Limited Login token names
    /// none), which leaves an existing identity's lists as they are.
    pub permissions: Option<(Vec<String>, Vec<String>)>,
}

/// Applies the provider's policies and writes user, identity, credential and a one-time code.
pub async fn record_sign_in(
    ctx: &Context,
    provider: &Provider,
    login: ConfirmedLogin,
) -> Result<RecordedSignIn, SignInError> {
    let profile = SignInProfile {
        facebook_user_id: login.facebook_user_id.clone(),
        raw_profile: login.raw_profile.clone(),
        mapped: login.mapped.clone(),
        permissions: Some((login.granted.clone(), login.declined.clone())),
    };
    record(ctx, provider, &profile, Some(&login), RecordMode::SignIn).await
}

/// Joins the Facebook account of a confirmed login to an existing user (the `link` flow).
/// Refused when that account belongs to another user, or when the user already holds another
/// identity of this provider; linking the same account again refreshes its token and profile.
pub async fn record_link(
    ctx: &Context,
    provider: &Provider,
    user_id: &str,
    login: ConfirmedLogin,
) -> Result<RecordedSignIn, SignInError> {
    let profile = SignInProfile {
        facebook_user_id: login.facebook_user_id.clone(),
        raw_profile: login.raw_profile.clone(),
        mapped: login.mapped.clone(),
        permissions: Some((login.granted.clone(), login.declined.clone())),
    };
    record(
        ctx,
        provider,
        &profile,
        Some(&login),
        RecordMode::Link { user_id },
    )
    .await
}

/// Whether a confirmed login signs a person in or joins their account to a user.
#[derive(Debug, Clone, Copy)]
enum RecordMode<'a> {
    SignIn,
    Link { user_id: &'a str },
}

/// Like [`record_sign_in`] for a sign-in that brought no token (Limited Login): user and
/// identity are written, no credential is stored or replaced.
pub async fn record_tokenless_sign_in(
    ctx: &Context,
    provider: &Provider,
    profile: &SignInProfile,
) -> Result<RecordedSignIn, SignInError> {
    record(ctx, provider, profile, None, RecordMode::SignIn).await
}

async fn record(
    ctx: &Context,
    provider: &Provider,
    login: &SignInProfile,
    token: Option<&ConfirmedLogin>,
    mode: RecordMode<'_>,
) -> Result<RecordedSignIn, SignInError> {
    let settings = &provider.settings;
    let env = &provider.environment_id;
    let linking = match mode {
        RecordMode::SignIn => None,
        RecordMode::Link { user_id } => Some(user_id),
    };
    if linking.is_none() && settings.email_required && login.mapped.email.is_none() {
        return Err(SignInError::Flow(FlowErrorCode::OauthNoEmailReturned));
    }
    let now = ctx.clock.now();
    let subject = ctx
        .store
        .sign_in_subject(&provider.id, &login.facebook_user_id)
        .await?;
    let (mut user, identity, new_user, new_identity) = match subject.identity {
        Some(identity) if linking.is_some_and(|user_id| identity.user_id != user_id) => {
            return Err(SignInError::Flow(FlowErrorCode::IdentityAlreadyLinked));
        }
        Some(mut identity) => {
            let mut user = subject
                .user
                .filter(|user| user.environment_id == *env)
                .ok_or_else(|| {
                    SignInError::Internal(Error::not_found(
                        "user_not_found",
                        "identity without user",
                    ))
                })?;
            // Linking an account again refreshes the identity, never the user's own profile.
            if linking.is_none() {
                if settings.sync_profile == SyncProfile::EverySignIn {
                    apply_profile(&mut user, &login.mapped);
                    user.updated_at = now;
                }
                user.last_sign_in_at = Some(now);
            }
            identity.raw_profile = login.raw_profile.to_string();
            if let Some((granted, declined)) = &login.permissions {
                identity.granted_scopes = json_list(granted);
                identity.declined_scopes = json_list(declined);
            }
            identity.synced_at = now;
            (user, identity, false, false)
        }
        None if linking.is_some() => {
            let user_id = linking.unwrap_or_default();
            let user = ctx.store.get_user(env, user_id).await?.ok_or_else(|| {
                SignInError::Internal(Error::not_found(
                    "user_not_found",
                    "the linking user no longer exists",
                ))
            })?;
            let held = ctx.store.list_identities_of_user(env, user_id).await?;
            if held.iter().any(|i| i.provider_id == provider.id) {
                return Err(SignInError::Flow(FlowErrorCode::ProviderAlreadyLinked));
            }
            let identity = new_identity_row(ctx, provider, user_id, login);
            (user, identity, false, true)
        }
        None => {
            if !settings.allow_sign_up {
                return Err(SignInError::Flow(FlowErrorCode::SignUpNotAllowed));
            }
            let mut user = UserRow {
                id: ids::new_id("usr"),
                environment_id: env.clone(),
                email: None,
                first_name: None,
                last_name: None,
                name: None,
                profile_image_url: None,
                created_via: "facebook".to_owned(),
                created_at: now,
                updated_at: now,
                last_sign_in_at: Some(now),
            };
            apply_profile(&mut user, &login.mapped);
            let identity = new_identity_row(ctx, provider, &user.id, login);
            (user, identity, true, true)
        }
    };
    let (credential, replaces_version) = match token {
        Some(token) => {
            let previous = if new_identity {
                None
            } else {
                subject.credential
            };
            let credential = credentials::seal_user_credential(
                ctx,
                provider,
                &user,
                &identity,
                previous.as_ref(),
                token,
            )
            .await?;
            (Some(credential), previous.map(|c| c.version))
        }
        None => (None, None),
    };

    // A sign-in hands the app a one-time code; a link has nothing to hand over.
    let code = linking.is_none().then(|| {
        let mut random = [0u8; 32];
        rand::fill(&mut random);
        crate::vault::SecretString::new(URL_SAFE_NO_PAD.encode(random))
    });
    let code_row = code.as_ref().map(|code| SignInCodeRow {
        code_hash: hash_key(code.expose()).to_vec(),
        environment_id: env.clone(),
        user_id: user.id.clone(),
        identity_id: identity.id.clone(),
        is_new_user: new_user,
        created_at: now,
        expires_at: now + SIGN_IN_CODE_TTL,
        used_at: None,
    });
    // New users and identities are announced in the same transaction that creates them.
    let mut events = Vec::new();
    if new_user || new_identity {
        let slug = webhooks::environment_slug(ctx, env).await?;
        if new_user {
            events.push(webhooks::user_created(&slug, &user, now).into_row(env));
        }
        if new_identity {
            let event = webhooks::identity_event(
                webhooks::EventType::IdentityLinked,
                &slug,
                &user,
                &identity,
                settings.slug.as_str(),
                now,
            );
            events.push(event.into_row(env));
        }
    }
    ctx.store
        .complete_sign_in(&SignInWrite {
            user: &user,
            new_user,
            identity: &identity,
            new_identity,
            credential: credential.as_ref(),
            replaces_version,
            code: code_row.as_ref(),
            events,
        })
        .await?;
    ctx.credential_cache.clear();
    // The picture is re-hosted after the transaction, because the `avatars` row references
    // `users` (so deleting a user deletes their avatars at once) and a new user's row exists only
    // now. The cost is one small UPDATE when fbgate's copy replaces Facebook's URL.
    let profile_synced =
        linking.is_none() && (new_user || settings.sync_profile == SyncProfile::EverySignIn);
    if profile_synced && let Some(source) = login.mapped.profile_image_url.as_deref() {
        avatars::adopt_picture(ctx, &mut user, source).await;
    }
    Ok(RecordedSignIn {
        user,
        identity,
        is_new_user: new_user,
        code,
    })
}

/// A new identity joining `user_id` to the Facebook account of `login`.
fn new_identity_row(
    ctx: &Context,
    provider: &Provider,
    user_id: &str,
    login: &SignInProfile,
) -> IdentityRow {
    let now = ctx.clock.now();
    let (granted, declined) = login
        .permissions
        .as_ref()
        .map_or((&[][..], &[][..]), |(g, d)| (g.as_slice(), d.as_slice()));
    IdentityRow {
        id: ids::new_id("idn"),
        environment_id: provider.environment_id.clone(),
        user_id: user_id.to_owned(),
        provider_id: provider.id.clone(),
        provider_user_id: login.facebook_user_id.clone(),
        raw_profile: login.raw_profile.to_string(),
        granted_scopes: json_list(granted),
        declined_scopes: json_list(declined),
        linked_at: now,
        synced_at: now,
    }
}

/// Copies the mapped profile onto the user (fields Facebook did not send are left as they are).
fn apply_profile(user: &mut UserRow, mapped: &MappedProfile) {
    if mapped.email.is_some() {
        user.email.clone_from(&mapped.email);
    }
    if mapped.first_name.is_some() {
        user.first_name.clone_from(&mapped.first_name);
    }
    if mapped.last_name.is_some() {
        user.last_name.clone_from(&mapped.last_name);
    }
    user.name = mapped
        .name
        .clone()
        .or_else(|| display_name(user.first_name.as_deref(), user.last_name.as_deref()));
    if mapped.profile_image_url.is_some() {
        user.profile_image_url.clone_from(&mapped.profile_image_url);
    }
}

/// Result of `POST /v1/sign-ins/exchange`.
#[derive(Debug)]
pub struct ExchangedSignIn {
    /// The user.
    pub user: UserRow,
    /// The identity used, with its provider and token status.
    pub identity: crate::domain::identities::IdentityDetails,
    /// Whether the sign-in created the user.
    pub is_new_user: bool,
    /// The new session.
    pub session: sessions::NewSession,
}

/// Trades a one-time sign-in code for a session (once, within 60 seconds).
pub async fn exchange_code(
    ctx: &Context,
    environment_id: &str,
    code: &str,
) -> Result<ExchangedSignIn, Error> {
    let invalid = || Error::Invalid {
        field: "code".to_owned(),
        code: "invalid_sign_in_code",
        message: "the sign-in code is unknown, used or expired (codes work once, for 60 seconds)"
            .to_owned(),
    };
    let token = sessions::new_token();
    let redeemed = ctx
        .store
        .redeem_sign_in_code(
            environment_id,
            &hash_key(code),
            ctx.clock.now(),
            |user_id| sessions::new_row(ctx, environment_id, user_id, &token),
        )
        .await?
        .ok_or_else(invalid)?;
    let (Some(user), Some(identity), Some(session)) =
        (redeemed.user, redeemed.identity, redeemed.session)
    else {
        return Err(invalid());
    };
    let identity =
        crate::domain::identities::details_with(ctx, identity, redeemed.credential).await?;
    let session = sessions::started(ctx, session, token).await?;
    Ok(ExchangedSignIn {
        user,
        identity,
        is_new_user: redeemed.code.is_new_user,
        session,
    })
}
