use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::json;

use super::*;

const PHP_SECRET: &str = "foo_app_secret";
const PHP_VECTOR: &str = "U0_O1MqqNKUt32633zAkdd2Ce-jGVgRgJeRauyx_zC8=.eyJvYXV0aF90b2tlbiI6ImZvb190b2tlbiIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjozMjEsImNvZGUiOiJmb29fY29kZSIsInN0YXRlIjoiZm9vX3N0YXRlIiwidXNlcl9pZCI6MTIzLCJmb28iOiJiYXIifQ==";
const BKRS_SECRET: &str = "key";
const BKRS_VECTOR: &str = "Mf_s6nTb38UYqioBmPqu0Ewm9souPZB9I2fIGwV729U.eyJ1c2VyX2lkIjoiMCIsImFsZ29yaXRobSI6IkhNQUMtU0hBMjU2IiwiaXNzdWVkX2F0IjoxNjI0MjQ0MTU2fQ";

fn secret(s: &str) -> AppSecret {
    AppSecret::new(s)
}

/// Signs an already encoded payload segment exactly as given, with the chosen padding on the
/// signature.
fn sign_segment(payload_segment: &str, secret: &AppSecret, padded_sig: bool) -> String {
    let tag = hmac_sha256(secret, payload_segment.as_bytes());
    let sig = if padded_sig {
        URL_SAFE.encode(tag.as_ref())
    } else {
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    };
    format!("{sig}.{payload_segment}")
}

#[test]
fn php_sdk_vector_padded_verifies_and_numeric_user_id_becomes_text() {
    let request = SignedRequest::verify(PHP_VECTOR, &secret(PHP_SECRET)).unwrap();
    assert_eq!(request.user_id().as_deref(), Some("123"));
    assert_eq!(request.issued_at(), Some(321));
    assert_eq!(request.payload()["code"], "foo_code");
    let deauth = request.deauthorize().unwrap();
    assert_eq!(deauth.user_id, "123");
}

#[test]
fn php_sdk_vector_with_padding_stripped_from_signature_still_verifies() {
    // The HMAC covers the payload as received, so only the signature's padding may go.
    let (sig, payload) = PHP_VECTOR.split_once('.').unwrap();
    let unpadded = format!("{}.{payload}", sig.trim_end_matches('='));
    assert!(SignedRequest::verify(&unpadded, &secret(PHP_SECRET)).is_ok());
}

#[test]
fn bkrs_vector_unpadded_verifies() {
    let request = SignedRequest::verify(BKRS_VECTOR, &secret(BKRS_SECRET)).unwrap();
    let deauth = request.deauthorize().unwrap();
    assert_eq!(deauth.user_id, "0");
    assert_eq!(deauth.issued_at, 1_624_244_156);
}

#[test]
fn bkrs_vector_with_padded_signature_verifies() {
    let (sig, payload) = BKRS_VECTOR.split_once('.').unwrap();
    let padded = format!("{sig}=.{payload}");
    assert!(SignedRequest::verify(&padded, &secret(BKRS_SECRET)).is_ok());
}

#[test]
fn padded_payload_segment_signed_as_sent_verifies() {
    let payload = URL_SAFE.encode(br#"{"algorithm":"HMAC-SHA256","user_id":"5","issued_at":1}"#);
    assert!(payload.ends_with('='), "test needs a padded payload");
    let sr = sign_segment(&payload, &secret("s"), true);
    assert!(SignedRequest::verify(&sr, &secret("s")).is_ok());
}

#[test]
fn wrong_secret_is_a_bad_signature() {
    assert_eq!(
        SignedRequest::verify(BKRS_VECTOR, &secret("other")),
        Err(SignedRequestError::BadSignature)
    );
}

#[test]
fn tampered_payload_is_a_bad_signature() {
    let (sig, _) = BKRS_VECTOR.split_once('.').unwrap();
    let forged = URL_SAFE_NO_PAD
        .encode(br#"{"user_id":"1","algorithm":"HMAC-SHA256","issued_at":1624244156}"#);
    assert_eq!(
        SignedRequest::verify(&format!("{sig}.{forged}"), &secret(BKRS_SECRET)),
        Err(SignedRequestError::BadSignature)
    );
}

#[test]
fn tampered_signature_is_a_bad_signature() {
    let mut bytes = BKRS_VECTOR.as_bytes().to_vec();
    bytes[0] = if bytes[0] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(
        SignedRequest::verify(&tampered, &secret(BKRS_SECRET)),
        Err(SignedRequestError::BadSignature)
    );
}

#[test]
fn truncated_signature_is_a_bad_signature() {
    let payload = URL_SAFE_NO_PAD.encode(br#"{"algorithm":"HMAC-SHA256"}"#);
    assert_eq!(
        SignedRequest::verify(&format!("AAAA.{payload}"), &secret("s")),
        Err(SignedRequestError::BadSignature)
    );
}

#[test]
fn wrong_algorithm_is_refused_even_when_correctly_signed() {
    for algorithm in [json!("HMAC-SHA1"), json!("none"), json!(null)] {
        let payload = json!({"algorithm": algorithm, "user_id": "1", "issued_at": 1});
        let sr = SignedRequest::sign(&payload, &secret("s"));
        assert_eq!(
            SignedRequest::verify(&sr, &secret("s")),
            Err(SignedRequestError::UnsupportedAlgorithm)
        );
    }
}

#[test]
fn algorithm_is_case_insensitive() {
    let payload = json!({"algorithm": "hmac-sha256", "user_id": "1", "issued_at": 1});
    let sr = SignedRequest::sign(&payload, &secret("s"));
    assert!(SignedRequest::verify(&sr, &secret("s")).is_ok());
}

#[test]
fn malformed_inputs_are_named() {
    for input in ["", ".", "abc", "abc.", ".abc"] {
        assert_eq!(
            SignedRequest::verify(input, &secret("s")),
            Err(SignedRequestError::Malformed),
            "{input:?}"
        );
    }
    let long = "a".repeat(MAX_SIGNED_REQUEST_LEN + 1);
    assert_eq!(
        SignedRequest::verify(&long, &secret("s")),
        Err(SignedRequestError::Malformed)
    );
}

#[test]
fn bad_base64_is_named() {
    for input in ["a*b.eyJ9", "Mf_s.e!y", "abc+/.abcd", "Mf_s6nTb.eyJ1c2V==="] {
        assert_eq!(
            SignedRequest::verify(input, &secret("s")),
            Err(SignedRequestError::BadBase64),
            "{input:?}"
        );
    }
}

#[test]
fn signed_non_json_payload_is_a_bad_payload() {
    for body in [&b"not json"[..], b"[1,2]"] {
        let sr = sign_segment(&URL_SAFE_NO_PAD.encode(body), &secret("s"), false);
        assert!(matches!(
            SignedRequest::verify(&sr, &secret("s")),
            Err(SignedRequestError::BadPayload(_))
        ));
    }
}

#[test]
fn data_deletion_payload_is_typed() {
    let payload = json!({"algorithm":"HMAC-SHA256","expires":1291840400,"issued_at":1291836800,"user_id":"218471"});
    let sr = SignedRequest::sign(&payload, &secret("s"));
    let request = SignedRequest::verify(&sr, &secret("s"))
        .unwrap()
        .data_deletion()
        .unwrap();
    assert_eq!(
        request,
        DataDeletionRequest {
            user_id: "218471".into(),
            issued_at: 1_291_836_800,
            expires: Some(1_291_840_400),
        }
    );
}

#[test]
fn deauthorize_without_user_id_is_a_bad_payload() {
    let payload = json!({"algorithm":"HMAC-SHA256","issued_at":1});
    let sr = SignedRequest::sign(&payload, &secret("s"));
    let verified = SignedRequest::verify(&sr, &secret("s")).unwrap();
    assert!(matches!(
        verified.deauthorize(),
        Err(SignedRequestError::BadPayload(_))
    ));
}

#[test]
fn errors_do_not_echo_the_input() {
    let err = SignedRequest::verify("secretish.value", &secret("s")).unwrap_err();
    assert!(!err.to_string().contains("secretish"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(input in any::<String>()) {
        let _ = SignedRequest::verify(&input, &secret("s"));
    }

    #[test]
    fn never_panics_on_dotted_base64ish_text(sig in "[A-Za-z0-9_=-]{0,60}", payload in "[A-Za-z0-9_=.-]{0,120}") {
        let _ = SignedRequest::verify(&format!("{sig}.{payload}"), &secret("s"));
    }

    #[test]
    fn anything_signed_with_the_right_secret_verifies(user in "[0-9]{1,20}", issued in 0i64..4_000_000_000) {
        let payload = json!({"algorithm": "HMAC-SHA256", "user_id": user, "issued_at": issued});
        let sr = SignedRequest::sign(&payload, &secret("s"));
        let verified = SignedRequest::verify(&sr, &secret("s")).unwrap();
        prop_assert_eq!(verified.user_id(), Some(user));
        prop_assert!(SignedRequest::verify(&sr, &secret("t")).is_err());
    }
}
