//! `verify_session_jwt` with tokens signed here and keys served by a stand-in fbgate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fbgate_client::{Client, Error, JwtError};
use serde_json::{Value, json};
use time::OffsetDateTime;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const ENV: &str = "production";

/// A signing key like an environment's, with its kid.
struct Signer {
    kid: String,
    pair: EcdsaKeyPair,
}

impl Signer {
    fn new(kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            pair: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
        }
    }

    fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            "kid": self.kid, "alg": "ES256", "use": "sig"
        })
    }

    fn sign_raw(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_raw(
            &json!({ "alg": "ES256", "typ": "JWT", "kid": self.kid }),
            claims,
        )
    }
}

fn claims(issuer: &str, env: &str, expires_in: i64) -> Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": issuer, "sub": "usr_1", "sid": "ses_1", "env": env,
        "iat": now - 60, "exp": now + expires_in
    })
}

fn jwks(keys: &[&Signer]) -> ResponseTemplate {
    let keys: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
    ResponseTemplate::new(200).set_body_json(json!({ "keys": keys }))
}

fn jwks_endpoint() -> MockBuilder {
    Mock::given(method("GET"))
        .and(path("/v1/.well-known/jwks.json"))
        .and(query_param("environment", ENV))
}

/// A stand-in fbgate that publishes `keys`, answering `expected` JWKS fetches.
async fn fbgate_publishing(keys: &[&Signer], expected: u64) -> (MockServer, Client) {
    let server = MockServer::start().await;
    jwks_endpoint()
        .respond_with(jwks(keys))
        .expect(expected)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_key").unwrap();
    (server, client)
}

fn rejection(result: Result<fbgate_client::SessionClaims, Error>) -> JwtError {
    match result {
        Err(Error::InvalidSessionJwt(reason)) => reason,
        other => panic!("expected an invalid session JWT, got {other:?}"),
    }
}

#[tokio::test]
async fn a_token_signed_by_the_environment_key_verifies_and_the_keys_are_fetched_once() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 1).await;
    let token = signer.sign(&claims(&server.uri(), ENV, 600));

    for _ in 0..3 {
        let verified = client.verify_session_jwt(&token, ENV).await.unwrap();
        assert_eq!(verified.sub, "usr_1");
        assert_eq!(verified.sid, "ses_1");
        assert_eq!(verified.env, ENV);
        assert_eq!(verified.iss, server.uri());
        assert!(verified.expires_at().unwrap() > OffsetDateTime::now_utc());
    }
}

#[tokio::test]
async fn a_token_of_another_environment_is_refused() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 1).await;
    let token = signer.sign(&claims(&server.uri(), "staging", 600));
    assert_eq!(
        rejection(client.verify_session_jwt(&token, ENV).await),
        JwtError::WrongEnvironment
    );
}

#[tokio::test]
async fn a_token_of_another_issuer_is_refused_unless_that_issuer_is_configured() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 2).await;
    let token = signer.sign(&claims("https://fbgate.example.com", ENV, 600));
    assert_eq!(
        rejection(client.verify_session_jwt(&token, ENV).await),
        JwtError::WrongIssuer
    );

    let behind_a_proxy = Client::builder(&server.uri(), "sk_test_key")
        .issuer("https://fbgate.example.com")
        .build()
        .unwrap();
    behind_a_proxy
        .verify_session_jwt(&token, ENV)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_token_is_refused_but_the_leeway_covers_clock_skew() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 1).await;
    let expired = signer.sign(&claims(&server.uri(), ENV, -120));
    assert_eq!(
        rejection(client.verify_session_jwt(&expired, ENV).await),
        JwtError::Expired
    );
    let just_expired = signer.sign(&claims(&server.uri(), ENV, -5));
    client.verify_session_jwt(&just_expired, ENV).await.unwrap();
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 1).await;
    let mut future = claims(&server.uri(), ENV, 600);
    future["iat"] = json!(OffsetDateTime::now_utc().unix_timestamp() + 300);
    let token = signer.sign(&future);
    assert_eq!(
        rejection(client.verify_session_jwt(&token, ENV).await),
        JwtError::NotYetValid
    );
}

#[tokio::test]
async fn a_forged_signature_is_refused() {
    let published = Signer::new("kid_1");
    let forger = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&published], 1).await;
    let forged = forger.sign(&claims(&server.uri(), ENV, 600));
    assert_eq!(
        rejection(client.verify_session_jwt(&forged, ENV).await),
        JwtError::BadSignature
    );

    // Claims changed after signing.
    let genuine = published.sign(&claims(&server.uri(), ENV, 600));
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut other_user = claims(&server.uri(), ENV, 600);
    other_user["sub"] = json!("usr_admin");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other_user).unwrap()),
        parts[2]
    );
    assert_eq!(
        rejection(client.verify_session_jwt(&tampered, ENV).await),
        JwtError::BadSignature
    );
}

#[tokio::test]
async fn other_algorithms_and_malformed_tokens_are_refused_without_fetching_keys() {
    let signer = Signer::new("kid_1");
    let (server, client) = fbgate_publishing(&[&signer], 0).await;
    let body = claims(&server.uri(), ENV, 600);

    for alg in ["none", "HS256", "RS256", "ES384"] {
        let token = signer.sign_raw(&json!({ "alg": alg, "kid": "kid_1" }), &body);
        assert_eq!(
            rejection(client.verify_session_jwt(&token, ENV).await),
            JwtError::UnsupportedAlgorithm(alg.to_owned())
        );
    }
    let no_kid = signer.sign_raw(&json!({ "alg": "ES256" }), &body);
    assert!(matches!(
        rejection(client.verify_session_jwt(&no_kid, ENV).await),
        JwtError::Malformed(_)
    ));
    for garbage in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.e30", "e30.e30.e30"] {
        assert!(
            matches!(
                rejection(client.verify_session_jwt(garbage, ENV).await),
                JwtError::Malformed(_) | JwtError::UnsupportedAlgorithm(_)
            ),
            "{garbage}"
        );
    }
}

#[tokio::test]
async fn a_new_key_id_makes_the_client_fetch_the_keys_again() {
    let old = Signer::new("kid_old");
    let rotated_in = Signer::new("kid_new");
    let server = MockServer::start().await;
    jwks_endpoint()
        .respond_with(jwks(&[&old]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    jwks_endpoint()
        .respond_with(jwks(&[&old, &rotated_in]))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder(&server.uri(), "sk_test_key")
        .jwks_min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();

    let before = old.sign(&claims(&server.uri(), ENV, 600));
    client.verify_session_jwt(&before, ENV).await.unwrap();
    let after = rotated_in.sign(&claims(&server.uri(), ENV, 600));
    client.verify_session_jwt(&after, ENV).await.unwrap();
    // Both keys are now known: no more fetches.
    client.verify_session_jwt(&before, ENV).await.unwrap();
    client.verify_session_jwt(&after, ENV).await.unwrap();
}

#[tokio::test]
async fn unknown_key_ids_cause_at_most_one_fetch_per_interval() {
    let signer = Signer::new("kid_1");
    let stranger = Signer::new("kid_made_up");
    // One fetch for the first token; the made-up kids right after must not trigger more.
    let (server, client) = fbgate_publishing(&[&signer], 1).await;
    let genuine = signer.sign(&claims(&server.uri(), ENV, 600));
    client.verify_session_jwt(&genuine, ENV).await.unwrap();

    let forged = stranger.sign(&claims(&server.uri(), ENV, 600));
    for _ in 0..5 {
        assert_eq!(
            rejection(client.verify_session_jwt(&forged, ENV).await),
            JwtError::UnknownKey
        );
    }
}

#[tokio::test]
async fn an_unknown_environment_is_an_api_error_not_a_bad_token() {
    let signer = Signer::new("kid_1");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/.well-known/jwks.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": { "code": "environment_not_found", "message": "no environment with this slug" }
        })))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_key").unwrap();
    let token = signer.sign(&claims(&server.uri(), "nope", 600));
    let error = client.verify_session_jwt(&token, "nope").await.unwrap_err();
    assert_eq!(error.code(), Some("environment_not_found"));
}

#[tokio::test]
async fn keys_already_fetched_keep_working_while_fbgate_is_unreachable() {
    let signer = Signer::new("kid_1");
    let server = MockServer::start().await;
    jwks_endpoint()
        .respond_with(jwks(&[&signer]))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    jwks_endpoint()
        .respond_with(ResponseTemplate::new(503))
        // Two refreshes of the first client, one cold fetch of the second.
        .expect(3)
        .mount(&server)
        .await;
    // Keys go stale at once and may be fetched again at once: every call tries fbgate.
    let client = Client::builder(&server.uri(), "sk_test_key")
        .jwks_cache_ttl(Duration::ZERO)
        .jwks_min_refetch_interval(Duration::ZERO)
        .build()
        .unwrap();
    let token = signer.sign(&claims(&server.uri(), ENV, 600));
    for _ in 0..3 {
        client.verify_session_jwt(&token, ENV).await.unwrap();
    }
    // A key the stale set lacks cannot be vouched for: the outage is reported as such.
    let unknown = Signer::new("kid_2").sign(&claims(&server.uri(), ENV, 600));
    let refused = Client::builder(&server.uri(), "sk_test_key")
        .build()
        .unwrap()
        .verify_session_jwt(&unknown, ENV)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(503), "{refused:?}");
}
