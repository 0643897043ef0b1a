//! A data-deletion request survives the server being killed (SIGKILL) between the callback and
//! the job: the request and its job were written in one transaction, so the restarted server
//! finds the job and completes the deletion.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fbgate::clock::AdjustableClock;
use fbgate::vault::MasterKey;
use fbgate_sim::{SimConfig, SimServer};

use crate::callbacks::{count, scene};
use crate::helpers::{Engine, TestApp, fresh_database, serve};

#[tokio::test]
async fn a_data_deletion_completes_after_the_server_is_killed_before_its_job_ran() {
    let database = fresh_database(Engine::Sqlite).await;
    let data_dir = tempfile::tempdir().unwrap();
    let (_, master_key) = MasterKey::generate().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("http://127.0.0.1:{port}");

    // A server whose job runner polls once at start, then not for a minute.
    let server = serve(&address, &database, &master_key, data_dir.path(), 60_000).await;
    let app = TestApp {
        address: address.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        database,
        master_key: master_key.clone(),
        engine: Engine::Sqlite,
        clock: Arc::new(AdjustableClock::new()),
        sim: SimServer::start(SimConfig::default()).await.unwrap(),
    };
    let s = scene(app).await;
    let (person, user_id) = s.sign_up("Ada Lovelace", None).await;

    let (status, answer) = s.at_facebook(&person, "data-deletion").await;
    assert_eq!(status, 200);
    let code = answer["confirmation_code"].as_str().unwrap().to_owned();
    assert_eq!(s.deletion_status(&code).await["status"], "pending");

    // SIGKILL: no graceful shutdown, nothing flushed on the way out.
    server.kill();
    const IDENTITIES: &str = "SELECT COUNT(*) FROM identities WHERE user_id = $1";
    assert_eq!(
        count(&s.app, IDENTITIES, &user_id).await,
        1,
        "not deleted yet"
    );

    // The restarted server finds the job and carries the deletion out.
    let _server = serve(&address, &s.app.database, &master_key, data_dir.path(), 50).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.deletion_status(&code).await["status"] != "completed" {
        assert!(Instant::now() < deadline, "the deletion never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(count(&s.app, IDENTITIES, &user_id).await, 0);
    const USERS: &str = "SELECT COUNT(*) FROM users WHERE id = $1";
    assert_eq!(count(&s.app, USERS, &user_id).await, 0);
}
