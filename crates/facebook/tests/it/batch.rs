//! Batch mechanics with exact answers: splitting above 50 and re-sending null entries.

use fbgate_facebook::{AccessToken, BatchItem, BatchOperation, MAX_BATCH_SIZE};
use serde_json::{Value, json};

use crate::fake::{Fake, Reply, quick_retries};

fn entry(id: usize) -> Value {
    json!({"code": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
           "body": json!({"id": id.to_string()}).to_string()})
}

fn ops(n: usize) -> Vec<BatchOperation> {
    (0..n)
        .map(|i| BatchOperation::get(&i.to_string(), &[("fields", "id")]))
        .collect()
}

fn sent_batch(seen: &crate::fake::Seen) -> Vec<Value> {
    serde_json::from_str(seen.param("batch").unwrap()).unwrap()
}

#[tokio::test]
async fn more_than_fifty_operations_are_split() {
    let first: Vec<Value> = (0..50).map(entry).collect();
    let second: Vec<Value> = (50..73).map(entry).collect();
    let fake = Fake::start(vec![
        Reply::json(200, json!(first)),
        Reply::json(200, json!(second)),
    ])
    .await;
    let items = fake
        .client(quick_retries(1))
        .batch(&AccessToken::new("app|token"), &ops(73))
        .await
        .unwrap();
    assert_eq!(items.len(), 73);
    for (i, item) in items.iter().enumerate() {
        let BatchItem::Done(response) = item else {
            panic!("entry {i} missing");
        };
        assert_eq!(response.json::<Value>().unwrap()["id"], i.to_string());
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(sent_batch(&seen[0]).len(), MAX_BATCH_SIZE);
    assert_eq!(sent_batch(&seen[1]).len(), 23);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/v25.0");
    assert!(seen[0].param("appsecret_proof").is_some());
}

#[tokio::test]
async fn null_entries_are_resent_and_persistent_ones_reported() {
    let fake = Fake::start(vec![
        Reply::json(200, json!([entry(0), null, entry(2), null])),
        Reply::json(200, json!([entry(1), null])),
        Reply::json(200, json!([null])),
    ])
    .await;
    let items = fake
        .client(quick_retries(3))
        .batch(&AccessToken::new("t"), &ops(4))
        .await
        .unwrap();
    assert!(matches!(items[0], BatchItem::Done(_)));
    let BatchItem::Done(one) = &items[1] else {
        panic!("entry 1 should have been recovered");
    };
    assert_eq!(one.json::<Value>().unwrap()["id"], "1");
    assert!(matches!(items[2], BatchItem::Done(_)));
    assert_eq!(items[3], BatchItem::TimedOut);
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(sent_batch(&seen[1])[0]["relative_url"], "1?fields=id");
    assert_eq!(sent_batch(&seen[2])[0]["relative_url"], "3?fields=id");
}

#[tokio::test]
async fn null_writes_are_not_resent() {
    let fake = Fake::start(vec![Reply::json(200, json!([null]))]).await;
    let items = fake
        .client(quick_retries(3))
        .batch(
            &AccessToken::new("t"),
            &[BatchOperation::post("me/feed", &[("message", "x")])],
        )
        .await
        .unwrap();
    assert_eq!(items, [BatchItem::TimedOut]);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_wrong_number_of_entries_is_a_protocol_error() {
    let fake = Fake::start(vec![Reply::json(200, json!([entry(0)]))]).await;
    let error = fake
        .client(quick_retries(1))
        .batch(&AccessToken::new("t"), &ops(2))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), fbgate_facebook::ErrorKind::Protocol);
}
