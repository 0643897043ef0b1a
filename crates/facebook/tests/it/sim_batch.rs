//! Batches against the emulator: the health check's 50-at-a-time debug_token, splitting, and
//! the re-sending of null entries.

use fbgate_facebook::{AccessToken, BatchItem, BatchOperation, Facebook, RetryPolicy};
use serde_json::json;

use crate::sim::{ADA, SimEnv};

async fn tokens(env: &SimEnv, n: usize) -> Vec<AccessToken> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(env.mint(ADA, &["public_profile"], true).await);
    }
    out
}

#[tokio::test]
async fn sixty_debug_tokens_run_as_two_batches_in_order() {
    let env = SimEnv::start().await;
    let tokens = tokens(&env, 60).await;
    env.revoke(&tokens[55], Some(460)).await;
    let ops: Vec<BatchOperation> = tokens.iter().map(BatchOperation::debug_token).collect();
    let app_token = env.facebook.app().app_access_token();
    let items = env.facebook.batch(&app_token, &ops).await.unwrap();
    assert_eq!(items.len(), 60);
    for (i, item) in items.iter().enumerate() {
        let BatchItem::Done(response) = item else {
            panic!("entry {i} timed out");
        };
        let info = response.debug_token().unwrap();
        assert_eq!(info.is_valid, i != 55, "entry {i}");
        assert_eq!(info.user_id.as_deref(), Some(ADA));
    }
}

#[tokio::test]
async fn debug_tokens_answers_each_token_in_order() {
    let env = SimEnv::start().await;
    let tokens = tokens(&env, 3).await;
    env.revoke(&tokens[1], Some(458)).await;
    let answers = env.facebook.debug_tokens(&tokens).await.unwrap();
    let validity: Vec<bool> = answers
        .iter()
        .map(|a| a.as_ref().unwrap().is_valid)
        .collect();
    assert_eq!(validity, [true, false, true]);
    let error = answers[1].as_ref().unwrap().error.clone().unwrap();
    assert_eq!(error.subcode, Some(458));
}

#[tokio::test]
async fn per_operation_errors_are_classified() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    let ops = [
        BatchOperation::get("me", &[("fields", "id,name")]),
        BatchOperation::get("40400000000000404", &[]),
    ];
    let items = env.facebook.batch(&token, &ops).await.unwrap();
    let BatchItem::Done(me) = &items[0] else {
        panic!("me timed out");
    };
    assert_eq!(me.json::<serde_json::Value>().unwrap()["id"], ADA);
    let BatchItem::Done(missing) = &items[1] else {
        panic!("the second operation timed out");
    };
    let error = missing.json::<serde_json::Value>().unwrap_err();
    assert_eq!(
        error.kind(),
        fbgate_facebook::ErrorKind::BadRequest,
        "{error}"
    );
    assert_eq!(missing.graph_error().unwrap().code, 100);
}

#[tokio::test]
async fn null_entries_are_retried_until_answered() {
    let env = SimEnv::start().await;
    env.faults(json!({"batch_null_rate": 0.3})).await;
    let patient = Facebook::builder(env.facebook.app().clone())
        .retry_policy(RetryPolicy {
            max_attempts: 15,
            base_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let token = env.mint(ADA, &["public_profile"], true).await;
    let ops: Vec<BatchOperation> = (0..30)
        .map(|_| BatchOperation::get("me", &[("fields", "id")]))
        .collect();
    let items = patient.batch(&token, &ops).await.unwrap();
    assert!(
        items.iter().all(|i| matches!(i, BatchItem::Done(_))),
        "{items:?}"
    );
}

#[tokio::test]
async fn entries_that_stay_null_are_reported_as_timed_out() {
    let env = SimEnv::start().await;
    env.faults(json!({"batch_null_rate": 1.0})).await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    let ops = [BatchOperation::get("me", &[])];
    let items = env.facebook.batch(&token, &ops).await.unwrap();
    assert_eq!(items, [BatchItem::TimedOut]);
}

#[tokio::test]
async fn debug_token_and_me_come_back_from_one_batch_each_on_its_own() {
    let env = SimEnv::start().await;
    let (app_id, secret) = env.strict_app().await;
    let strict = env.facebook_for(&app_id, &secret);
    let token = env.mint_for(&app_id, ADA, &["email"], false).await;
    env.control(reqwest::Method::DELETE, "/_sim/requests", None)
        .await;

    let both = strict
        .debug_token_and_me(&token, &["id", "name"])
        .await
        .unwrap();
    let debug = both.debug.unwrap();
    assert!(debug.is_valid && debug.is_for_app(&app_id));
    assert_eq!(debug.user_id.as_deref(), Some(ADA));
    let (profile, permissions) = both.profile.unwrap();
    assert_eq!(profile.id, ADA);
    assert!(profile.name.is_some());
    assert_eq!(profile.raw.get("permissions"), None);
    assert!(permissions.is_granted("email"));
    // One request reached the emulator: the batch (its operations are logged with it).
    let log = env
        .control(reqwest::Method::GET, "/_sim/requests", None)
        .await;
    let calls: Vec<(&str, bool)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["endpoint"].as_str().unwrap(), r["batch"] == json!(true)))
        .collect();
    assert_eq!(
        calls,
        [("debug_token", true), ("me", true), ("batch", false)],
        "{log}"
    );

    // A token of another app: debug_token says so, and /me is refused (wrong proof).
    let foreign = env.mint(ADA, &["public_profile"], false).await;
    let both = strict.debug_token_and_me(&foreign, &["id"]).await.unwrap();
    let debug = both.debug.unwrap();
    assert!(!debug.is_for_app(&app_id));
    assert!(both.profile.is_err());
}
