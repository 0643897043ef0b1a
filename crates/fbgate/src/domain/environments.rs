//! Environments: isolated worlds of users, providers and credentials, each with its own keys.

use std::sync::Arc;

use moka::future::Cache;

use super::api_keys::{self, Mode, NewKey};
use super::pagination::{Page, paginate};
use super::slug::Slug;
use super::{Context, Error};
use crate::ids;
use crate::store::{ApiKeyKind, EnvironmentRow, StoreError};
use crate::vault::SecretString;

/// A request to create an environment, parsed.
#[derive(Debug, Clone)]
pub struct NewEnvironment {
    /// Unique slug.
    pub slug: Slug,
    /// Display name (defaults to the slug).
    pub name: String,
    /// Key prefix mode.
    pub mode: Mode,
}

impl NewEnvironment {
    /// Parses raw input; errors name the field.
    pub fn parse(slug: &str, name: Option<&str>, mode: Option<Mode>) -> Result<Self, Error> {
        let slug = Slug::parse("slug", slug)?;
        let name = match name.map(str::trim) {
            None => slug.as_str().to_owned(),
            Some(name) if name.is_empty() || name.chars().count() > 100 => {
                return Err(Error::invalid("name", "`name` must be 1-100 characters"));
            }
            Some(name) => name.to_owned(),
        };
        Ok(Self {
            slug,
            name,
            mode: mode.unwrap_or(Mode::Live),
        })
    }
}

/// A created environment with the only copy of its first keys.
#[derive(Debug)]
pub struct CreatedEnvironment {
    /// The stored row.
    pub environment: EnvironmentRow,
    /// `sk_…`, shown once.
    pub secret_key: SecretString,
    /// `pk_…`, shown once.
    pub publishable_key: SecretString,
}

/// Creates an environment, its sealed environment key, and a secret and a publishable key.
pub async fn create(ctx: &Context, new: NewEnvironment) -> Result<CreatedEnvironment, Error> {
    let now = ctx.clock.now();
    let id = ids::new_id("env");
    let sealed = ctx.vault.new_environment_key(&id)?;
    let environment = EnvironmentRow {
        id: id.clone(),
        slug: new.slug.as_str().to_owned(),
        name: new.name,
        mode: new.mode.as_str().to_owned(),
        key_id: sealed.key_id,
        wrapped_key: sealed.wrapped_key,
        master_key_id: sealed.master_key_id,
        created_at: now,
    };
    let NewKey {
        row: secret_row,
        text: secret_key,
    } = api_keys::generate(&id, new.mode, ApiKeyKind::Secret, now);
    let NewKey {
        row: publishable_row,
        text: publishable_key,
    } = api_keys::generate(&id, new.mode, ApiKeyKind::Publishable, now);
    ctx.store
        .insert_environment(&environment, &[secret_row, publishable_row])
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => Error::Conflict {
                code: "slug_taken",
                message: format!("an environment with slug `{}` already exists", new.slug),
            },
            other => other.into(),
        })?;
    Ok(CreatedEnvironment {
        environment,
        secret_key,
        publishable_key,
    })
}

/// One page of environments, in creation order.
pub async fn list(
    ctx: &Context,
    page: Page,
) -> Result<(Vec<EnvironmentRow>, Option<String>), Error> {
    let rows = ctx
        .store
        .list_environments(page.after.as_deref(), page.limit + 1)
        .await?;
    Ok(paginate(rows, page.limit, |row| row.id.clone()))
}

/// Reads one environment.
pub async fn get(ctx: &Context, id: &str) -> Result<EnvironmentRow, Error> {
    ctx.store
        .get_environment(id)
        .await?
        .ok_or_else(|| Error::not_found("environment_not_found", "environment not found"))
}

/// The slug of an environment. Slugs never change and environments are never deleted, so each
/// is read from the database once per process ([`SlugCache`]): every session JWT and every
/// webhook event names its environment by slug.
pub async fn slug(ctx: &Context, id: &str) -> Result<String, Error> {
    if let Some(slug) = ctx.environment_slugs.0.get(id).await {
        return Ok(slug.as_ref().to_owned());
    }
    let environment = get(ctx, id).await?;
    ctx.environment_slugs
        .0
        .insert(id.to_owned(), Arc::from(environment.slug.as_str()))
        .await;
    Ok(environment.slug)
}

/// Environment slugs by id (see [`slug`]).
#[derive(Debug, Clone)]
pub struct SlugCache(Cache<String, Arc<str>>);

impl SlugCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self(Cache::builder().max_capacity(10_000).build())
    }
}

impl Default for SlugCache {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads one environment by slug.
pub async fn get_by_slug(ctx: &Context, slug: &str) -> Result<Option<EnvironmentRow>, Error> {
    Ok(ctx.store.get_environment_by_slug(slug).await?)
}
