//! The data-deletion callback: a person asked Facebook for their data to be deleted; fbgate
//! answers with a confirmation code at once and deletes in a job.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    PNG, all_rows, context_of, count, credential_row, picture_url, run_jobs, scene, scene_with,
    spawn_app_with_idle_jobs, with_db,
};
use crate::helpers::{Engine, error_code, on_both_engines};

on_both_engines!(
    data_deletion_deletes_everything_from_facebook_and_reports_completion,
    data_deletion_for_an_unknown_user_still_gets_a_code_and_completes,
    data_deletion_keeps_a_user_the_app_created_but_strips_facebooks_fields,
    data_deletion_keeps_the_user_when_the_provider_says_so,
);

async fn data_deletion_deletes_everything_from_facebook_and_reports_completion(engine: Engine) {
    let s = scene(spawn_app_with_idle_jobs(engine).await).await;
    let picture = picture_url().await;
    let (person, user_id) = s.sign_up("Ada Lovelace", Some(&picture)).await;
    let (_, other_user_id) = s.sign_up("Grace Hopper", None).await;
    let user: Value = s
        .app
        .client
        .get(s.app.url(&format!("/v1/users/{user_id}")))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let avatar_url = user["profile_image_url"].as_str().unwrap().to_owned();
    assert!(
        avatar_url.contains("/v1/avatars/"),
        "re-hosted: {avatar_url}"
    );
    let sha = hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, PNG));
    let avatar_file = std::env::temp_dir()
        .join("avatars")
        .join(&s.env.id)
        .join(&sha);
    assert!(avatar_file.exists());

    // Facebook calls; fbgate answers at once with a code and the status page's URL.
    let (status, answer) = s.at_facebook(&person, "data-deletion").await;
    assert_eq!(status, 200);
    let code = answer["confirmation_code"].as_str().unwrap().to_owned();
    assert!(
        code.len() >= 16 && code.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{code}"
    );
    assert_eq!(
        answer["url"],
        s.app.url(&format!("/v1/data-deletion/{code}")).as_str()
    );
    let pending = s.deletion_status(&code).await;
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["completed_at"], Value::Null);
    let mut keys: Vec<_> = pending.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "completed_at",
            "confirmation_code",
            "requested_at",
            "status"
        ]
    );
    // The operator sees it waiting.
    let list: Value = s
        .app
        .client
        .get(s.app.url("/v1/data-deletion-requests?status=pending"))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        list["data"][0]["confirmation_code"],
        code.as_str(),
        "{list}"
    );
    // People get a page, which says no more than the JSON does.
    let page = s
        .app
        .client
        .get(answer["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(&code) && html.contains("pending"));
    assert!(!html.contains(&person.id) && !html.contains("Ada"));

    // The job runs (once is enough; a second run after a crash changes nothing).
    run_jobs(&s.app).await;
    let completed = s.deletion_status(&code).await;
    assert_eq!(completed["status"], "completed");
    assert!(completed["completed_at"].is_string());
    assert_eq!(completed["requested_at"], pending["requested_at"]);
    fbgate::domain::compliance::carry_out(&context_of(&s.app).await, &code)
        .await
        .unwrap();

    const EVENTS: &str = "SELECT COUNT(*) FROM outbox_events WHERE type = 'data_deletion.completed' \
                          AND payload LIKE $1";
    assert_eq!(count(&s.app, EVENTS, &format!("%{code}%")).await, 1);

    // Nothing of that person's Facebook data is left in any table (events and the audit log
    // name fbgate's ids only), nor the picture's bytes.
    let rows = all_rows(&s.app).await;
    for trace in [
        person.id.as_str(),
        person.email.as_deref().unwrap(),
        "Ada",
        "Lovelace",
        &sha,
    ] {
        let left: Vec<&str> = rows.lines().filter(|line| line.contains(trace)).collect();
        assert!(left.is_empty(), "{trace} is still stored: {left:#?}");
    }
    for sql in [
        "SELECT COUNT(*) FROM identities WHERE user_id = $1",
        "SELECT COUNT(*) FROM credentials WHERE user_id = $1",
        "SELECT COUNT(*) FROM avatars WHERE user_id = $1",
        "SELECT COUNT(*) FROM users WHERE id = $1",
        "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
    ] {
        assert_eq!(count(&s.app, sql, &user_id).await, 0, "{sql}");
    }
    assert!(!avatar_file.exists());
    let gone = s.app.client.get(&avatar_url).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        error_code(s.credential(&user_id).await, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
    // The other person is untouched, and the request is no longer pending.
    assert_eq!(s.credential(&other_user_id).await.status(), StatusCode::OK);
    let list: Value = s
        .app
        .client
        .get(s.app.url("/v1/data-deletion-requests?status=pending"))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"], json!([]));
}

async fn data_deletion_for_an_unknown_user_still_gets_a_code_and_completes(engine: Engine) {
    let s = scene(spawn_app_with_idle_jobs(engine).await).await;
    let (_, user_id) = s.sign_up("Ada Lovelace", None).await;
    let before = credential_row(&s.app, &user_id).await;

    let stranger = s.app.facebook_user("Charles Babbage", None).await;
    let (status, answer) = s.at_facebook(&stranger, "data-deletion").await;
    assert_eq!(status, 200);
    let code = answer["confirmation_code"].as_str().unwrap().to_owned();
    assert_eq!(s.deletion_status(&code).await["status"], "pending");

    run_jobs(&s.app).await;
    assert_eq!(s.deletion_status(&code).await["status"], "completed");
    assert_eq!(credential_row(&s.app, &user_id).await, before);
    assert_eq!(s.credential(&user_id).await.status(), StatusCode::OK);

    // Unknown and malformed codes are simply not found.
    for unknown in ["AAAAAAAAAAAAAAAAAAAA", "..%2F..", "x".repeat(200).as_str()] {
        let response = s
            .app
            .client
            .get(s.app.url(&format!("/v1/data-deletion/{unknown}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
    }
}

async fn data_deletion_keeps_a_user_the_app_created_but_strips_facebooks_fields(engine: Engine) {
    // A user the app created itself, later joined to a Facebook identity: the deletion removes
    // the identity and what came from Facebook, and keeps the user and what the app gave it.
    let s = scene(spawn_app_with_idle_jobs(engine).await).await;
    let (person, user_id) = s.sign_up("Ada Lovelace", None).await;
    const TO_API_USER: &str = "UPDATE users SET created_via = 'api', first_name = 'Augusta' \
                               WHERE id = $1";
    with_db!(s.app, pool => {
        sqlx::query(TO_API_USER).bind(&user_id).execute(&pool).await.unwrap().rows_affected()
    });

    let (_, answer) = s.at_facebook(&person, "data-deletion").await;
    let code = answer["confirmation_code"].as_str().unwrap().to_owned();
    run_jobs(&s.app).await;
    assert_eq!(s.deletion_status(&code).await["status"], "completed");

    let user: Value = s
        .app
        .client
        .get(s.app.url(&format!("/v1/users/{user_id}")))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], user_id.as_str(), "the user stays: {user}");
    assert_eq!(user["first_name"], "Augusta", "what the app set stays");
    assert_eq!(user["email"], Value::Null, "Facebook's email goes");
    assert_eq!(user["last_name"], Value::Null, "Facebook's name goes");
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM identities WHERE user_id = $1",
            &user_id
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM credentials WHERE user_id = $1",
            &user_id
        )
        .await,
        0
    );
}

async fn data_deletion_keeps_the_user_when_the_provider_says_so(engine: Engine) {
    let app = spawn_app_with_idle_jobs(engine).await;
    let s = scene_with(app, json!({ "delete_user_on_data_deletion": false })).await;
    let answer: Value = s
        .app
        .client
        .get(s.app.url(&format!("/v1/oauth-providers/{}", s.provider.id)))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["delete_user_on_data_deletion"], false);
    let (person, user_id) = s.sign_up("Ada Lovelace", None).await;

    let (_, answer) = s.at_facebook(&person, "data-deletion").await;
    let code = answer["confirmation_code"].as_str().unwrap().to_owned();
    run_jobs(&s.app).await;
    assert_eq!(s.deletion_status(&code).await["status"], "completed");

    // The user stays (its id, sessions, what the app keyed on it), with nothing from Facebook.
    let user: Value = s
        .app
        .client
        .get(s.app.url(&format!("/v1/users/{user_id}")))
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["id"], user_id.as_str(), "{user}");
    for field in [
        "email",
        "first_name",
        "last_name",
        "name",
        "profile_image_url",
    ] {
        assert_eq!(user[field], Value::Null, "{field}: {user}");
    }
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM identities WHERE user_id = $1",
            &user_id
        )
        .await,
        0
    );
}
