//! Connections: Facebook credentials for users of the app's own tenants (the Authpipe job).
//!
//! The app's backend asks for a connect session bound to its `tenant_id` and `user_id`, and
//! sends the user's browser to the session's authorization URL. That URL carries a single-use
//! token (15 minutes), so the browser needs no key; opening it starts the same browser flow as a
//! sign-in (state, PKCE, cookie), with the provider's `api_access` use. When Facebook returns,
//! the token is confirmed and made long-lived exactly as for a sign-in, then stored as the
//! credential of (tenant, user), sealed under the tenant's own data key. When `pages_show_list`
//! is granted, every page from `/me/accounts` gets its own `page` credential.
//!
//! Connecting the same (tenant, user) again replaces the token and keeps the connection's and the
//! credential's ids, and announces `credential.refreshed`.

use std::collections::HashMap;
use std::time::Duration;

use fbgate_facebook::Facebook;
use url::Url;

use super::api_keys::hash_key;
use super::credentials::{self, Address, Links, NewToken, Owner};
use super::flows::sign_in::ConfirmedLogin;
use super::flows::{self, FlowKind, StartRequest, Started};
use super::pagination::{self, PageRequest};
use super::providers::{self, LoginProduct, Provider, ProviderUse, Scopes, TokenType};
use super::webhooks::{self, EventType};
use super::{Context, Error};
use crate::ids;
use crate::store::{ConnectSessionRow, ConnectionRow, ConnectionWrite, CredentialRow, StoreError};
use crate::vault::{KeyScope, SecretString};

/// How long a connect session's authorization URL stays usable.
pub const CONNECT_SESSION_TTL: Duration = Duration::from_secs(15 * 60);

/// The permission that makes Facebook list the user's pages.
const PAGES_PERMISSION: &str = "pages_show_list";

/// What the app asks for.
#[derive(Debug, Clone)]
pub struct NewConnectSession {
    /// The provider's slug.
    pub provider: String,
    /// The app's tenant.
    pub tenant_id: String,
    /// The app's user.
    pub user_id: String,
    /// `user` or `installation`.
    pub flow: String,
    /// Where the browser returns.
    pub redirect_to: String,
    /// Permissions replacing the provider's.
    pub scopes: Option<Vec<String>>,
}

/// A created connect session.
#[derive(Debug)]
pub struct CreatedConnectSession {
    /// The single-use token (also inside `authorization_url`).
    pub token: SecretString,
    /// Where to send the user's browser.
    pub authorization_url: Url,
    /// The token is refused after this.
    pub expires_at: time::OffsetDateTime,
}

/// A connection with its credentials (user first, then pages).
#[derive(Debug, Clone)]
pub struct ConnectionDetails {
    /// The connection.
    pub connection: ConnectionRow,
    /// The provider's slug.
    pub provider_slug: String,
    /// Its credentials.
    pub credentials: Vec<CredentialRow>,
}

/// Creates a connect session: checks the provider, ids, flow, `redirect_to` and scopes.
pub async fn create_session(
    ctx: &Context,
    environment_id: &str,
    request: NewConnectSession,
) -> Result<CreatedConnectSession, Error> {
    let provider = providers::get_by_slug(ctx, environment_id, &request.provider).await?;
    credentials::address::check_id("tenant_id", &request.tenant_id)?;
    credentials::address::check_id("user_id", &request.user_id)?;
    match request.flow.as_str() {
        "user" => {}
        "installation" => return Err(installation_refused(&provider)),
        _ => {
            return Err(Error::invalid(
                "flow",
                "`flow` must be `user` or `installation`",
            ));
        }
    }
    flows::check_enabled(&provider, ProviderUse::ApiAccess)?;
    let redirect_to = flows::allowed_redirect(&provider, &request.redirect_to)?;
    let scopes = match &request.scopes {
        Some(list) => Some(Scopes::parse("scopes", list)?),
        None => None,
    };
    let mut random = [0u8; 32];
    rand::fill(&mut random);
    let token = format!(
        "cst_{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, random)
    );
    let now = ctx.clock.now();
    let expires_at = now + CONNECT_SESSION_TTL;
    ctx.store
        .insert_connect_session(&ConnectSessionRow {
            id: ids::new_id("cns"),
            environment_id: environment_id.to_owned(),
            provider_id: provider.id.clone(),
            token_hash: hash_key(&token).to_vec(),
            tenant_id: request.tenant_id,
            external_user_id: request.user_id,
            flow: request.flow,
            redirect_to: redirect_to.to_string(),
            scopes: scopes.map(|s| serde_json::Value::from(s.as_slice().to_vec()).to_string()),
            created_at: now,
            expires_at,
            used_at: None,
        })
        .await?;
    let slug = provider.settings.slug.as_str();
    let mut authorization_url = Url::parse(&format!(
        "{}/v1/oauth/{slug}/authorize",
        ctx.settings.issuer
    ))
    .map_err(|e| Error::Internal(format!("issuer is not a URL base: {e}")))?;
    authorization_url
        .query_pairs_mut()
        .append_pair("connect_token", &token);
    Ok(CreatedConnectSession {
        token: SecretString::new(token),
        authorization_url,
        expires_at,
    })
}

/// The answer to `flow: installation`: 422, naming what the provider lacks, or that
/// installations are not available through connect sessions in this version.
fn installation_refused(provider: &Provider) -> Error {
    let settings = &provider.settings;
    let message = if settings.login_product != LoginProduct::FacebookLoginForBusiness
        || settings.token_type != TokenType::SystemUser
    {
        "`flow: installation` needs a provider with `login_product: facebook_login_for_business` \
         and `token_type: system_user`"
    } else {
        "installations (Business Integration System User tokens) are not available through \
         connect sessions in this version of fbgate"
    };
    Error::Invalid {
        field: "flow".to_owned(),
        code: "installation_not_supported",
        message: message.to_owned(),
    }
}

/// Starts the connect flow of a token (once) in the browser that opened its URL.
pub async fn begin(ctx: &Context, slug: &str, token: &str) -> Result<Started, Error> {
    let invalid = || Error::Invalid {
        field: "connect_token".to_owned(),
        code: "invalid_connect_token",
        message: "this link is unknown, used or expired; ask the app for a new one".to_owned(),
    };
    let session = ctx
        .store
        .consume_connect_session(&hash_key(token), ctx.clock.now())
        .await?
        .ok_or_else(invalid)?;
    let provider = providers::find_by_id(ctx, &session.provider_id).await?;
    if provider.settings.slug.as_str() != slug {
        return Err(invalid());
    }
    let scopes = session
        .scopes
        .as_deref()
        .and_then(|text| serde_json::from_str::<Vec<String>>(text).ok())
        .map(|list| list.join(","));
    flows::start(
        ctx,
        &session.environment_id,
        StartRequest {
            provider_slug: slug,
            redirect_to: &session.redirect_to,
            scopes: scopes.as_deref(),
            rerequest: false,
            kind: FlowKind::Connect {
                connect_session_id: session.id,
            },
        },
    )
    .await
}

/// Stores the confirmed login of a connect flow as the credential of the session's (tenant,
/// user), with its pages' credentials.
pub async fn complete(
    ctx: &Context,
    facebook: &Facebook,
    provider: &Provider,
    connect_session_id: &str,
    login: &ConfirmedLogin,
) -> Result<ConnectionRow, Error> {
    let session = ctx
        .store
        .get_connect_session(connect_session_id)
        .await?
        .ok_or_else(|| Error::Internal("the flow's connect session is gone".to_owned()))?;
    let env = &session.environment_id;
    let now = ctx.clock.now();
    let existing = ctx
        .store
        .connection_of(
            env,
            &provider.id,
            &session.tenant_id,
            &session.external_user_id,
        )
        .await?;
    let new_connection = existing.is_none();
    let connection = match existing {
        Some(mut connection) => {
            connection.facebook_user_id = login.facebook_user_id.clone();
            connection.updated_at = now;
            connection
        }
        None => ConnectionRow {
            id: ids::new_id("con"),
            environment_id: env.clone(),
            provider_id: provider.id.clone(),
            tenant_id: session.tenant_id.clone(),
            external_user_id: session.external_user_id.clone(),
            facebook_user_id: login.facebook_user_id.clone(),
            created_at: now,
            updated_at: now,
        },
    };
    let owner = Owner::TenantUser {
        tenant_id: session.tenant_id.clone(),
        user_id: session.external_user_id.clone(),
    };
    let held = ctx.store.connection_credentials(&connection.id).await?;
    let address = Address::of(owner.clone());
    let previous = match held.iter().find(|c| c.page_id.is_none()) {
        Some(row) => Some(row.clone()),
        // A connection deleted and made again, or a row left by an older connection id.
        None => {
            ctx.store
                .credential_at(env, &provider.id, &address.key())
                .await?
        }
    };
    let links = Links {
        connection_id: Some(&connection.id),
        ..Links::default()
    };
    let credential = credentials::seal(
        ctx,
        provider,
        &address,
        links,
        previous.as_ref(),
        login.new_token(),
    )
    .await?;

    let held_pages: HashMap<&str, &CredentialRow> = held
        .iter()
        .filter_map(|c| c.page_id.as_deref().map(|page| (page, c)))
        .collect();
    let pages = match fetch_pages(facebook, login).await {
        Ok(pages) => Some(pages),
        Err(error) => {
            tracing::warn!(connection = %connection.id, %error,
                "cannot read the user's pages; their stored page tokens are kept");
            None
        }
    };
    let mut page_rows = Vec::new();
    let mut removed_pages = Vec::new();
    if let Some(pages) = &pages {
        for page in pages {
            let previous = held_pages.get(page.id.as_str()).copied();
            let links = Links {
                connection_id: Some(&connection.id),
                parent_id: Some(&credential.id),
                ..Links::default()
            };
            let row = credentials::seal(
                ctx,
                provider,
                &Address::page(owner.clone(), page.id.clone()),
                links,
                previous,
                NewToken {
                    token: page.token.expose(),
                    token_type: "page",
                    facebook_id: &page.id,
                    issued_at: now,
                    // A page token derived from a long-lived user token does not expire.
                    expires_at: None,
                    data_access_expires_at: login.data_access_expires_at,
                    scopes: &login.granted,
                },
            )
            .await?;
            page_rows.push((row, previous.map(|p| p.version)));
        }
        removed_pages = held_pages
            .iter()
            .filter(|(id, _)| !pages.iter().any(|p| p.id == **id))
            .map(|(_, row)| row.id.clone())
            .collect();
    }

    let mut events = Vec::new();
    if previous.is_some() {
        let event = webhooks::new_event(
            ctx,
            env,
            EventType::CredentialRefreshed,
            serde_json::json!({
                "credential": credentials::data(
                    &credential,
                    provider.settings.slug.as_str(),
                    now,
                    &ctx.settings.credentials,
                ),
                "connection_id": connection.id,
            }),
        )
        .await?;
        events.push(event.into_row(env));
    }
    let write = ConnectionWrite {
        connection: &connection,
        new_connection,
        credential: (&credential, previous.as_ref().map(|p| p.version)),
        pages: page_rows.iter().map(|(row, v)| (row, *v)).collect(),
        removed_pages,
        events,
    };
    let saved = ctx.store.save_connection(&write).await;
    ctx.credential_cache.clear();
    match saved {
        Ok(()) => Ok(connection),
        Err(StoreError::Conflict(_)) => Err(Error::Conflict {
            code: "connection_changed",
            message: "this connection was replaced by another flow at the same time".to_owned(),
        }),
        Err(other) => Err(other.into()),
    }
}

/// A page and its token.
struct PageToken {
    id: String,
    token: fbgate_facebook::AccessToken,
}

/// The pages the user manages, with their tokens: none unless `pages_show_list` is granted.
async fn fetch_pages(
    facebook: &Facebook,
    login: &ConfirmedLogin,
) -> Result<Vec<PageToken>, fbgate_facebook::FacebookError> {
    if !login.granted.iter().any(|p| p == PAGES_PERMISSION) {
        return Ok(Vec::new());
    }
    let pages = facebook.all_accounts(&login.token).await?;
    Ok(pages
        .into_iter()
        .filter_map(|page| {
            page.access_token
                .map(|token| PageToken { id: page.id, token })
        })
        .collect())
}

/// A connection with its credentials.
pub async fn get(
    ctx: &Context,
    environment_id: &str,
    id: &str,
) -> Result<ConnectionDetails, Error> {
    let connection = ctx
        .store
        .get_connection(environment_id, id)
        .await?
        .ok_or_else(|| Error::not_found("connection_not_found", "no such connection"))?;
    details(ctx, connection).await
}

async fn details(ctx: &Context, connection: ConnectionRow) -> Result<ConnectionDetails, Error> {
    let provider = providers::find_by_id(ctx, &connection.provider_id).await?;
    let credentials = ctx.store.connection_credentials(&connection.id).await?;
    Ok(ConnectionDetails {
        provider_slug: provider.settings.slug.as_str().to_owned(),
        connection,
        credentials,
    })
}

/// One page of connections, optionally of one tenant.
pub async fn list(
    ctx: &Context,
    environment_id: &str,
    tenant_id: Option<&str>,
    page: PageRequest,
) -> Result<(Vec<ConnectionDetails>, Option<String>), Error> {
    let page = page.parse()?;
    if let Some(tenant) = tenant_id {
        credentials::address::check_id("tenant_id", tenant)?;
    }
    let rows = ctx
        .store
        .list_connections(
            environment_id,
            tenant_id,
            page.after.as_deref(),
            page.limit + 1,
        )
        .await?;
    let (rows, next) = pagination::paginate(rows, page.limit, |c| c.id.clone());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(details(ctx, row).await?);
    }
    Ok((out, next))
}

/// Deletes a connection and destroys its tokens.
pub async fn delete(ctx: &Context, environment_id: &str, id: &str) -> Result<(), Error> {
    let deleted = ctx.store.delete_connection(environment_id, id).await?;
    ctx.credential_cache.clear();
    if !deleted {
        return Err(Error::not_found(
            "connection_not_found",
            "no such connection",
        ));
    }
    Ok(())
}

/// What deleting a tenant's connections did.
#[derive(Debug, Clone, Copy)]
pub struct TenantDeletion {
    /// Connections deleted.
    pub connections: u64,
    /// Data keys destroyed (crypto-shredding), when asked.
    pub keys_shredded: u64,
}

/// Deletes every connection of a tenant; with `shred`, also destroys the tenant's data keys, so
/// that no copy of its tokens (a backup, a replica) can ever be opened again.
pub async fn delete_tenant(
    ctx: &Context,
    environment_id: &str,
    tenant_id: &str,
    shred: bool,
) -> Result<TenantDeletion, Error> {
    credentials::address::check_id("tenant_id", tenant_id)?;
    let connections = ctx
        .store
        .delete_tenant_connections(environment_id, tenant_id)
        .await?;
    ctx.credential_cache.clear();
    let keys_shredded = if shred {
        ctx.vault
            .shred(environment_id, &KeyScope::Tenant(tenant_id.to_owned()))
            .await?
    } else {
        0
    };
    Ok(TenantDeletion {
        connections,
        keys_shredded,
    })
}
