//! The credential health job: statuses follow what Facebook says (revoked, password changed,
//! data access expired), the clock moves tokens through `expiring` and `expired` with the
//! scheduled job alone, each change is announced once, checks are batched, and two processes
//! on one database check each credential once per period.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::callbacks::{Scene, scene, with_db};
use crate::helpers::{
    Engine, TestApp, TestEnvironment, error_code, on_both_engines, serve, spawn_app,
};
use crate::webhooks::{Received, Receiver};

on_both_engines!(
    a_token_revoked_at_facebook_becomes_revoked_after_a_check_and_is_announced_once,
    a_password_change_and_expired_data_access_are_told_apart,
    the_scheduled_job_moves_a_token_through_expiring_and_expired_with_one_event_each,
    one_round_checks_due_credentials_in_one_batch,
    checks_name_a_credential_of_their_own_environment,
    two_processes_check_each_credential_once_per_period,
    the_cli_checks_an_environment_and_prints_a_summary,
);

async fn subscribe(app: &TestApp, env: &TestEnvironment, events: &[&str]) -> Receiver {
    let receiver = Receiver::start(0).await;
    let response = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "url": receiver.url, "events": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    receiver
}

async fn check(app: &TestApp, env: &TestEnvironment, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/credentials/check"))
        .bearer_auth(&env.secret_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn check_all(app: &TestApp, env: &TestEnvironment) -> Vec<Value> {
    let response = check(app, env, json!({ "all": true })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    answer["data"].as_array().unwrap().clone()
}

/// Moves fbgate's clock and the emulator's together, as time passes for both in reality.
async fn advance_both(app: &TestApp, by: Duration) {
    let response = app
        .client
        .post(app.sim_url("/_sim/clock/advance"))
        .json(&json!({ "seconds": by.as_secs() }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app.clock.advance(by);
}

/// What the receiver holds once a second has passed with the job running (rounds every 50 ms,
/// deliveries polled every 50 ms): enough for anything that was going to arrive.
async fn settled(receiver: &Receiver) -> Vec<Received> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    receiver.received()
}

fn events_of(received: &[Received]) -> Vec<Value> {
    received
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

/// The sim's `debug_token` calls about one Facebook user.
async fn debug_token_calls(app: &TestApp, facebook_user_id: &str) -> Vec<Value> {
    let answer: Value = app
        .client
        .get(app.sim_url("/_sim/requests"))
        .query(&[("endpoint", "debug_token"), ("user_id", facebook_user_id)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["data"].as_array().unwrap().clone()
}

async fn a_token_revoked_at_facebook_becomes_revoked_after_a_check_and_is_announced_once(
    engine: Engine,
) {
    let s: Scene = scene(spawn_app(engine).await).await;
    let (app, env) = (&s.app, &s.env);
    let receiver = subscribe(app, env, &["credential.revoked"]).await;
    let (_person, user_id) = s.sign_up("Ada", None).await;
    let token = app.access_token(env, &user_id).await;

    let response = app
        .client
        .post(app.sim_url("/_sim/tokens/revoke"))
        .json(&json!({ "access_token": token, "subcode": 458 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let results = check_all(app, env).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["status"], "revoked");
    assert_eq!(results[0]["reason"], "user_removed_app");
    assert!(results[0]["checked_at"].is_string());

    let response = app.get_credential(env, &user_id).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["code"], "credential_revoked");
    assert_eq!(error["error"]["reason"], "user_removed_app");
    assert_eq!(error["error"]["reconnect"], true);

    // A second check changes nothing and announces nothing.
    let again = check_all(app, env).await;
    assert_eq!(again[0]["status"], "revoked");
    let received = settled(&receiver).await;
    assert_eq!(received.len(), 1, "one change, one event");
    let event = &events_of(&received)[0];
    assert_eq!(event["type"], "credential.revoked");
    assert_eq!(event["data"]["credential"]["status"], "revoked");
    assert_eq!(event["data"]["credential"]["reason"], "user_removed_app");
    assert_eq!(event["data"]["credential"]["user_id"], user_id.as_str());
    assert!(!received[0].body.contains(&token));

    // The identity view shows the same.
    let identity: Value = app
        .client
        .get(app.url(&format!("/v1/users/{user_id}/identities/facebook")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(identity["token_status"], "revoked", "{identity}");
}

async fn a_password_change_and_expired_data_access_are_told_apart(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env) = (&s.app, &s.env);
    let receiver = subscribe(app, env, &["credential.revoked", "credential.expired"]).await;
    let (_grace, grace_id) = s.sign_up("Grace", None).await;
    let (linus, linus_id) = s.sign_up("Linus", None).await;
    let grace_token = app.access_token(env, &grace_id).await;
    app.client
        .post(app.sim_url("/_sim/tokens/revoke"))
        .json(&json!({ "access_token": grace_token, "subcode": 460 }))
        .send()
        .await
        .unwrap();
    let response = app
        .client
        .post(app.sim_url(&format!(
            "/_sim/apps/{}/users/{}/expire-data-access",
            s.provider.app_id, linus.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    check_all(app, env).await;
    for (user_id, code, reason) in [
        (&grace_id, "credential_revoked", "password_changed"),
        (&linus_id, "credential_expired", "data_access_expired"),
    ] {
        let response = app.get_credential(env, user_id).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], code);
        assert_eq!(error["error"]["reason"], reason);
    }
    let mut types: Vec<String> = events_of(&receiver.wait_for(2).await)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["credential.expired", "credential.revoked"]);
}

async fn the_scheduled_job_moves_a_token_through_expiring_and_expired_with_one_event_each(
    engine: Engine,
) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env) = (&s.app, &s.env);
    let receiver = subscribe(app, env, &["credential.expiring", "credential.expired"]).await;
    let (_person, user_id) = s.sign_up("Ada", None).await;
    let answer: Value = app
        .get_credential(env, &user_id)
        .await
        .json()
        .await
        .unwrap();
    let expires_at = time::OffsetDateTime::parse(
        answer["credential"]["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let until_expiry = expires_at - fbgate::clock::Clock::now(app.clock.as_ref());
    assert!(
        until_expiry > time::Duration::days(50),
        "a long-lived token"
    );

    // Five days before expiry (on fbgate's clock and Facebook's): the job, and no request of
    // ours, finds it expiring.
    advance_both(app, (until_expiry - time::Duration::days(5)).unsigned_abs()).await;
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    let event = &events_of(&received)[0];
    assert_eq!(event["type"], "credential.expiring");
    assert_eq!(event["data"]["credential"]["status"], "expiring");
    let answer: Value = app
        .get_credential(env, &user_id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["credential"]["status"], "expiring");

    // A day later it is still expiring: no second event.
    advance_both(app, Duration::from_secs(24 * 60 * 60)).await;
    assert_eq!(settled(&receiver).await.len(), 1);

    // Past its expiry, the job marks it expired, once.
    advance_both(app, Duration::from_secs(5 * 24 * 60 * 60)).await;
    let received = receiver.wait_for(2).await;
    assert_eq!(received.len(), 2);
    let event = &events_of(&received)[1];
    assert_eq!(event["type"], "credential.expired");
    assert_eq!(event["data"]["credential"]["reason"], "session_expired");
    advance_both(app, Duration::from_secs(2 * 24 * 60 * 60)).await;
    assert_eq!(settled(&receiver).await.len(), 2);
    assert_eq!(
        error_code(
            app.get_credential(env, &user_id).await,
            StatusCode::CONFLICT
        )
        .await,
        "credential_expired"
    );
}

async fn one_round_checks_due_credentials_in_one_batch(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let app = &s.app;
    let mut people = Vec::new();
    for name in ["Ada", "Grace", "Linus"] {
        people.push(s.sign_up(name, None).await.0);
    }
    app.client
        .delete(app.sim_url("/_sim/requests"))
        .send()
        .await
        .unwrap();
    // A day and a bit later every credential is due; the next round checks them together.
    app.clock.advance(Duration::from_secs(25 * 60 * 60));
    let mut calls = Vec::new();
    for _ in 0..100 {
        calls.clear();
        for person in &people {
            calls.extend(debug_token_calls(app, &person.id).await);
        }
        if calls.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert!(calls.iter().all(|c| c["batch"] == true), "{calls:?}");
    let all: Value = app
        .client
        .get(app.sim_url("/_sim/requests"))
        .query(&[("endpoint", "batch")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "one batch: {all}");
    // Checked now, not due again for a day: a while later nothing more was asked.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut later = 0;
    for person in &people {
        later += debug_token_calls(app, &person.id).await.len();
    }
    assert_eq!(later, 3);
}

async fn checks_name_a_credential_of_their_own_environment(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env) = (&s.app, &s.env);
    let (_person, user_id) = s.sign_up("Ada", None).await;
    let answer: Value = app
        .get_credential(env, &user_id)
        .await
        .json()
        .await
        .unwrap();
    let id = answer["credential"]["id"].as_str().unwrap();

    let response = check(app, env, json!({ "credential_id": id })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["data"][0]["credential_id"], id);
    assert_eq!(answer["data"][0]["status"], "active");

    let other = app.create_environment("other").await;
    let response = check(app, &other, json!({ "credential_id": id })).await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
    for body in [json!({}), json!({ "credential_id": id, "all": true })] {
        let response = check(app, env, body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(check_all(app, &other).await.is_empty());
}

async fn two_processes_check_each_credential_once_per_period(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let app = &s.app;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(s.sign_up(&format!("Person {i}"), None).await.0);
    }
    // A second fbgate process on the same database.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let data_dir = tempfile::tempdir().unwrap();
    let _second = serve(
        &address,
        &app.database,
        &app.master_key,
        data_dir.path(),
        20,
    )
    .await;
    app.client
        .delete(app.sim_url("/_sim/requests"))
        .send()
        .await
        .unwrap();

    // Every credential falls due at once; both processes' health rounds race for them.
    with_db!(app, pool => {
        sqlx::query("UPDATE credentials SET next_check_at = NULL")
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected()
    });
    let mut checked = 0;
    for _ in 0..200 {
        checked = with_db!(app, pool => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM credentials WHERE next_check_at IS NOT NULL",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        });
        if checked == 12 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(checked, 12);
    tokio::time::sleep(Duration::from_millis(500)).await;
    for person in &people {
        let calls = debug_token_calls(app, &person.id).await;
        assert_eq!(calls.len(), 1, "{}: {calls:?}", person.id);
    }
}

/// Runs `fbgate credentials check ...` on the app's database.
async fn cli_check(app: &TestApp, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fbgate"))
        .args(["credentials", "check"])
        .args(args)
        .current_dir(dir.path())
        .env_clear()
        .env("FBGATE_DATABASE_URL", &app.database.url)
        .env("FBGATE_MASTER_KEY", app.master_key.expose())
        .output()
        .await
        .unwrap()
}

async fn the_cli_checks_an_environment_and_prints_a_summary(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env) = (&s.app, &s.env);
    let (_ada, _) = s.sign_up("Ada", None).await;
    let (_grace, grace_id) = s.sign_up("Grace", None).await;
    let token = app.access_token(env, &grace_id).await;
    app.client
        .post(app.sim_url("/_sim/tokens/revoke"))
        .json(&json!({ "access_token": token, "subcode": 460 }))
        .send()
        .await
        .unwrap();

    let output = cli_check(app, &["--environment", "callbacks", "--all"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("checked 2/2 credentials"), "{stderr}");
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(lines.contains(&vec!["active", "-", "1"]), "{stdout}");
    assert!(
        lines.contains(&vec!["revoked", "password_changed", "1"]),
        "{stdout}"
    );
    assert!(stdout.contains("2 credentials in `callbacks`"), "{stdout}");
    // The check was real: the API shows the revocation, once the server's one-second cache of
    // credential rows has let go of what it read before another process wrote.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        error_code(
            app.get_credential(env, &grace_id).await,
            StatusCode::CONFLICT
        )
        .await,
        "credential_revoked"
    );

    let output = cli_check(app, &["--environment", "nope", "--all"]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no environment with slug `nope`"));
    let output = cli_check(
        app,
        &["--environment", "callbacks", "--credential-id", "crd_x"],
    )
    .await;
    assert!(!output.status.success());
    let output = cli_check(app, &["--environment", "callbacks"]).await;
    assert!(
        !output.status.success(),
        "--all or --credential-id is required"
    );
}
