//! Runs the emulator alone, for load tests and manual poking:
//! `cargo run --release -p fbgate-sim --example serve -- 127.0.0.1:9090`.
//!
//! Prints a long-lived token of the demo user Ada Lovelace for the demo app, so that a load
//! tool can call `GET /v21.0/me` at once. (`fbgate sim` is the supported way to run the
//! emulator; this example exists so the emulator can be measured on its own.)

use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA, Sim, SimConfig, serve};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9090".to_owned());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let sim = Sim::new(SimConfig::default());
    let token = sim
        .mint_user_token(DEMO_APP_ID, DEMO_USER_ADA, &["email".to_owned()], true)
        .map(|(token, _)| token)
        .unwrap_or_default();
    println!("listening on http://{}", listener.local_addr()?);
    println!("token {token}");
    serve(listener, sim, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
