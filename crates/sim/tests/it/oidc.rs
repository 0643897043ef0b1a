use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fbgate_sim::crypto::pkce_s256;
use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA, DEMO_USER_NOMAIL};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{REDIRECT, TestSim, start};

/// Verifies an RS256 JWT against the emulator's JWKS and returns its claims.
async fn verify(sim: &TestSim, jwt: &str) -> Value {
    let jwks = sim.get("/.well-known/oauth/openid/jwks/", &[]).await.body;
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(key["e"].as_str().unwrap()).unwrap();
    let (signed, sig) = jwt.rsplit_once('.').unwrap();
    let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &sig)
        .expect("signature verifies with the JWKS key");
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], key["kid"]);
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

#[tokio::test]
async fn discovery_points_at_the_emulator_and_names_facebooks_issuer() {
    let sim = start().await;
    let doc = sim.get("/.well-known/openid-configuration/", &[]).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["issuer"], "https://www.facebook.com");
    assert_eq!(
        doc.body["jwks_uri"],
        format!("{}/.well-known/oauth/openid/jwks/", sim.server.url())
    );
    assert_eq!(
        doc.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let again = sim.get("/.well-known/openid-configuration", &[]).await;
    assert_eq!(again.body, doc.body);
}

#[tokio::test]
async fn the_oidc_code_flow_with_pkce_returns_a_signed_id_token() {
    let sim = start().await;
    let verifier = "v".repeat(50);
    let challenge = pkce_s256(&verifier);
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "openid,email"),
        ("response_type", "code"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("nonce", "n-123"),
    ];
    let code = sim.consent(&query, DEMO_USER_ADA, &["email"]).await["code"].clone();
    let answer = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("redirect_uri", REDIRECT),
                ("code", &code),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    let claims = verify(&sim, answer.body["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["iss"], "https://www.facebook.com");
    assert_eq!(claims["aud"], DEMO_APP_ID);
    assert_eq!(claims["sub"], DEMO_USER_ADA);
    assert_eq!(claims["nonce"], "n-123");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // Without a nonce there is no id_token.
    let plain = sim.code_for(DEMO_USER_ADA, "openid").await;
    assert!(sim.exchange(&plain).await.body.get("id_token").is_none());
}

#[tokio::test]
async fn limited_login_tokens_are_minted_through_the_control_api() {
    let sim = start().await;
    let answer = sim
        .control_post(
            "/_sim/limited-login",
            json!({ "app_id": DEMO_APP_ID, "user_id": DEMO_USER_NOMAIL, "nonce": "abc", "email": true }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let claims = verify(&sim, answer.body["authentication_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], DEMO_USER_NOMAIL);
    assert_eq!(claims["nonce"], "abc");
    assert!(claims.get("email").is_none(), "Nomail Person has no email");
    assert!(claims["picture"].as_str().unwrap().starts_with("http"));
    let missing = sim
        .control_post(
            "/_sim/limited-login",
            json!({ "app_id": DEMO_APP_ID, "user_id": "1", "nonce": "abc" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn response_type_id_token_returns_it_in_the_fragment() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("response_type", "id_token"),
        ("nonce", "frag-nonce"),
        ("state", "s"),
    ];
    let params = sim.consent(&query, DEMO_USER_ADA, &[]).await;
    assert!(!params.contains_key("code"));
    let claims = verify(&sim, &params["id_token"]).await;
    assert_eq!(claims["nonce"], "frag-nonce");
    assert!(claims.get("email").is_none(), "email was not requested");
    let no_nonce = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "openid"),
            ("response_type", "id_token"),
        ])
        .await;
    assert_eq!(no_nonce.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn urls_follow_a_tls_terminator_in_front_of_the_emulator() {
    let sim = start().await;
    let doc = sim
        .http
        .get(sim.url("/.well-known/openid-configuration/"))
        .header("x-forwarded-proto", "https")
        .header("host", "www.facebook.com")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        doc["jwks_uri"],
        "https://www.facebook.com/.well-known/oauth/openid/jwks/"
    );
}
