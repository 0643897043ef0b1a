use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

use super::*;

fn kind_of(status: u16, body: Value) -> ErrorKind {
    GraphError::from_body(status, &body, Usage::default())
        .expect("an error object")
        .kind()
}

fn oauth(code: i64, subcode: Option<i64>, message: &str) -> Value {
    let mut error = json!({
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf123"
    });
    if let Some(subcode) = subcode {
        error["error_subcode"] = json!(subcode);
    }
    json!({ "error": error })
}

fn auth(reason: AuthReason) -> ErrorKind {
    ErrorKind::Auth { reason }
}

#[test]
fn code_190_subcodes_map_to_auth_reasons() {
    let cases = [
        (None, AuthReason::Invalid, "Invalid OAuth access token."),
        (
            Some(458),
            AuthReason::AppNotInstalled,
            "Error validating access token: User 1 has not authorized application 2.",
        ),
        (
            Some(459),
            AuthReason::Checkpoint,
            "Error validating access token: You cannot access the app till you log in to www.facebook.com and follow the instructions given.",
        ),
        (
            Some(460),
            AuthReason::PasswordChanged,
            "Error validating access token: The session has been invalidated because the user changed their password.",
        ),
        (
            Some(463),
            AuthReason::Expired,
            "Error validating access token: Session has expired on Tuesday, 07-Jan-25 12:00:00 PST. The current time is Tuesday, 07-Jan-25 13:00:00 PST.",
        ),
        (
            Some(464),
            AuthReason::Unconfirmed,
            "Error validating access token: Sessions for the user are not allowed because the user is not a confirmed user.",
        ),
        (
            Some(467),
            AuthReason::Invalid,
            "Error validating access token: The user is enrolled in a blocking, logged-in checkpoint",
        ),
        (
            Some(492),
            AuthReason::Invalid,
            "Error validating access token: invalid session",
        ),
        (
            Some(493),
            AuthReason::Invalid,
            "Error validating access token: app inactive",
        ),
    ];
    for (subcode, reason, message) in cases {
        assert_eq!(
            kind_of(400, oauth(190, subcode, message)),
            auth(reason),
            "{subcode:?}"
        );
    }
}

#[test]
fn code_102_and_452_are_auth_errors() {
    assert_eq!(
        kind_of(
            400,
            oauth(102, None, "Session key invalid or no longer valid")
        ),
        auth(AuthReason::Invalid)
    );
    assert_eq!(
        kind_of(
            400,
            oauth(
                452,
                None,
                "Session key invalid. This could be because the user has revoked this session"
            )
        ),
        auth(AuthReason::Revoked)
    );
}

#[test]
fn debug_token_spells_the_subcode_without_error_prefix() {
    let body = json!({"error": {"code": 190, "message": "Foo error message.", "subcode": 463}});
    assert_eq!(kind_of(200, body), auth(AuthReason::Expired));
}

#[test]
fn permission_codes() {
    for code in [3, 10, 200, 210, 230, 299] {
        assert_eq!(
            kind_of(
                403,
                oauth(code, None, "(#200) Requires pages_show_list permission")
            ),
            ErrorKind::Permission,
            "{code}"
        );
    }
}

#[test]
fn rate_limit_codes_map_to_scopes() {
    let cases = [
        (
            4,
            None,
            ThrottleScope::App,
            "(#4) Application request limit reached",
        ),
        (
            4,
            Some(1_504_022),
            ThrottleScope::App,
            "(#4) Application request limit reached",
        ),
        (
            4,
            Some(1_504_039),
            ThrottleScope::App,
            "(#4) Application request limit reached",
        ),
        (
            341,
            None,
            ThrottleScope::App,
            "(#341) Application limit reached",
        ),
        (
            17,
            None,
            ThrottleScope::User,
            "(#17) User request limit reached",
        ),
        (
            17,
            Some(2_446_079),
            ThrottleScope::User,
            "(#17) User request limit reached",
        ),
        (
            32,
            None,
            ThrottleScope::Page,
            "(#32) Page request limit reached",
        ),
        (
            613,
            None,
            ThrottleScope::App,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
        (
            613,
            Some(1996),
            ThrottleScope::App,
            "(#613) inconsistent request volume",
        ),
        (
            613,
            Some(1_487_742),
            ThrottleScope::App,
            "(#613) ad account limit",
        ),
    ];
    for (code, subcode, scope, message) in cases {
        assert_eq!(
            kind_of(400, oauth(code, subcode, message)),
            ErrorKind::Throttled {
                scope,
                retry_after: None
            },
            "{code}/{subcode:?}"
        );
    }
}

#[test]
fn business_use_case_codes() {
    for code in [
        80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014,
    ] {
        let body = oauth(
            code,
            None,
            "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
        );
        assert_eq!(
            kind_of(400, body),
            ErrorKind::Throttled {
                scope: ThrottleScope::BusinessUseCase,
                retry_after: None
            },
            "{code}"
        );
    }
}

#[test]
fn throttle_carries_the_wait_from_usage_headers() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-business-use-case-usage",
        HeaderValue::from_static(r#"{"123":[{"type":"pages","call_count":100,"total_cputime":10,"total_time":10,"estimated_time_to_regain_access":2}]}"#),
    );
    let body = oauth(
        80001,
        None,
        "(#80001) There have been too many calls to this Page account.",
    );
    let error = GraphError::from_body(400, &body, Usage::from_headers(&headers)).unwrap();
    assert_eq!(
        error.kind(),
        ErrorKind::Throttled {
            scope: ThrottleScope::BusinessUseCase,
            retry_after: Some(Duration::from_secs(120)),
        }
    );
}

#[test]
fn transient_codes() {
    assert_eq!(
        kind_of(500, oauth(1, None, "An unknown error occurred")),
        ErrorKind::Transient
    );
    assert_eq!(
        kind_of(503, oauth(2, None, "Service temporarily unavailable")),
        ErrorKind::Transient
    );
    let flagged = json!({"error": {"code": 100, "message": "x", "is_transient": true}});
    assert_eq!(kind_of(400, flagged), ErrorKind::Transient);
    assert_eq!(kind_of(502, oauth(100, None, "odd")), ErrorKind::Transient);
}

#[test]
fn bad_client_secret_is_not_transient() {
    assert_eq!(
        kind_of(400, oauth(1, None, "Error validating client secret.")),
        ErrorKind::BadRequest
    );
    assert_eq!(
        kind_of(400, oauth(1, None, "Missing client_secret parameter.")),
        ErrorKind::BadRequest
    );
}

#[test]
fn code_exchange_failures_are_bad_requests() {
    let cases = [
        (
            100,
            Some(36008),
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        ),
        (100, Some(36009), "This authorization code has been used."),
        (100, Some(36007), "This authorization code has expired."),
        (100, None, "Invalid verification code format."),
        (
            101,
            None,
            "Error validating application. Invalid application ID.",
        ),
        (
            100,
            None,
            "Invalid appsecret_proof provided in the API argument",
        ),
        (
            100,
            None,
            "API calls from the server require an appsecret_proof argument",
        ),
    ];
    for (code, subcode, message) in cases {
        assert_eq!(
            kind_of(400, oauth(code, subcode, message)),
            ErrorKind::BadRequest,
            "{message}"
        );
    }
}

#[test]
fn fields_of_the_envelope_are_kept() {
    let body = json!({"error": {
        "message": "Error validating access token: Session has expired",
        "type": "OAuthException", "code": 190, "error_subcode": 463,
        "error_user_title": "Session expired", "error_user_msg": "Please log in again",
        "fbtrace_id": "Ab12"
    }});
    let error = GraphError::from_body(400, &body, Usage::default()).unwrap();
    assert_eq!(error.code, 190);
    assert_eq!(error.subcode, Some(463));
    assert_eq!(error.error_type.as_deref(), Some("OAuthException"));
    assert_eq!(error.user_title.as_deref(), Some("Session expired"));
    assert_eq!(error.user_message.as_deref(), Some("Please log in again"));
    assert_eq!(error.fbtrace_id.as_deref(), Some("Ab12"));
    let shown = FacebookError::from(error).to_string();
    assert!(shown.contains("190") && shown.contains("463"), "{shown}");
}

#[test]
fn bodies_without_an_error_object() {
    assert!(GraphError::from_body(200, &json!({"data": []}), Usage::default()).is_none());
    assert!(GraphError::from_body(400, &json!({"error": 5}), Usage::default()).is_none());
    let oauth2 = json!({"error": "invalid_request", "error_description": "Missing code"});
    let error = GraphError::from_body(400, &oauth2, Usage::default()).unwrap();
    assert_eq!(error.message, "Missing code");
    assert_eq!(error.kind(), ErrorKind::BadRequest);
}

#[test]
fn non_graph_errors_classify() {
    let protocol = FacebookError::Protocol {
        status: 200,
        detail: "not JSON".into(),
    };
    assert_eq!(protocol.kind(), ErrorKind::Protocol);
    assert!(!protocol.is_temporary());
    let gateway = FacebookError::Protocol {
        status: 502,
        detail: "not JSON".into(),
    };
    assert_eq!(gateway.kind(), ErrorKind::Transient);
    let transport = FacebookError::Transport(TransportError {
        timeout: true,
        detail: "x".into(),
    });
    assert_eq!(transport.kind(), ErrorKind::Transport);
    assert!(transport.is_temporary());
    assert_eq!(transport.to_string(), "Facebook did not answer in time");
}
