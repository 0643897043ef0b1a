use proptest::prelude::*;

use super::*;

fn code_of(callback: &LoginCallback) -> &str {
    match &callback.outcome {
        CallbackOutcome::Code { code, .. } => code.expose(),
        other => panic!("expected a code, got {other:?}"),
    }
}

#[test]
fn full_url_with_code_and_state() {
    let cb = LoginCallback::parse("https://app.example.com/cb?code=AQBx&state=abc").unwrap();
    assert_eq!(cb.state.as_deref(), Some("abc"));
    assert_eq!(code_of(&cb), "AQBx");
}

#[test]
fn the_hash_underscore_suffix_is_ignored() {
    for input in [
        "https://app.example.com/cb?code=AQBx&state=abc#_=_",
        "?code=AQBx&state=abc#_=_",
        "code=AQBx&state=abc#_=_",
    ] {
        let cb = LoginCallback::parse(input).unwrap();
        assert_eq!(code_of(&cb), "AQBx", "{input}");
        assert_eq!(cb.state.as_deref(), Some("abc"), "{input}");
    }
}

#[test]
fn granted_and_denied_scopes_are_split() {
    let cb = LoginCallback::parse(
        "?code=c&state=s&granted_scopes=public_profile%2Cemail&denied_scopes=user_likes",
    )
    .unwrap();
    match cb.outcome {
        CallbackOutcome::Code {
            granted_scopes,
            denied_scopes,
            ..
        } => {
            assert_eq!(granted_scopes.unwrap(), ["public_profile", "email"]);
            assert_eq!(denied_scopes.unwrap(), ["user_likes"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cancel_is_an_error_outcome_with_all_four_fields() {
    let cb = LoginCallback::parse(
        "https://a/cb?error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state=xyz#_=_",
    )
    .unwrap();
    assert_eq!(cb.state.as_deref(), Some("xyz"));
    let CallbackOutcome::Error(error) = cb.outcome else {
        panic!("expected an error");
    };
    assert!(error.is_user_cancel());
    assert_eq!(
        error,
        DialogError {
            error: "access_denied".into(),
            error_code: Some(200),
            error_reason: Some("user_denied".into()),
            error_description: Some("Permissions error".into()),
        }
    );
}

#[test]
fn an_error_wins_over_a_code() {
    let cb = LoginCallback::parse("?code=c&error=server_error").unwrap();
    let CallbackOutcome::Error(error) = cb.outcome else {
        panic!("expected an error");
    };
    assert!(!error.is_user_cancel());
}

#[test]
fn token_in_the_fragment_is_read() {
    let cb = LoginCallback::parse(
        "https://a/cb#access_token=EAAx&data_access_expiration_time=1719799969&expires_in=6431&state=1234",
    )
    .unwrap();
    assert_eq!(cb.state.as_deref(), Some("1234"));
    match cb.outcome {
        CallbackOutcome::Token {
            access_token,
            expires_in,
            data_access_expiration_time,
            ..
        } => {
            assert_eq!(access_token.expose(), "EAAx");
            assert_eq!(expires_in, Some(6431));
            assert_eq!(data_access_expiration_time, Some(1_719_799_969));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_code_and_repeated_parameters_are_refused() {
    assert_eq!(
        LoginCallback::parse("https://a/cb?state=s"),
        Err(CallbackError::MissingCode)
    );
    assert_eq!(
        LoginCallback::parse("?code="),
        Err(CallbackError::MissingCode)
    );
    assert_eq!(
        LoginCallback::parse("?code=a&code=b&state=s"),
        Err(CallbackError::DuplicateParameter("code".into()))
    );
    assert_eq!(
        LoginCallback::parse("?code=a&state=s#state=t"),
        Err(CallbackError::DuplicateParameter("state".into()))
    );
}

#[test]
fn unknown_parameters_are_ignored() {
    let cb = LoginCallback::parse("?code=a&state=s&utm=1&utm=2").unwrap();
    assert_eq!(code_of(&cb), "a");
}

#[test]
fn debug_of_a_callback_hides_the_code() {
    let cb = LoginCallback::parse("?code=AQsecret&state=s").unwrap();
    assert!(!format!("{cb:?}").contains("AQsecret"));
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(input in any::<String>()) {
        let _ = LoginCallback::parse(&input);
    }

    #[test]
    fn never_panics_on_query_like_text(input in "[a-z_=&#?%:/.0-9A-F+]{0,200}") {
        let _ = LoginCallback::parse(&input);
    }

    #[test]
    fn any_code_and_state_round_trip(code in "[A-Za-z0-9_-]{1,80}", state in "[A-Za-z0-9_-]{0,40}") {
        let cb = LoginCallback::parse(&format!("https://a/cb?code={code}&state={state}#_=_")).unwrap();
        prop_assert_eq!(cb.state, Some(state));
        match cb.outcome {
            CallbackOutcome::Code { code: got, .. } => prop_assert_eq!(got.expose(), code.as_str()),
            _ => prop_assert!(false, "expected a code"),
        }
    }
}
