use fbgate_sim::{DEMO_APP_ID, DEMO_PAGE_IDS, DEMO_USER_PAGE_OWNER};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{graph_error, start};

#[tokio::test]
async fn accounts_list_pages_with_page_tokens_and_paging() {
    let sim = start().await;
    let short = sim
        .token(
            DEMO_USER_PAGE_OWNER,
            &["pages_show_list", "pages_read_engagement"],
            false,
        )
        .await;
    let accounts = sim
        .get("/v21.0/me/accounts", &[("access_token", &short)])
        .await;
    assert_eq!(accounts.status, StatusCode::OK, "{:?}", accounts.body);
    let data = accounts.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], DEMO_PAGE_IDS[0]);
    assert_eq!(data[0]["category"], "Bakery");
    assert_eq!(data[0]["category_list"][0]["name"], "Bakery");
    assert_eq!(
        data[0]["tasks"],
        json!([
            "ANALYZE",
            "ADVERTISE",
            "MODERATE",
            "CREATE_CONTENT",
            "MANAGE"
        ])
    );
    let page_token = data[0]["access_token"].as_str().unwrap().to_owned();
    let again = sim
        .get("/v21.0/me/accounts", &[("access_token", &short)])
        .await;
    assert_eq!(again.body["data"][0]["access_token"], page_token.as_str());
    let debug = sim.debug(&page_token).await;
    assert_eq!(debug["type"], "PAGE");
    assert_eq!(debug["profile_id"], DEMO_PAGE_IDS[0]);
    assert!((debug["expires_at"].as_i64().unwrap() - (sim.now().await + 3600)).abs() <= 2);
    let page = sim.get("/v21.0/me", &[("access_token", &page_token)]).await;
    assert_eq!(
        page.body,
        json!({ "name": "Demo Bakery", "id": DEMO_PAGE_IDS[0] })
    );

    let long = sim
        .token(DEMO_USER_PAGE_OWNER, &["pages_show_list"], true)
        .await;
    let first = sim
        .get(
            "/v21.0/me/accounts",
            &[("limit", "1"), ("access_token", &long)],
        )
        .await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 1);
    let never = first.body["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sim.debug(&never).await["expires_at"], 0);
    let next = first.body["paging"]["next"].as_str().unwrap().to_owned();
    let after = first.body["paging"]["cursors"]["after"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = sim
        .get(
            "/v21.0/me/accounts",
            &[("limit", "1"), ("after", &after), ("access_token", &long)],
        )
        .await;
    assert_eq!(second.body["data"][0]["id"], DEMO_PAGE_IDS[1]);
    assert!(second.body["paging"].get("next").is_none());
    let followed = sim
        .http
        .get(&next)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(followed["data"][0]["id"], DEMO_PAGE_IDS[1]);
    let by_page = sim
        .get(
            &format!("/v21.0/{}", DEMO_PAGE_IDS[1]),
            &[("fields", "access_token"), ("access_token", &long)],
        )
        .await;
    assert!(
        by_page.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("EAA")
    );

    // Without pages_show_list (removed in the user's settings) the list is empty.
    sim.control(
        Method::DELETE,
        &format!(
            "/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_PAGE_OWNER}/permissions/pages_show_list"
        ),
        serde_json::Value::Null,
    )
    .await;
    let empty = sim
        .get("/v21.0/me/accounts", &[("access_token", &long)])
        .await;
    assert_eq!(empty.body, json!({ "data": [] }));
}

#[tokio::test]
async fn page_feeds_can_be_read_and_posted_with_page_tokens() {
    let sim = start().await;
    let user = sim
        .token(
            DEMO_USER_PAGE_OWNER,
            &[
                "pages_show_list",
                "pages_read_engagement",
                "pages_manage_posts",
            ],
            true,
        )
        .await;
    let accounts = sim
        .get("/v21.0/me/accounts", &[("access_token", &user)])
        .await;
    let page_token = accounts.body["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let feed_path = format!("/v21.0/{}/feed", DEMO_PAGE_IDS[0]);
    let posted = sim
        .post(
            &feed_path,
            &[("message", "Fresh bread"), ("access_token", &page_token)],
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{:?}", posted.body);
    let id = posted.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with(&format!("{}_", DEMO_PAGE_IDS[0])));
    assert!(
        posted.headers["x-business-use-case-usage"]
            .to_str()
            .unwrap()
            .contains(DEMO_PAGE_IDS[0])
    );
    let feed = sim.get(&feed_path, &[("access_token", &page_token)]).await;
    assert_eq!(feed.body["data"][0]["id"], id.as_str());
    assert_eq!(feed.body["data"][0]["message"], "Fresh bread");
    assert!(
        feed.body["data"][0]["created_time"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );
    let by_user = sim.get(&feed_path, &[("access_token", &user)]).await;
    graph_error(&by_user, 210);
    let other_page = sim
        .get(
            &format!("/v21.0/{}/feed", DEMO_PAGE_IDS[1]),
            &[("access_token", &page_token)],
        )
        .await;
    graph_error(&other_page, 200);
    let empty = sim.post(&feed_path, &[("access_token", &page_token)]).await;
    graph_error(&empty, 100);
    let weak_user = sim
        .token(DEMO_USER_PAGE_OWNER, &["pages_show_list"], true)
        .await;
    let weak = sim
        .get("/v21.0/me/accounts", &[("access_token", &weak_user)])
        .await;
    let weak_page = weak.body["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The grant is per user: the earlier tokens' scopes are the user's current ones, so
    // revoke what the weak token lacks to see the permission error.
    sim.control(
        Method::DELETE,
        &format!(
            "/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_PAGE_OWNER}/permissions/pages_manage_posts"
        ),
        serde_json::Value::Null,
    )
    .await;
    let refused = sim
        .post(
            &feed_path,
            &[("message", "x"), ("access_token", &weak_page)],
        )
        .await;
    graph_error(&refused, 200);
}
