//! How a provider's input becomes settings: defaults, `null`, changes, and the rules between
//! fields.

use serde_json::json;

use super::*;

fn input(body: serde_json::Value) -> ProviderInput {
    serde_json::from_value(body).unwrap()
}

fn minimal() -> serde_json::Value {
    json!({"provider_kind": "preset", "provider_key": "facebook", "client_id": "1234567890"})
}

fn with(extra: serde_json::Value) -> ProviderInput {
    let mut body = minimal();
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    input(body)
}

fn refused(result: Result<ProviderSettings, Error>) -> String {
    match result {
        Err(Error::Invalid { field, .. }) => field,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn creation_fills_every_default() {
    let s = ProviderSettings::resolve(input(minimal()), None).unwrap();
    assert_eq!(s.slug.as_str(), "facebook");
    assert_eq!(s.name.as_str(), "Facebook");
    assert_eq!(s.scopes.as_slice(), ["public_profile", "email"]);
    assert_eq!(s.login_product, LoginProduct::FacebookLogin);
    assert_eq!(s.config_id, None);
    assert_eq!(s.token_type, TokenType::User);
    assert_eq!(s.attribute_mapping, AttributeMapping::default());
    assert!(s.allow_sign_up);
    assert_eq!(s.sync_profile, SyncProfile::EverySignIn);
    assert!(s.email_required);
    assert!(!s.revoke_on_unlink);
    assert!(s.delete_user_on_data_deletion);
    assert_eq!(s.enabled_for, EnabledFor::default());
    assert!(s.allowed_redirect_urls.patterns().is_empty());
    assert_eq!(s.graph_api_version.as_str(), "v25.0");
    assert_eq!(s.facebook_base_url, None);
    assert_eq!(s.graph_base_url, None);
}

#[test]
fn nulls_on_creation_mean_the_defaults() {
    let s = ProviderSettings::resolve(
        with(json!({"config_id": null, "graph_base_url": null, "name": null, "scopes": null})),
        None,
    )
    .unwrap();
    assert_eq!(
        s,
        ProviderSettings::resolve(input(minimal()), None).unwrap()
    );
}

#[test]
fn required_fields_are_named_when_missing_or_null() {
    for field in ["provider_kind", "provider_key", "client_id"] {
        let mut body = minimal();
        body.as_object_mut().unwrap().remove(field);
        assert_eq!(refused(ProviderSettings::resolve(input(body), None)), field);
        let mut body = minimal();
        body[field] = serde_json::Value::Null;
        assert_eq!(refused(ProviderSettings::resolve(input(body), None)), field);
    }
}

#[test]
fn login_for_business_needs_a_config_id_and_only_it_has_one() {
    assert_eq!(
        refused(ProviderSettings::resolve(
            with(json!({"login_product": "facebook_login_for_business"})),
            None
        )),
        "config_id"
    );
    assert_eq!(
        refused(ProviderSettings::resolve(
            with(json!({"config_id": "12345"})),
            None
        )),
        "config_id"
    );
    assert_eq!(
        refused(ProviderSettings::resolve(
            with(json!({"token_type": "system_user"})),
            None
        )),
        "token_type"
    );
    let business = ProviderSettings::resolve(
        with(
            json!({"login_product": "facebook_login_for_business", "config_id": "12345",
                    "token_type": "system_user"}),
        ),
        None,
    )
    .unwrap();
    assert_eq!(business.config_id.unwrap().as_str(), "12345");
}

#[test]
fn a_change_keeps_what_it_does_not_name_and_is_checked_as_a_whole() {
    let current = ProviderSettings::resolve(
        with(
            json!({"slug": "consumer", "scopes": ["email", "user_birthday"],
                    "allowed_redirect_urls": ["https://app.example.com/*"]}),
        ),
        None,
    )
    .unwrap();

    let renamed =
        ProviderSettings::resolve(input(json!({"name": "Consumer"})), Some(&current)).unwrap();
    assert_eq!(renamed.name.as_str(), "Consumer");
    assert_eq!(renamed.slug.as_str(), "consumer");
    assert_eq!(renamed.scopes, current.scopes);
    assert_eq!(renamed.allowed_redirect_urls, current.allowed_redirect_urls);

    // Switching to Login for Business alone leaves it without a config_id.
    assert_eq!(
        refused(ProviderSettings::resolve(
            input(json!({"login_product": "facebook_login_for_business"})),
            Some(&current)
        )),
        "config_id"
    );
    let business = ProviderSettings::resolve(
        input(json!({"login_product": "facebook_login_for_business", "config_id": "777"})),
        Some(&current),
    )
    .unwrap();
    // And back: the config_id must be cleared in the same change.
    assert_eq!(
        refused(ProviderSettings::resolve(
            input(json!({"login_product": "facebook_login"})),
            Some(&business)
        )),
        "config_id"
    );
    let back = ProviderSettings::resolve(
        input(json!({"login_product": "facebook_login", "config_id": null})),
        Some(&business),
    )
    .unwrap();
    assert_eq!(back.config_id, None);

    // null resets a field to its default.
    let reset =
        ProviderSettings::resolve(input(json!({"scopes": null, "slug": null})), Some(&current))
            .unwrap();
    assert_eq!(reset.scopes, Scopes::default());
    assert_eq!(reset.slug.as_str(), "facebook");
}

#[test]
fn every_bad_value_names_its_field() {
    let cases = [
        (json!({"name": ""}), "name"),
        (json!({"slug": "Not A Slug"}), "slug"),
        (json!({"client_id": "12ab"}), "client_id"),
        (json!({"scopes": ["email", "bad scope"]}), "scopes[1]"),
        (json!({"config_id": "x1"}), "config_id"),
        (
            json!({"attribute_mapping": {"email_address": "mail"}}),
            "attribute_mapping.email_address",
        ),
        (json!({"enabled_for": []}), "enabled_for"),
        (
            json!({"allowed_redirect_urls": ["https://*.example.com/*"]}),
            "allowed_redirect_urls[0]",
        ),
        (json!({"graph_api_version": "25.0"}), "graph_api_version"),
        (json!({"graph_api_version": "v25"}), "graph_api_version"),
        (
            json!({"facebook_base_url": "https://fb.example/?x=1"}),
            "facebook_base_url",
        ),
        (json!({"graph_base_url": "not a url"}), "graph_base_url"),
    ];
    for (extra, field) in cases {
        assert_eq!(
            refused(ProviderSettings::resolve(with(extra.clone()), None)),
            field,
            "{extra}"
        );
    }
}

#[test]
fn unknown_fields_and_wrong_choices_do_not_deserialize() {
    assert!(serde_json::from_value::<ProviderInput>(json!({"colour": "blue"})).is_err());
    assert!(serde_json::from_value::<ProviderInput>(json!({"provider_key": "google"})).is_err());
    assert!(serde_json::from_value::<ProviderInput>(json!({"enabled_for": ["admin"]})).is_err());
}

#[test]
fn a_stored_provider_reads_back_as_it_was_written() {
    let settings = ProviderSettings::resolve(
        with(json!({
            "slug": "business",
            "name": "Business app",
            "scopes": ["business_management"],
            "login_product": "facebook_login_for_business",
            "config_id": "5550001",
            "token_type": "system_user",
            "attribute_mapping": {"name": "name", "profile_image_url": null},
            "allow_sign_up": false,
            "sync_profile": "sign_up_only",
            "email_required": false,
            "revoke_on_unlink": true,
            "enabled_for": ["api_access"],
            "allowed_redirect_urls": ["https://app.example.com/*", "http://localhost:3000/cb"],
            "graph_api_version": "v21.0",
            "facebook_base_url": "http://127.0.0.1:9090",
            "graph_base_url": "http://127.0.0.1:9090/graph/"
        })),
        None,
    )
    .unwrap();
    let now = OffsetDateTime::now_utc();
    let provider = Provider {
        id: "prv_1".into(),
        environment_id: "env_1".into(),
        settings,
        created_at: now,
        updated_at: now,
        client_secret_ciphertext: vec![1, 2, 3],
    };
    let row = provider.to_row();
    assert_eq!(row.scopes, r#"["public_profile","business_management"]"#);
    assert_eq!(row.enabled_for, r#"["api_access"]"#);
    let back = Provider::from_row(row).unwrap();
    assert_eq!(back.settings, provider.settings);
    assert_eq!(back.client_secret_ciphertext, vec![1, 2, 3]);
}

#[test]
fn a_row_this_code_did_not_write_is_a_storage_failure() {
    let settings = ProviderSettings::resolve(input(minimal()), None).unwrap();
    let now = OffsetDateTime::now_utc();
    let provider = Provider {
        id: "prv_1".into(),
        environment_id: "env_1".into(),
        settings,
        created_at: now,
        updated_at: now,
        client_secret_ciphertext: vec![],
    };
    let mut row = provider.to_row();
    row.enabled_for = "not json".into();
    assert!(matches!(Provider::from_row(row), Err(Error::Store(_))));
}
