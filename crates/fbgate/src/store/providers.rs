//! Queries on `oauth_providers`.
//!
//! Rows are stored as the domain writes them: list-valued settings as JSON text, the client
//! secret as a vault envelope. This module does not interpret either; `domain::providers` parses
//! a row back into typed settings.

use time::OffsetDateTime;

use super::{Store, StoreError, conflict_on_unique, with_pool};

/// A row of `oauth_providers`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProviderRow {
    /// `prv_…`
    pub id: String,
    /// The owning environment.
    pub environment_id: String,
    /// Unique per environment; names the provider in URLs.
    pub slug: String,
    /// `preset`.
    pub provider_kind: String,
    /// `facebook`.
    pub provider_key: String,
    /// Display name.
    pub name: String,
    /// The Facebook app id.
    pub client_id: String,
    /// The app secret, sealed by the vault.
    pub client_secret_ciphertext: Vec<u8>,
    /// JSON array of scope names.
    pub scopes: String,
    /// JSON object: attribute → dot-path into `/me`.
    pub attribute_mapping: String,
    /// JSON array of `sign_in`, `linking`, `api_access`.
    pub enabled_for: String,
    /// JSON array of redirect URL patterns.
    pub allowed_redirect_urls: String,
    /// `facebook_login` or `facebook_login_for_business`.
    pub login_product: String,
    /// Login for Business configuration id.
    pub config_id: Option<String>,
    /// `user` or `system_user`.
    pub token_type: String,
    /// Whether unknown Facebook users may sign up.
    pub allow_sign_up: bool,
    /// `every_sign_in` or `sign_up_only`.
    pub sync_profile: String,
    /// Whether a sign-in without an email address is refused.
    pub email_required: bool,
    /// Whether unlinking an identity also revokes the app's permissions at Facebook.
    pub revoke_on_unlink: bool,
    /// Whether a data-deletion request deletes a user that only Facebook made.
    pub delete_user_on_data_deletion: bool,
    /// `v<major>.<minor>`.
    pub graph_api_version: String,
    /// Origin of the login dialog; NULL for the real Facebook.
    pub facebook_base_url: Option<String>,
    /// Origin of the Graph API; NULL for the real Facebook.
    pub graph_base_url: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Time of the last change.
    pub updated_at: OffsetDateTime,
}

impl ProviderRow {
    /// The error for a column of this row that does not hold a value fbgate writes.
    pub fn corrupt(&self, column: &'static str) -> StoreError {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("oauth_providers row {} holds an unreadable value", self.id).into(),
        })
    }
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, slug, provider_kind, provider_key, name, client_id,
                client_secret_ciphertext, scopes, attribute_mapping, enabled_for,
                allowed_redirect_urls, login_product, config_id, token_type, allow_sign_up,
                sync_profile, email_required, revoke_on_unlink, graph_api_version,
                facebook_base_url, graph_base_url, created_at, updated_at,
                delete_user_on_data_deletion
             FROM oauth_providers ",
            $rest
        )
    };
}

impl Store {
    /// Inserts a provider; a slug already used in the environment is `Conflict("slug")`.
    pub async fn insert_provider(&self, row: &ProviderRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO oauth_providers (id, environment_id, slug, provider_kind, provider_key,
                    name, client_id, client_secret_ciphertext, scopes, attribute_mapping, enabled_for,
                    allowed_redirect_urls, login_product, config_id, token_type, allow_sign_up,
                    sync_profile, email_required, revoke_on_unlink, graph_api_version,
                    facebook_base_url, graph_base_url, created_at, updated_at,
                    delete_user_on_data_deletion)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                    $17, $18, $19, $20, $21, $22, $23, $24, $25)",
            )
            .bind(&row.id)
            .bind(&row.environment_id)
            .bind(&row.slug)
            .bind(&row.provider_kind)
            .bind(&row.provider_key)
            .bind(&row.name)
            .bind(&row.client_id)
            .bind(&row.client_secret_ciphertext)
            .bind(&row.scopes)
            .bind(&row.attribute_mapping)
            .bind(&row.enabled_for)
            .bind(&row.allowed_redirect_urls)
            .bind(&row.login_product)
            .bind(&row.config_id)
            .bind(&row.token_type)
            .bind(row.allow_sign_up)
            .bind(&row.sync_profile)
            .bind(row.email_required)
            .bind(row.revoke_on_unlink)
            .bind(&row.graph_api_version)
            .bind(&row.facebook_base_url)
            .bind(&row.graph_base_url)
            .bind(row.created_at)
            .bind(row.updated_at)
            .bind(row.delete_user_on_data_deletion)
            .execute(pool)
            .await
            .map_err(conflict_on_unique("slug"))?;
        });
        Ok(())
    }

    /// Rewrites every changeable column of a provider of `row.environment_id`. Returns false when
    /// the provider no longer exists; a slug already used is `Conflict("slug")`.
    pub async fn update_provider(&self, row: &ProviderRow) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE oauth_providers SET slug = $1, provider_kind = $2, provider_key = $3,
                    name = $4, client_id = $5, client_secret_ciphertext = $6, scopes = $7,
                    attribute_mapping = $8, enabled_for = $9, allowed_redirect_urls = $10,
                    login_product = $11, config_id = $12, token_type = $13, allow_sign_up = $14,
                    sync_profile = $15, email_required = $16, revoke_on_unlink = $17,
                    graph_api_version = $18, facebook_base_url = $19, graph_base_url = $20,
                    updated_at = $21, delete_user_on_data_deletion = $24
                 WHERE environment_id = $22 AND id = $23",
            )
            .bind(&row.slug)
            .bind(&row.provider_kind)
            .bind(&row.provider_key)
            .bind(&row.name)
            .bind(&row.client_id)
            .bind(&row.client_secret_ciphertext)
            .bind(&row.scopes)
            .bind(&row.attribute_mapping)
            .bind(&row.enabled_for)
            .bind(&row.allowed_redirect_urls)
            .bind(&row.login_product)
            .bind(&row.config_id)
            .bind(&row.token_type)
            .bind(row.allow_sign_up)
            .bind(&row.sync_profile)
            .bind(row.email_required)
            .bind(row.revoke_on_unlink)
            .bind(&row.graph_api_version)
            .bind(&row.facebook_base_url)
            .bind(&row.graph_base_url)
            .bind(row.updated_at)
            .bind(&row.environment_id)
            .bind(&row.id)
            .bind(row.delete_user_on_data_deletion)
            .execute(pool)
            .await
            .map_err(conflict_on_unique("slug"))?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Reads one provider of one environment.
    pub async fn get_provider(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<ProviderRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND id = $2"))
                .bind(environment_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Reads one provider by id alone, for Facebook's callbacks, which carry no API key and
    /// name the provider in their URL.
    pub async fn find_provider_by_id(&self, id: &str) -> Result<Option<ProviderRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Reads one provider of one environment by slug.
    pub async fn get_provider_by_slug(
        &self,
        environment_id: &str,
        slug: &str,
    ) -> Result<Option<ProviderRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND slug = $2"))
                .bind(environment_id)
                .bind(slug)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Lists an environment's providers in creation order, `limit` rows after the one with id
    /// `after`.
    pub async fn list_providers(
        &self,
        environment_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ProviderRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1
                AND ($2 IS NULL OR (created_at, id) >
                    (SELECT created_at, id FROM oauth_providers
                     WHERE environment_id = $1 AND id = $2))
             ORDER BY created_at, id
             LIMIT $3"))
                .bind(environment_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }))
    }

    /// Deletes one provider of one environment; returns false when there was none.
    pub async fn delete_provider(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM oauth_providers WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }
}
