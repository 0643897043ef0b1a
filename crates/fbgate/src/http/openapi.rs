//! The OpenAPI 3.1 document, served at `/openapi.json` and rendered at `/docs`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Top-level document; paths are collected from the handlers by `utoipa-axum`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "fbgate",
        description = "A self-hosted broker between apps and Facebook. Errors are always \
            `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "operations", description = "Health, readiness, metrics"),
        (name = "environments", description = "Isolated environments and their first keys (operator)"),
        (name = "api keys", description = "An environment's API keys"),
        (name = "oauth providers", description = "An environment's Facebook apps (the authn.sh shape)"),
        (name = "users", description = "Users of an environment"),
        (name = "sessions", description = "Sessions, session JWTs and the JWKS that verifies them"),
        (name = "account", description = "A signed-in user's own account (session token): identities, linking"),
        (name = "sign-in", description = "Sign in with Facebook: the browser flow and the backend exchange"),
        (name = "credentials", description = "Stored Facebook credentials, fetched by backends"),
        (name = "connections", description = "Connect sessions and connections: credentials for your own tenants and users"),
        (name = "webhooks", description = "Webhook endpoints, and the deliveries of events to them"),
        (name = "facebook-callbacks", description = "Facebook's deauthorize and data-deletion callbacks (signed_request), and deletion status"),
    )
)]
pub struct ApiDoc;

impl ApiDoc {
    /// The document without paths, for `OpenApiRouter::with_openapi`.
    pub fn openapi_base() -> utoipa::openapi::OpenApi {
        <Self as OpenApi>::openapi()
    }
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description.to_owned()))
                    .build(),
            )
        };
        components.add_security_scheme("operator_token", bearer("FBGATE_ADMIN_TOKEN"));
        components.add_security_scheme("secret_key", bearer("An environment's secret key, sk_…"));
        components.add_security_scheme("session_token", bearer("A user's session token, fbgs_…"));
    }
}
