//! Webhooks: the app's endpoints, and the events fbgate announces to them.
//!
//! A change records its [`Event`] in the outbox in the same transaction as the change itself
//! (`store::outbox::record_event!`, or [`emit`] for changes without a transaction), so an event
//! is never lost and never announces a change that rolled back. A `webhooks.dispatch` job then
//! creates one delivery per subscribed endpoint, and `webhooks.deliver` jobs POST the body
//! ([`delivery`]). The body is fixed when the event is recorded: it says what was true at the
//! time of the change, and every retry sends the same signed bytes.
//!
//! Endpoint URLs must be https, except on loopback hosts (for local development); a URL
//! with user information is refused, because the endpoint list would show it to anyone with the
//! secret key.

pub mod delivery;

use crate::clock::api_time;
use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use time::OffsetDateTime;
use url::{Host, Url};

use super::pagination::{Page, paginate};
use super::{Context, Error};
use crate::ids;
use crate::store::{IdentityRow, OutboxEventRow, UserRow, WebhookDeliveryRow, WebhookEndpointRow};
use crate::vault::{Aad, KeyScope, SecretString};

/// The kinds of event fbgate announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A user was created (a first sign-in, or `POST /v1/users`).
    UserCreated,
    /// A Facebook identity joined a user.
    IdentityLinked,
    /// A Facebook identity left a user.
    IdentityUnlinked,
    /// A stored token nears its expiry.
    CredentialExpiring,
    /// A stored token expired.
    CredentialExpired,
    /// A stored token was revoked (the person removed the app, changed their password, …).
    CredentialRevoked,
    /// A stored token was renewed.
    CredentialRefreshed,
    /// Facebook no longer accepts a stored token for a reason other than expiry or revocation
    /// (an account checkpoint, an unconfirmed account, an unknown token). An extension of the
    /// contract's list.
    CredentialInvalid,
    /// A business installation was created.
    InstallationCreated,
    /// A business installation was removed.
    InstallationRemoved,
    /// A data-deletion request was carried out.
    DataDeletionCompleted,
}

impl EventType {
    /// Every event type, in the order the API documents them.
    pub const ALL: [EventType; 11] = [
        EventType::UserCreated,
        EventType::IdentityLinked,
        EventType::IdentityUnlinked,
        EventType::CredentialExpiring,
        EventType::CredentialExpired,
        EventType::CredentialRevoked,
        EventType::CredentialRefreshed,
        EventType::CredentialInvalid,
        EventType::InstallationCreated,
        EventType::InstallationRemoved,
        EventType::DataDeletionCompleted,
    ];

    /// The type as it appears in bodies and subscriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::IdentityLinked => "identity.linked",
            EventType::IdentityUnlinked => "identity.unlinked",
            EventType::CredentialExpiring => "credential.expiring",
            EventType::CredentialExpired => "credential.expired",
            EventType::CredentialRevoked => "credential.revoked",
            EventType::CredentialRefreshed => "credential.refreshed",
            EventType::CredentialInvalid => "credential.invalid",
            EventType::InstallationCreated => "installation.created",
            EventType::InstallationRemoved => "installation.removed",
            EventType::DataDeletionCompleted => "data_deletion.completed",
        }
    }

    /// Parses a type name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An event ready to be recorded: its id, type, time and the exact body that will be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    id: String,
    event_type: EventType,
    subject: Option<String>,
    body: String,
    created_at: OffsetDateTime,
}

impl Event {
    /// An event of `event_type` in the environment `environment_slug`; `data` holds the affected
    /// objects as the API shows them (never a token).
    pub fn new(
        event_type: EventType,
        environment_slug: &str,
        data: Value,
        now: OffsetDateTime,
    ) -> Self {
        let id = ids::new_id("evt");
        let body = json!({
            "id": id,
            "type": event_type.as_str(),
            "created_at": api_time(now),
            "environment": environment_slug,
            "data": data,
        })
        .to_string();
        Self {
            id,
            event_type,
            subject: None,
            body,
            created_at: now,
        }
    }

    /// Names the fbgate object the event describes (a user id), so that erasing that person
    /// also erases the event (`Store::delete_events_about`).
    pub fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// The event's id (`evt_…`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.event_type
    }

    /// The delivery body.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The outbox row, for a store function that records it in its own transaction.
    pub fn into_row(self, environment_id: &str) -> OutboxEventRow {
        OutboxEventRow {
            id: self.id,
            environment_id: environment_id.to_owned(),
            event_type: self.event_type.as_str().to_owned(),
            subject: self.subject,
            payload: self.body,
            created_at: self.created_at,
        }
    }
}

/// The slug of an environment, which every event body names.
pub async fn environment_slug(ctx: &Context, environment_id: &str) -> Result<String, Error> {
    super::environments::slug(ctx, environment_id).await
}

/// Builds an event of `environment_id`, looking up its slug.
pub async fn new_event(
    ctx: &Context,
    environment_id: &str,
    event_type: EventType,
    data: Value,
) -> Result<Event, Error> {
    let slug = environment_slug(ctx, environment_id).await?;
    Ok(Event::new(event_type, &slug, data, ctx.clock.now()))
}

/// Records an event (and its dispatch job) on its own, for a change that has no transaction to
/// record it in.
pub async fn emit(ctx: &Context, environment_id: &str, event: Event) -> Result<(), Error> {
    ctx.store
        .record_events(&[event.into_row(environment_id)])
        .await?;
    Ok(())
}

/// A user as the API shows it (`GET /v1/users/{id}`), for event data.
pub fn user_data(user: &UserRow) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": user.name,
        "profile_image_url": user.profile_image_url,
        "created_via": user.created_via,
        "created_at": api_time(user.created_at),
        "updated_at": api_time(user.updated_at),
        "last_sign_in_at": user.last_sign_in_at.map(api_time),
    })
}

/// A `user.created` event for a user of the environment `environment_slug`.
/// An identity as webhook payloads show it (never a token, never the raw profile).
pub fn identity_data(identity: &IdentityRow, provider_slug: &str) -> Value {
    let list = |text: &str| serde_json::from_str::<Vec<String>>(text).unwrap_or_default();
    json!({
        "id": identity.id,
        "user_id": identity.user_id,
        "provider": provider_slug,
        "provider_user_id": identity.provider_user_id,
        "granted_scopes": list(&identity.granted_scopes),
        "declined_scopes": list(&identity.declined_scopes),
        "linked_at": api_time(identity.linked_at),
    })
}

/// `identity.linked` or `identity.unlinked`: the user and the identity.
pub fn identity_event(
    event_type: EventType,
    environment_slug: &str,
    user: &UserRow,
    identity: &IdentityRow,
    provider_slug: &str,
    now: OffsetDateTime,
) -> Event {
    Event::new(
        event_type,
        environment_slug,
        json!({ "user": user_data(user), "identity": identity_data(identity, provider_slug) }),
        now,
    )
    .about(user.id.clone())
}

/// `user.created`.
pub fn user_created(environment_slug: &str, user: &UserRow, now: OffsetDateTime) -> Event {
    Event::new(
        EventType::UserCreated,
        environment_slug,
        json!({ "user": user_data(user) }),
        now,
    )
    .about(user.id.clone())
}

/// A checked endpoint URL: absolute https, or http on a loopback host; no user information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    /// Parses `url`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let invalid = |message: &str| Error::invalid("url", message);
        if url.len() > 2048 {
            return Err(invalid("`url` is longer than 2048 characters"));
        }
        let parsed = Url::parse(url).map_err(|_| invalid("`url` is not an absolute URL"))?;
        let host = parsed.host().ok_or_else(|| invalid("`url` has no host"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(invalid("`url` must not contain a user name or password"));
        }
        if parsed.fragment().is_some() {
            return Err(invalid("`url` must not have a fragment"));
        }
        match parsed.scheme() {
            "https" => Ok(Self(parsed)),
            "http" if is_loopback(&host) => Ok(Self(parsed)),
            "http" => Err(invalid(
                "`url` must be https (http is allowed only for loopback hosts)",
            )),
            _ => Err(invalid("`url` must be an https URL")),
        }
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// What an endpoint subscribes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every event type, now and future (`["*"]`).
    All,
    /// These types only.
    Only(Vec<EventType>),
}

impl Subscription {
    /// Parses `events`: a non-empty list of known types, or `["*"]` alone.
    pub fn parse(events: &[String]) -> Result<Self, Error> {
        if events.is_empty() {
            return Err(Error::invalid(
                "events",
                "`events` must name at least one event type",
            ));
        }
        if events.iter().any(|e| e == "*") {
            return if events.len() == 1 {
                Ok(Subscription::All)
            } else {
                Err(Error::invalid(
                    "events",
                    "`*` must be the only entry of `events`",
                ))
            };
        }
        let mut types = Vec::new();
        for name in events {
            let event_type = EventType::parse(name).ok_or_else(|| {
                Error::invalid("events", format!("`{name}` is not an event type"))
            })?;
            if !types.contains(&event_type) {
                types.push(event_type);
            }
        }
        Ok(Subscription::Only(types))
    }

    /// Reads the stored column; an unreadable value subscribes to nothing.
    pub fn from_column(text: &str) -> Self {
        let names: Vec<String> = serde_json::from_str(text).unwrap_or_default();
        Self::parse(&names).unwrap_or(Subscription::Only(Vec::new()))
    }

    /// The names, as the API shows them and the column stores them.
    pub fn names(&self) -> Vec<String> {
        match self {
            Subscription::All => vec!["*".to_owned()],
            Subscription::Only(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        }
    }

    /// Whether an event type is delivered.
    pub fn includes(&self, event_type: &str) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(types) => types.iter().any(|t| t.as_str() == event_type),
        }
    }
}

/// A new endpoint, parsed.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Where deliveries go.
    pub url: EndpointUrl,
    /// What it receives.
    pub events: Subscription,
}

impl NewEndpoint {
    /// Parses raw input.
    pub fn parse(url: &str, events: &[String]) -> Result<Self, Error> {
        Ok(Self {
            url: EndpointUrl::parse(url)?,
            events: Subscription::parse(events)?,
        })
    }
}

/// The additional data the vault binds to an endpoint's sealed signing secret.
pub(crate) fn secret_aad(environment_id: &str, endpoint_id: &str) -> Aad {
    Aad::new("webhook_secret")
        .with(environment_id)
        .with(endpoint_id)
}

/// Creates an endpoint; the signing secret is returned this once and stored only sealed.
pub async fn create_endpoint(
    ctx: &Context,
    environment_id: &str,
    new: NewEndpoint,
) -> Result<(WebhookEndpointRow, SecretString), Error> {
    let id = ids::new_id("whe");
    let mut random = [0u8; 32];
    rand::fill(&mut random);
    let secret = SecretString::new(format!("whsec_{}", URL_SAFE_NO_PAD.encode(random)));
    let sealed = ctx
        .vault
        .seal(
            environment_id,
            &KeyScope::Environment,
            &secret_aad(environment_id, &id),
            secret.expose().as_bytes(),
        )
        .await?;
    let row = WebhookEndpointRow {
        id,
        environment_id: environment_id.to_owned(),
        url: new.url.as_str().to_owned(),
        events: Value::from(new.events.names()).to_string(),
        signing_secret: sealed,
        enabled: true,
        created_at: ctx.clock.now(),
    };
    ctx.store.insert_webhook_endpoint(&row).await?;
    Ok((row, secret))
}

/// Reads an endpoint; 404 `webhook_endpoint_not_found` when absent from this environment.
pub async fn get_endpoint(
    ctx: &Context,
    environment_id: &str,
    id: &str,
) -> Result<WebhookEndpointRow, Error> {
    ctx.store
        .get_webhook_endpoint(environment_id, id)
        .await?
        .ok_or_else(|| {
            Error::not_found(
                "webhook_endpoint_not_found",
                "no webhook endpoint with this id",
            )
        })
}

/// One page of endpoints.
pub async fn list_endpoints(
    ctx: &Context,
    environment_id: &str,
    page: Page,
) -> Result<(Vec<WebhookEndpointRow>, Option<String>), Error> {
    let rows = ctx
        .store
        .list_webhook_endpoints(environment_id, page.after.as_deref(), page.limit + 1)
        .await?;
    Ok(paginate(rows, page.limit, |e| e.id.clone()))
}

/// Deletes an endpoint; its pending deliveries are dropped with it.
pub async fn delete_endpoint(
    ctx: &Context,
    environment_id: &str,
    id: &str,
) -> Result<WebhookEndpointRow, Error> {
    let endpoint = get_endpoint(ctx, environment_id, id).await?;
    ctx.store
        .delete_webhook_endpoint(environment_id, id)
        .await?;
    Ok(endpoint)
}

/// One page of an endpoint's deliveries, newest first.
pub async fn list_deliveries(
    ctx: &Context,
    environment_id: &str,
    endpoint_id: &str,
    page: Page,
) -> Result<(Vec<WebhookDeliveryRow>, Option<String>), Error> {
    let endpoint = get_endpoint(ctx, environment_id, endpoint_id).await?;
    let rows = ctx
        .store
        .list_webhook_deliveries(
            environment_id,
            &endpoint.id,
            page.after.as_deref(),
            page.limit + 1,
        )
        .await?;
    Ok(paginate(rows, page.limit, |d| d.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_must_be_https_unless_loopback() {
        for ok in [
            "https://hooks.example.com/fbgate",
            "http://127.0.0.1:9000/hook",
            "http://127.8.9.10/hook",
            "http://[::1]:8080/",
            "http://localhost:3000/hook",
            "http://LOCALHOST/hook",
        ] {
            assert!(EndpointUrl::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/fbgate",
            "http://10.0.0.1/hook",
            "http://localhost.example.com/hook",
            "ftp://example.com/",
            "/relative",
            "https://user:pass@example.com/",
            "https://example.com/#frag",
            "not a url",
        ] {
            assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subscriptions_are_known_types_or_a_lone_star() {
        let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            Subscription::parse(&names(&["*"])).unwrap(),
            Subscription::All
        );
        let some = Subscription::parse(&names(&["user.created", "user.created"])).unwrap();
        assert_eq!(some.names(), vec!["user.created"]);
        assert!(some.includes("user.created"));
        assert!(!some.includes("identity.linked"));
        for bad in [&[][..], &["*", "user.created"], &["user.deleted"]] {
            assert!(Subscription::parse(&names(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(
            Subscription::from_column("garbage").names(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_event_body_has_the_documented_fields() {
        let now = time::macros::datetime!(2026-11-22 04:35:50.123 UTC);
        let event = Event::new(EventType::UserCreated, "web", json!({ "x": 1 }), now);
        let body: Value = serde_json::from_str(event.body()).unwrap();
        assert_eq!(body["id"], event.id());
        assert!(event.id().starts_with("evt_"));
        assert_eq!(body["type"], "user.created");
        assert_eq!(body["created_at"], "2026-11-22T04:35:50Z");
        assert_eq!(body["environment"], "web");
        assert_eq!(body["data"]["x"], 1);
    }
}
