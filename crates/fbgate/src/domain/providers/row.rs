//! A provider to and from its `oauth_providers` row.
//!
//! Lists are stored as JSON text on both engines. A row is read back through the same parsers as
//! input; one that does not parse was not written by this code, so it is a storage failure (500),
//! never the caller's fault.

use std::collections::BTreeMap;

use super::settings::parse_graph_version;
use super::{
    AllowedRedirectUrls, AttributeMapping, BaseUrl, ClientId, ConfigId, EnabledFor, LoginProduct,
    Provider, ProviderKey, ProviderKind, ProviderName, ProviderSettings, ProviderUse, Scopes,
    SyncProfile, TokenType,
};
use crate::domain::Error;
use crate::domain::slug::Slug;
use crate::store::ProviderRow;

fn json_strings<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    serde_json::Value::from(values.into_iter().collect::<Vec<_>>()).to_string()
}

impl Provider {
    pub(super) fn to_row(&self) -> ProviderRow {
        let s = &self.settings;
        let mapping: serde_json::Map<String, serde_json::Value> = s
            .attribute_mapping
            .entries()
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        ProviderRow {
            id: self.id.clone(),
            environment_id: self.environment_id.clone(),
            slug: s.slug.as_str().to_owned(),
            provider_kind: s.provider_kind.as_str().to_owned(),
            provider_key: s.provider_key.as_str().to_owned(),
            name: s.name.as_str().to_owned(),
            client_id: s.client_id.as_str().to_owned(),
            client_secret_ciphertext: self.client_secret_ciphertext.clone(),
            scopes: json_strings(s.scopes.as_slice().iter().map(String::as_str)),
            attribute_mapping: serde_json::Value::Object(mapping).to_string(),
            enabled_for: json_strings(s.enabled_for.uses().iter().map(|u| u.as_str())),
            allowed_redirect_urls: json_strings(
                s.allowed_redirect_urls
                    .to_strings()
                    .iter()
                    .map(String::as_str),
            ),
            login_product: s.login_product.as_str().to_owned(),
            config_id: s.config_id.as_ref().map(|c| c.as_str().to_owned()),
            token_type: s.token_type.as_str().to_owned(),
            allow_sign_up: s.allow_sign_up,
            sync_profile: s.sync_profile.as_str().to_owned(),
            email_required: s.email_required,
            revoke_on_unlink: s.revoke_on_unlink,
            delete_user_on_data_deletion: s.delete_user_on_data_deletion,
            graph_api_version: s.graph_api_version.as_str().to_owned(),
            facebook_base_url: s.facebook_base_url.as_ref().map(|u| u.as_str().to_owned()),
            graph_base_url: s.graph_base_url.as_ref().map(|u| u.as_str().to_owned()),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// Reads a stored row back through the same parsers as input. A row that does not parse was
    /// not written by this code: it is a storage failure (500), not the caller's fault.
    pub(super) fn from_row(row: ProviderRow) -> Result<Self, Error> {
        let corrupt = |column: &'static str| Error::Store(row.corrupt(column));
        let json = |column: &'static str, text: &str| -> Result<serde_json::Value, Error> {
            serde_json::from_str(text).map_err(|_| corrupt(column))
        };
        let strings = |column: &'static str, text: &str| -> Result<Vec<String>, Error> {
            serde_json::from_value(json(column, text)?).map_err(|_| corrupt(column))
        };
        let uses: Vec<ProviderUse> = serde_json::from_value(json("enabled_for", &row.enabled_for)?)
            .map_err(|_| corrupt("enabled_for"))?;
        let mapping: BTreeMap<String, String> =
            serde_json::from_value(json("attribute_mapping", &row.attribute_mapping)?)
                .map_err(|_| corrupt("attribute_mapping"))?;
        let optional = |column: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(|v| BaseUrl::parse(column, v).map_err(|_| corrupt(column)))
                .transpose()
        };
        let settings = ProviderSettings {
            provider_kind: ProviderKind::parse("provider_kind", &row.provider_kind)
                .map_err(|_| corrupt("provider_kind"))?,
            provider_key: ProviderKey::parse("provider_key", &row.provider_key)
                .map_err(|_| corrupt("provider_key"))?,
            name: ProviderName::parse("name", &row.name).map_err(|_| corrupt("name"))?,
            slug: Slug::parse("slug", &row.slug).map_err(|_| corrupt("slug"))?,
            client_id: ClientId::parse("client_id", &row.client_id)
                .map_err(|_| corrupt("client_id"))?,
            scopes: Scopes::parse("scopes", &strings("scopes", &row.scopes)?)
                .map_err(|_| corrupt("scopes"))?,
            login_product: LoginProduct::parse("login_product", &row.login_product)
                .map_err(|_| corrupt("login_product"))?,
            config_id: row
                .config_id
                .as_deref()
                .map(|v| ConfigId::parse("config_id", v).map_err(|_| corrupt("config_id")))
                .transpose()?,
            token_type: TokenType::parse("token_type", &row.token_type)
                .map_err(|_| corrupt("token_type"))?,
            attribute_mapping: AttributeMapping::from_stored("attribute_mapping", &mapping)
                .map_err(|_| corrupt("attribute_mapping"))?,
            allow_sign_up: row.allow_sign_up,
            sync_profile: SyncProfile::parse("sync_profile", &row.sync_profile)
                .map_err(|_| corrupt("sync_profile"))?,
            email_required: row.email_required,
            revoke_on_unlink: row.revoke_on_unlink,
            delete_user_on_data_deletion: row.delete_user_on_data_deletion,
            enabled_for: EnabledFor::parse("enabled_for", &uses)
                .map_err(|_| corrupt("enabled_for"))?,
            allowed_redirect_urls: AllowedRedirectUrls::parse(
                "allowed_redirect_urls",
                &strings("allowed_redirect_urls", &row.allowed_redirect_urls)?,
            )
            .map_err(|_| corrupt("allowed_redirect_urls"))?,
            graph_api_version: parse_graph_version("graph_api_version", &row.graph_api_version)
                .map_err(|_| corrupt("graph_api_version"))?,
            facebook_base_url: optional("facebook_base_url", &row.facebook_base_url)?,
            graph_base_url: optional("graph_base_url", &row.graph_base_url)?,
        };
        Ok(Self {
            id: row.id,
            environment_id: row.environment_id,
            settings,
            created_at: row.created_at,
            updated_at: row.updated_at,
            client_secret_ciphertext: row.client_secret_ciphertext,
        })
    }
}
