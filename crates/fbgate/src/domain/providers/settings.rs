//! A provider's input and how it becomes settings.
//!
//! Every field of [`ProviderInput`] is a [`Given`]: absent (keep the current value, or the
//! default on creation), `null` (back to the default) or a value, parsed by the newtype of
//! `fields`. [`ProviderSettings::resolve`] picks each field, then checks the rules between
//! fields, so that a change is judged together with everything it keeps.

use std::collections::BTreeMap;

use fbgate_facebook::GraphVersion;
use serde::{Deserialize, Deserializer};

use super::{
    AllowedRedirectUrls, AttributeMapping, BaseUrl, ClientId, ConfigId, EnabledFor, LoginProduct,
    ProviderKey, ProviderKind, ProviderName, ProviderUse, Scopes, SyncProfile, TokenType,
};
use crate::domain::Error;
use crate::domain::slug::Slug;
use crate::vault::SecretString;

/// The Graph API version of a provider that names none.
pub const DEFAULT_GRAPH_API_VERSION: &str = "v25.0";

/// One field of a request body: absent, explicitly `null`, or a value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Given<T> {
    /// Not in the body: keep the current value (the default on creation).
    #[default]
    Absent,
    /// `null`: back to the default.
    Null,
    /// A value to parse.
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Given<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(deserializer).map(|v| v.map_or(Given::Null, Given::Value))
    }
}

/// The body of `POST /v1/oauth-providers` and `PATCH /v1/oauth-providers/{id}`. On creation
/// `provider_kind`, `provider_key`, `client_id` and `client_secret` are required; everything
/// else has a default. `null` means "the default" (for `config_id` and the base URLs: none).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    /// `preset` (required on creation).
    #[serde(default)]
    #[schema(value_type = Option<ProviderKind>)]
    pub provider_kind: Given<ProviderKind>,
    /// `facebook` (required on creation).
    #[serde(default)]
    #[schema(value_type = Option<ProviderKey>)]
    pub provider_key: Given<ProviderKey>,
    /// Display name; default `Facebook`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Facebook")]
    pub name: Given<String>,
    /// Unique per environment, used in URLs; default = `provider_key`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "facebook")]
    pub slug: Given<String>,
    /// The Facebook app id (required on creation).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1234567890123456")]
    pub client_id: Given<String>,
    /// The Facebook app secret (required on creation). Stored encrypted, never shown again.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub client_secret: Given<SecretString>,
    /// Permissions to ask for; `public_profile` is always added. Default `public_profile, email`.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub scopes: Given<Vec<String>>,
    /// Default `facebook_login`.
    #[serde(default)]
    #[schema(value_type = Option<LoginProduct>)]
    pub login_product: Given<LoginProduct>,
    /// Required for `facebook_login_for_business`, refused otherwise.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub config_id: Given<String>,
    /// Default `user`; `system_user` only with Login for Business.
    #[serde(default)]
    #[schema(value_type = Option<TokenType>)]
    pub token_type: Given<TokenType>,
    /// Attribute → dot-path into `/me`, laid over the default mapping; a `null` path unmaps the
    /// attribute (except `provider_user_id`).
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, Option<String>>>)]
    pub attribute_mapping: Given<BTreeMap<String, Option<String>>>,
    /// Whether unknown Facebook users may sign up; default true.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_sign_up: Given<bool>,
    /// Default `every_sign_in`.
    #[serde(default)]
    #[schema(value_type = Option<SyncProfile>)]
    pub sync_profile: Given<SyncProfile>,
    /// Refuse sign-ins that yield no email (`oauth_no_email_returned`); default true.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub email_required: Given<bool>,
    /// Revoke the app's permissions at Facebook when an identity is unlinked; default false.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub revoke_on_unlink: Given<bool>,
    /// On a Facebook data-deletion request, delete the user too when it was created by a
    /// Facebook sign-in and has no other identity (else strip it); default true.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub delete_user_on_data_deletion: Given<bool>,
    /// Non-empty subset of `sign_in`, `linking`, `api_access`; default all three.
    #[serde(default)]
    #[schema(value_type = Option<Vec<ProviderUse>>)]
    pub enabled_for: Given<Vec<ProviderUse>>,
    /// Exact URLs, or URLs ending in `/*` for any path below them; default none.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed_redirect_urls: Given<Vec<String>>,
    /// `v<major>.<minor>`; default `v25.0`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "v25.0")]
    pub graph_api_version: Given<String>,
    /// Origin of the login dialog; null = the real Facebook.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub facebook_base_url: Given<String>,
    /// Origin of the Graph API; null = the real Facebook.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub graph_base_url: Given<String>,
}

/// Everything about a provider except its identity and its secret, parsed and checked together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSettings {
    /// `preset`.
    pub provider_kind: ProviderKind,
    /// `facebook`.
    pub provider_key: ProviderKey,
    /// Display name.
    pub name: ProviderName,
    /// Unique per environment.
    pub slug: Slug,
    /// The Facebook app id.
    pub client_id: ClientId,
    /// Permissions asked for.
    pub scopes: Scopes,
    /// Which login product.
    pub login_product: LoginProduct,
    /// The Login for Business configuration.
    pub config_id: Option<ConfigId>,
    /// The kind of token the login yields.
    pub token_type: TokenType,
    /// How `/me` fills a user.
    pub attribute_mapping: AttributeMapping,
    /// Whether unknown Facebook users may sign up.
    pub allow_sign_up: bool,
    /// When the profile is copied.
    pub sync_profile: SyncProfile,
    /// Whether a sign-in without email is refused.
    pub email_required: bool,
    /// Whether unlinking revokes the app's permissions at Facebook.
    pub revoke_on_unlink: bool,
    /// Whether a data-deletion request deletes a user that only Facebook made.
    pub delete_user_on_data_deletion: bool,
    /// What the provider may be used for.
    pub enabled_for: EnabledFor,
    /// Where sign-ins may return to.
    pub allowed_redirect_urls: AllowedRedirectUrls,
    /// The Graph API version.
    pub graph_api_version: GraphVersion,
    /// Origin of the login dialog, when not the real Facebook.
    pub facebook_base_url: Option<BaseUrl>,
    /// Origin of the Graph API, when not the real Facebook.
    pub graph_base_url: Option<BaseUrl>,
}

/// Picks a field's value: the given one parsed, the default on `null`, the current one (or the
/// default, on creation) when absent.
fn pick<T, R>(
    given: Given<T>,
    current: Option<&R>,
    default: impl FnOnce() -> Result<R, Error>,
    parse: impl FnOnce(T) -> Result<R, Error>,
) -> Result<R, Error>
where
    R: Clone,
{
    match given {
        Given::Value(value) => parse(value),
        Given::Null => default(),
        Given::Absent => match current {
            Some(current) => Ok(current.clone()),
            None => default(),
        },
    }
}

fn required<R>(field: &str) -> impl FnOnce() -> Result<R, Error> {
    let error = Error::invalid(field, format!("`{field}` is required"));
    move || Err(error)
}

pub(super) fn parse_graph_version(field: &str, value: &str) -> Result<GraphVersion, Error> {
    value.parse().map_err(|_| {
        Error::invalid(
            field,
            "`graph_api_version` must look like v25.0 (v<major>.<minor>)",
        )
    })
}

fn default_graph_version() -> Result<GraphVersion, Error> {
    parse_graph_version("graph_api_version", DEFAULT_GRAPH_API_VERSION)
}

impl ProviderSettings {
    /// Applies `input` to `current` (or to the defaults, when creating) and checks the result.
    pub fn resolve(
        input: ProviderInput,
        current: Option<&ProviderSettings>,
    ) -> Result<Self, Error> {
        let c = current;
        let provider_kind = pick(
            input.provider_kind,
            c.map(|c| &c.provider_kind),
            required("provider_kind"),
            Ok,
        )?;
        let provider_key = pick(
            input.provider_key,
            c.map(|c| &c.provider_key),
            required("provider_key"),
            Ok,
        )?;
        let name = pick(
            input.name,
            c.map(|c| &c.name),
            || Ok(ProviderName::default()),
            |v| ProviderName::parse("name", &v),
        )?;
        let slug = pick(
            input.slug,
            c.map(|c| &c.slug),
            || Slug::parse("slug", provider_key.as_str()),
            |v| Slug::parse("slug", &v),
        )?;
        let client_id = pick(
            input.client_id,
            c.map(|c| &c.client_id),
            required("client_id"),
            |v| ClientId::parse("client_id", &v),
        )?;
        let scopes = pick(
            input.scopes,
            c.map(|c| &c.scopes),
            || Ok(Scopes::default()),
            |v| Scopes::parse("scopes", &v),
        )?;
        let login_product = pick(
            input.login_product,
            c.map(|c| &c.login_product),
            || Ok(LoginProduct::FacebookLogin),
            Ok,
        )?;
        let config_id = pick(
            input.config_id,
            c.map(|c| &c.config_id),
            || Ok(None),
            |v| ConfigId::parse("config_id", &v).map(Some),
        )?;
        let token_type = pick(
            input.token_type,
            c.map(|c| &c.token_type),
            || Ok(TokenType::User),
            Ok,
        )?;
        let attribute_mapping = pick(
            input.attribute_mapping,
            c.map(|c| &c.attribute_mapping),
            || Ok(AttributeMapping::default()),
            |v| AttributeMapping::parse("attribute_mapping", &v),
        )?;
        let flag = |given: Given<bool>, current: Option<&bool>, default: bool| {
            pick(given, current, || Ok(default), Ok)
        };
        let allow_sign_up = flag(input.allow_sign_up, c.map(|c| &c.allow_sign_up), true)?;
        let sync_profile = pick(
            input.sync_profile,
            c.map(|c| &c.sync_profile),
            || Ok(SyncProfile::EverySignIn),
            Ok,
        )?;
        let email_required = flag(input.email_required, c.map(|c| &c.email_required), true)?;
        let revoke_on_unlink = flag(
            input.revoke_on_unlink,
            c.map(|c| &c.revoke_on_unlink),
            false,
        )?;
        let delete_user_on_data_deletion = flag(
            input.delete_user_on_data_deletion,
            c.map(|c| &c.delete_user_on_data_deletion),
            true,
        )?;
        let enabled_for = pick(
            input.enabled_for,
            c.map(|c| &c.enabled_for),
            || Ok(EnabledFor::default()),
            |v| EnabledFor::parse("enabled_for", &v),
        )?;
        let allowed_redirect_urls = pick(
            input.allowed_redirect_urls,
            c.map(|c| &c.allowed_redirect_urls),
            || Ok(AllowedRedirectUrls::default()),
            |v| AllowedRedirectUrls::parse("allowed_redirect_urls", &v),
        )?;
        let graph_api_version = pick(
            input.graph_api_version,
            c.map(|c| &c.graph_api_version),
            default_graph_version,
            |v| parse_graph_version("graph_api_version", &v),
        )?;
        let base_url = |field: &'static str, given: Given<String>, current| {
            pick(
                given,
                current,
                || Ok(None),
                |v| BaseUrl::parse(field, &v).map(Some),
            )
        };
        let facebook_base_url = base_url(
            "facebook_base_url",
            input.facebook_base_url,
            c.map(|c| &c.facebook_base_url),
        )?;
        let graph_base_url = base_url(
            "graph_base_url",
            input.graph_base_url,
            c.map(|c| &c.graph_base_url),
        )?;
        let settings = Self {
            provider_kind,
            provider_key,
            name,
            slug,
            client_id,
            scopes,
            login_product,
            config_id,
            token_type,
            attribute_mapping,
            allow_sign_up,
            sync_profile,
            email_required,
            revoke_on_unlink,
            delete_user_on_data_deletion,
            enabled_for,
            allowed_redirect_urls,
            graph_api_version,
            facebook_base_url,
            graph_base_url,
        };
        settings.check()?;
        Ok(settings)
    }

    /// The rules between fields.
    fn check(&self) -> Result<(), Error> {
        match (self.login_product, &self.config_id) {
            (LoginProduct::FacebookLoginForBusiness, None) => {
                return Err(Error::invalid(
                    "config_id",
                    "`config_id` is required with `login_product: facebook_login_for_business`",
                ));
            }
            (LoginProduct::FacebookLogin, Some(_)) => {
                return Err(Error::invalid(
                    "config_id",
                    "`config_id` belongs to Login for Business; with `facebook_login` send `config_id: null`",
                ));
            }
            _ => {}
        }
        if self.token_type == TokenType::SystemUser
            && self.login_product != LoginProduct::FacebookLoginForBusiness
        {
            return Err(Error::invalid(
                "token_type",
                "`token_type: system_user` needs `login_product: facebook_login_for_business`",
            ));
        }
        Ok(())
    }
}
