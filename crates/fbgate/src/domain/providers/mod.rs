//! OAuth providers: the Facebook apps an environment signs users in with (the authn.sh shape).
//!
//! A provider is created and changed through one input shape, [`ProviderInput`], in which every
//! field may be absent (keep the current value, or the default on creation), `null` (back to the
//! default: for `config_id` and the base URLs that means "none") or a value. After the fields are
//! parsed one by one, the combined result is checked as a whole (`config_id` belongs to Login for
//! Business and only to it, a system-user token only to Login for Business), so a PATCH can never
//! leave a provider in a state that a POST would refuse.
//!
//! The client secret is sealed by the vault with the environment's data key, bound to the
//! environment and the provider id, and only [`client_secret`] opens it; no answer carries it.

mod attribute_mapping;
mod fields;
mod redirect_urls;
mod row;
mod settings;

use std::sync::Arc;

use fbgate_facebook::{AppSecret, FacebookApp};
use moka::future::Cache;
use time::OffsetDateTime;

pub use attribute_mapping::{Attribute, AttributeMapping, MappedProfile, ProfilePath, USER_FIELDS};
pub use fields::{
    BaseUrl, ClientId, ClientSecret, ConfigId, EnabledFor, LoginProduct, ProviderKey, ProviderKind,
    ProviderName, ProviderUse, Scopes, SyncProfile, TokenType,
};
pub use redirect_urls::{AllowedRedirectUrls, RedirectUrlPattern};
pub use settings::{DEFAULT_GRAPH_API_VERSION, Given, ProviderInput, ProviderSettings};

use super::pagination::{Page, paginate};
use super::slug::Slug;
use super::{Context, Error};
use crate::ids;
use crate::store::StoreError;
use crate::vault::{Aad, KeyScope, SecretString};

/// A stored provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// `prv_…`
    pub id: String,
    /// The owning environment.
    pub environment_id: String,
    /// Its settings.
    pub settings: ProviderSettings,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last change.
    pub updated_at: OffsetDateTime,
    client_secret_ciphertext: Vec<u8>,
}

/// The associated data that binds a provider's sealed secret to its row.
pub(crate) fn client_secret_aad(environment_id: &str, provider_id: &str) -> Aad {
    Aad::new("client_secret")
        .with(environment_id)
        .with(provider_id)
}

fn not_found() -> Error {
    Error::not_found("provider_not_found", "no OAuth provider with this id")
}

fn slug_taken(slug: &Slug) -> impl FnOnce(StoreError) -> Error {
    let message = format!("a provider with slug `{slug}` already exists in this environment");
    move |error| match error {
        StoreError::Conflict(_) => Error::Conflict {
            code: "provider_slug_taken",
            message,
        },
        other => other.into(),
    }
}

async fn seal_secret(
    ctx: &Context,
    environment_id: &str,
    provider_id: &str,
    secret: &ClientSecret,
) -> Result<Vec<u8>, Error> {
    Ok(ctx
        .vault
        .seal(
            environment_id,
            &KeyScope::Environment,
            &client_secret_aad(environment_id, provider_id),
            secret.expose().as_bytes(),
        )
        .await?)
}

/// Creates a provider in an environment.
pub async fn create(
    ctx: &Context,
    environment_id: &str,
    mut input: ProviderInput,
) -> Result<Provider, Error> {
    let secret = std::mem::take(&mut input.client_secret);
    let settings = ProviderSettings::resolve(input, None)?;
    let Given::Value(secret) = secret else {
        return Err(Error::invalid(
            "client_secret",
            "`client_secret` is required (the Facebook app secret)",
        ));
    };
    let secret = ClientSecret::parse("client_secret", secret)?;
    let id = ids::new_id("prv");
    let now = ctx.clock.now();
    let provider = Provider {
        client_secret_ciphertext: seal_secret(ctx, environment_id, &id, &secret).await?,
        id,
        environment_id: environment_id.to_owned(),
        settings,
        created_at: now,
        updated_at: now,
    };
    ctx.store
        .insert_provider(&provider.to_row())
        .await
        .map_err(slug_taken(&provider.settings.slug))?;
    Ok(provider)
}

/// One page of an environment's providers, in creation order.
pub async fn list(
    ctx: &Context,
    environment_id: &str,
    page: Page,
) -> Result<(Vec<Provider>, Option<String>), Error> {
    let rows = ctx
        .store
        .list_providers(environment_id, page.after.as_deref(), page.limit + 1)
        .await?;
    let (rows, next) = paginate(rows, page.limit, |row| row.id.clone());
    let providers = rows
        .into_iter()
        .map(Provider::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((providers, next))
}

/// Reads one provider of an environment; another environment's is `provider_not_found`.
pub async fn get(ctx: &Context, environment_id: &str, id: &str) -> Result<Provider, Error> {
    let row = ctx
        .store
        .get_provider(environment_id, id)
        .await?
        .ok_or_else(not_found)?;
    Provider::from_row(row)
}

/// Reads one provider of an environment by slug (as sign-in URLs name it).
pub async fn get_by_slug(
    ctx: &Context,
    environment_id: &str,
    slug: &str,
) -> Result<Provider, Error> {
    let key = (environment_id.to_owned(), slug.to_owned());
    if let Some(provider) = ctx.provider_cache.0.get(&key).await {
        return Ok((*provider).clone());
    }
    let row = ctx
        .store
        .get_provider_by_slug(environment_id, slug)
        .await?
        .ok_or_else(|| {
            Error::not_found("provider_not_found", "no OAuth provider with this slug")
        })?;
    let provider = Provider::from_row(row)?;
    ctx.provider_cache
        .0
        .insert(key, Arc::new(provider.clone()))
        .await;
    Ok(provider)
}

/// Recently read providers by (environment, slug): every sign-in step and every
/// `credentials/get` names its provider by slug, and a provider changes rarely. A change made
/// through this process is seen at once; one made through another replica within
/// [`PROVIDER_CACHE_TTL`].
#[derive(Debug, Clone)]
pub struct ProviderCache(
    Arc<Cache<(String, String), Arc<Provider>>>,
    /// The same providers by id, for Facebook's callbacks.
    Arc<Cache<String, Arc<Provider>>>,
);

/// How long another replica's change to a provider may take to be seen here.
pub const PROVIDER_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(15);

impl ProviderCache {
    /// An empty cache.
    pub fn new() -> Self {
        fn cache<K, V>() -> Arc<Cache<K, V>>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            Arc::new(
                Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(PROVIDER_CACHE_TTL)
                    .build(),
            )
        }
        Self(cache(), cache())
    }

    /// Forgets everything (after a change: slugs may have moved).
    pub fn clear(&self) {
        self.0.invalidate_all();
        self.1.invalidate_all();
    }
}

impl Default for ProviderCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads one provider by id alone, for Facebook's callbacks, which carry no API key.
pub async fn find_by_id(ctx: &Context, id: &str) -> Result<Provider, Error> {
    if let Some(provider) = ctx.provider_cache.1.get(id).await {
        return Ok((*provider).clone());
    }
    let row = ctx
        .store
        .find_provider_by_id(id)
        .await?
        .ok_or_else(not_found)?;
    let provider = Provider::from_row(row)?;
    ctx.provider_cache
        .1
        .insert(id.to_owned(), Arc::new(provider.clone()))
        .await;
    Ok(provider)
}

/// Changes a provider: the given fields are applied and the result is checked as on creation.
/// A new `client_secret` is sealed afresh.
pub async fn update(
    ctx: &Context,
    environment_id: &str,
    id: &str,
    mut input: ProviderInput,
) -> Result<Provider, Error> {
    let current = get(ctx, environment_id, id).await?;
    let secret = std::mem::take(&mut input.client_secret);
    let settings = ProviderSettings::resolve(input, Some(&current.settings))?;
    let client_secret_ciphertext = match secret {
        Given::Absent => current.client_secret_ciphertext,
        Given::Null => {
            return Err(Error::invalid(
                "client_secret",
                "`client_secret` cannot be removed; send the new secret to replace it",
            ));
        }
        Given::Value(secret) => {
            let secret = ClientSecret::parse("client_secret", secret)?;
            seal_secret(ctx, environment_id, id, &secret).await?
        }
    };
    let provider = Provider {
        id: current.id,
        environment_id: current.environment_id,
        settings,
        created_at: current.created_at,
        updated_at: ctx.clock.now(),
        client_secret_ciphertext,
    };
    let updated = ctx
        .store
        .update_provider(&provider.to_row())
        .await
        .map_err(slug_taken(&provider.settings.slug))?;
    ctx.provider_cache.clear();
    if !updated {
        return Err(not_found());
    }
    Ok(provider)
}

/// Deletes a provider and answers with what it was.
pub async fn delete(ctx: &Context, environment_id: &str, id: &str) -> Result<Provider, Error> {
    let provider = get(ctx, environment_id, id).await?;
    ctx.provider_cache.clear();
    // The provider's identities and credentials go with it.
    ctx.credential_cache.clear();
    if !ctx.store.delete_provider(environment_id, id).await? {
        return Err(not_found());
    }
    Ok(provider)
}

/// Opens the provider's client secret, for the calls to Facebook that need it.
pub async fn client_secret(ctx: &Context, provider: &Provider) -> Result<SecretString, Error> {
    Ok(ctx
        .vault
        .open_string(
            &provider.environment_id,
            &client_secret_aad(&provider.environment_id, &provider.id),
            &provider.client_secret_ciphertext,
        )
        .await?)
}

/// The provider as the Facebook client sees it: app id, opened secret, Graph version and, when
/// set, the base URLs of a Facebook that is not the real one.
pub async fn facebook_app(ctx: &Context, provider: &Provider) -> Result<FacebookApp, Error> {
    let secret = client_secret(ctx, provider).await?;
    let settings = &provider.settings;
    let mut app = FacebookApp::new(
        settings.client_id.as_str(),
        AppSecret::new(secret.expose().as_str()),
    )
    .with_graph_version(settings.graph_api_version.clone());
    if let Some(url) = &settings.facebook_base_url {
        app = app.with_www_base_url(url.url().clone());
    }
    if let Some(url) = &settings.graph_base_url {
        app = app.with_graph_base_url(url.url().clone());
    }
    Ok(app)
}

#[cfg(test)]
mod tests;
