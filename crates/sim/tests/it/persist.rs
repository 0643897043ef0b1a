use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA, Sim, SimConfig};

#[tokio::test]
async fn saved_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.json");
    let first = Sim::load(SimConfig::default(), &path).unwrap();
    let (token, _) = first
        .mint_user_token(DEMO_APP_ID, DEMO_USER_ADA, &["email".to_owned()], true)
        .unwrap();
    first.clock().advance(100);
    first.save(&path).unwrap();

    let second = Sim::load(SimConfig::default(), &path).unwrap();
    assert!(second.clock().offset() >= 100);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(fbgate_sim::serve(listener, second, std::future::pending()));
    let me: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v21.0/me"))
        .query(&[("fields", "id,email"), ("access_token", &token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ada@example.com");
    let garbage = std::fs::write(&path, b"not json");
    assert!(garbage.is_ok());
    assert!(Sim::load(SimConfig::default(), &path).is_err());
}
