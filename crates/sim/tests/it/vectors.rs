//! FACEBOOK.md's test vectors, through the emulator's public signer and verifier.

use fbgate_sim::crypto::{
    SignedRequestError, appsecret_proof, appsecret_proof_with_time, parse_signed_request,
    sign_request,
};

const PHP_SR: &str = "U0_O1MqqNKUt32633zAkdd2Ce-jGVgRgJeRauyx_zC8=.eyJvYXV0aF90b2tlbiI6ImZvb190b2tlbiIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjozMjEsImNvZGUiOiJmb29fY29kZSIsInN0YXRlIjoiZm9vX3N0YXRlIiwidXNlcl9pZCI6MTIzLCJmb28iOiJiYXIifQ==";
const BK_SR: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";

#[test]
fn appsecret_proof_vectors() {
    assert_eq!(
        appsecret_proof("xyz789", "abc123"),
        "4dad02ff1693df832f9c183fe400fc4f601360be06514acb4a73edb783eec345"
    );
    assert_eq!(
        appsecret_proof_with_time("xyz789", "abc123", 1_700_000_000),
        "4073846e9af1fd65b815551070615b9e70b0233192429e24276c54ac295706e0"
    );
}

#[test]
fn the_padded_php_sdk_vector_verifies() {
    let payload = parse_signed_request("foo_app_secret", PHP_SR).unwrap();
    assert_eq!(payload["oauth_token"], "foo_token");
    assert_eq!(payload["user_id"], 123);
    assert_eq!(payload["foo"], "bar");
    assert_eq!(
        parse_signed_request("bar_app_secret", PHP_SR),
        Err(SignedRequestError::Signature)
    );
}

#[test]
fn the_unpadded_vector_verifies_and_our_signer_reproduces_it() {
    let payload = parse_signed_request("key", BK_SR).unwrap();
    assert_eq!(payload["user_id"], "0");
    assert_eq!(payload["issued_at"], 1_624_244_156);
    let signed = sign_request(
        "key",
        r#"{"user_id":"0","algorithm":"HMAC-SHA256","issued_at":1624244156}"#,
    );
    assert_eq!(signed, BK_SR);
}

#[test]
fn tampered_or_foreign_algorithm_requests_are_refused() {
    let (sig, payload) = BK_SR.split_once('.').unwrap();
    let tampered = format!("{sig}.{}", payload.replace('i', "j"));
    assert!(parse_signed_request("key", &tampered).is_err());
    assert_eq!(
        parse_signed_request("key", "nodot"),
        Err(SignedRequestError::Malformed)
    );
    let other_algorithm = sign_request("key", r#"{"algorithm":"HMAC-SHA1","user_id":"1"}"#);
    assert_eq!(
        parse_signed_request("key", &other_algorithm),
        Err(SignedRequestError::Algorithm)
    );
}
