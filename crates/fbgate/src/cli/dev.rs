//! `fbgate dev` and `fbgate sim`: zero-configuration development.
//!
//! `fbgate dev` keeps everything under the data directory (`./fbgate-data/` by default): the
//! SQLite database, a generated master key and operator token (files readable by the owner
//! only), and the keys of a ready `dev` environment, so that every start prints working keys.
//! None of this is fit for production, and the banner says so.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use super::emulator;
use std::sync::Arc;

use crate::app::{Application, Migrations, shutdown_signal};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::Context;
use crate::domain::api_keys::{self, Mode};
use crate::domain::environments::{self, NewEnvironment};
use crate::domain::providers::{self, ProviderInput};
use crate::http::demo::DemoSettings;
use crate::store::ApiKeyKind;
use crate::telemetry;
use crate::vault::{MasterKey, SecretString};

const DEV_ENVIRONMENT: &str = "dev";

/// Writes `contents` to a new file readable and writable by the owner only.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Reads a secret from `path`, or generates one with `generate` and saves it (mode 0600).
fn read_or_create(
    path: &Path,
    what: &str,
    generate: impl FnOnce() -> anyhow::Result<SecretString>,
) -> anyhow::Result<SecretString> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return Ok(SecretString::new(text.trim().to_owned()));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let value = generate()?;
    write_private(path, value.expose())?;
    eprintln!(
        "warning: generated a development {what} in {} (mode 0600); never use it in production",
        path.display()
    );
    Ok(value)
}

/// The development master key file, created on first use.
pub fn ensure_dev_master_key(data_dir: &Path) -> anyhow::Result<SecretString> {
    read_or_create(&data_dir.join("master.key"), "master key", || {
        Ok(MasterKey::generate()?.1)
    })
}

fn ensure_dev_admin_token(data_dir: &Path) -> anyhow::Result<SecretString> {
    read_or_create(&data_dir.join("admin-token"), "operator token", || {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Ok(SecretString::new(format!(
            "fbgate_admin_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )))
    })
}

#[derive(Debug, Serialize, Deserialize)]
struct DevKeys {
    environment_id: String,
    secret_key: String,
    publishable_key: String,
}

/// Makes sure the `dev` environment exists and that its keys are on disk; returns them.
async fn ensure_dev_environment(ctx: &Context, data_dir: &Path) -> anyhow::Result<DevKeys> {
    let path: PathBuf = data_dir.join("dev-environment.json");
    let existing = environments::get_by_slug(ctx, DEV_ENVIRONMENT).await?;
    if let Some(env) = &existing
        && let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(keys) = serde_json::from_str::<DevKeys>(&text)
        && keys.environment_id == env.id
    {
        return Ok(keys);
    }
    let keys = match existing {
        Some(env) => {
            // The key file was lost: mint fresh keys rather than leave the developer without.
            let secret = api_keys::create(ctx, &env.id, ApiKeyKind::Secret).await?;
            let publishable = api_keys::create(ctx, &env.id, ApiKeyKind::Publishable).await?;
            DevKeys {
                environment_id: env.id,
                secret_key: secret.text.expose().clone(),
                publishable_key: publishable.text.expose().clone(),
            }
        }
        None => {
            let new =
                NewEnvironment::parse(DEV_ENVIRONMENT, Some("Development"), Some(Mode::Test))?;
            let created = environments::create(ctx, new).await?;
            DevKeys {
                environment_id: created.environment.id.clone(),
                secret_key: created.secret_key.expose().clone(),
                publishable_key: created.publishable_key.expose().clone(),
            }
        }
    };
    write_private(&path, &serde_json::to_string_pretty(&keys)?)?;
    Ok(keys)
}

const DEV_PROVIDER: &str = "facebook";

/// Makes sure the `dev` environment has a Facebook provider for the emulator's demo app, pointing
/// at the emulator's current address and allowing the demo page as a return address.
async fn ensure_dev_provider(
    ctx: &Context,
    environment_id: &str,
    sim_url: &str,
    public_url: &str,
) -> anyhow::Result<()> {
    let input = |with_secret: bool| -> anyhow::Result<ProviderInput> {
        let mut body = serde_json::json!({
            "provider_kind": "preset",
            "provider_key": "facebook",
            "slug": DEV_PROVIDER,
            "client_id": emulator::DEMO_APP_ID,
            "scopes": ["public_profile", "email", "user_friends"],
            "email_required": false,
            "allowed_redirect_urls": [format!("{public_url}/demo/*"), "http://localhost/*", "http://127.0.0.1/*"],
            "facebook_base_url": sim_url,
            "graph_base_url": sim_url,
        });
        if with_secret {
            body["client_secret"] = serde_json::Value::from(emulator::DEMO_APP_SECRET);
        }
        Ok(serde_json::from_value(body)?)
    };
    match providers::get_by_slug(ctx, environment_id, DEV_PROVIDER).await {
        Ok(existing) => {
            providers::update(ctx, environment_id, &existing.id, input(false)?).await?;
        }
        Err(_) => {
            providers::create(ctx, environment_id, input(true)?).await?;
        }
    }
    Ok(())
}

/// `fbgate dev`.
pub async fn run(config_file: Option<&Path>, sim_listen: SocketAddr) -> anyhow::Result<()> {
    let mut config = Config::load(config_file)?;
    telemetry::init(config.log_format, &config.log_filter);
    if config.master_key.is_none() {
        config.master_key = Some(ensure_dev_master_key(&config.data_dir)?);
    }
    if config.admin_token.is_none() {
        config.admin_token = Some(ensure_dev_admin_token(&config.data_dir)?);
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    // Without an explicit public URL, links point at the address actually bound (which differs
    // from the default when FBGATE_LISTEN asks for another port, or port 0).
    if config.public_url.as_str().trim_end_matches('/') == crate::config::DEFAULT_PUBLIC_URL {
        config.public_url = url::Url::parse(&format!("http://{}", listener.local_addr()?))?;
    }
    let admin_token = config.admin_token.clone();
    let data_dir = config.data_dir.clone();
    let public_url = config.public_base().to_owned();

    let sim_listener = TcpListener::bind(sim_listen)
        .await
        .with_context(|| format!("cannot start the Facebook emulator on {sim_listen}"))?;
    let sim_addr = sim_listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(error) = emulator::serve(sim_listener, shutdown_signal()).await {
            tracing::error!(%error, "the Facebook emulator stopped");
        }
    });

    let app =
        Application::build_on(config, listener, Migrations::Apply, Arc::new(SystemClock)).await?;
    let keys = ensure_dev_environment(app.context(), &data_dir).await?;
    let sim_url = format!("http://{sim_addr}");
    ensure_dev_provider(app.context(), &keys.environment_id, &sim_url, &public_url).await?;
    let app = app.with_demo(DemoSettings {
        environment_id: keys.environment_id.clone(),
        publishable_key: keys.publishable_key.clone(),
        provider_slug: DEV_PROVIDER.to_owned(),
    });
    let addr = app.local_addr();
    let mut banner = format!(
        "\n  fbgate dev is running (development only: keys are stored in {})\n\n\
         \x20 API            http://{addr}  (public URL {public_url})\n\
         \x20 Demo app       {public_url}/demo   <- open this: Sign in with Facebook, end to end\n\
         \x20 API reference  http://{addr}/docs\n\
         \x20 Facebook emulator  http://{sim_addr}  (demo app {})\n\n\
         \x20 environment    {DEV_ENVIRONMENT} ({})\n\
         \x20 secret key     {}\n\
         \x20 publishable    {}\n",
        data_dir.display(),
        emulator::DEMO_APP_ID,
        keys.environment_id,
        keys.secret_key,
        keys.publishable_key,
    );
    if let Some(token) = &admin_token {
        banner.push_str(&format!("  operator token {}\n", token.expose()));
    }
    print_banner(&banner);
    app.run_until_stopped().await?;
    Ok(())
}

/// Prints the start banner. A server must not die because whoever started it stopped reading
/// its output (a closed pipe makes `println!` panic), so write errors are ignored.
fn print_banner(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// `fbgate sim`.
pub async fn run_sim_alone(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    print_banner(&format!(
        "Facebook emulator on http://{addr}\n  demo app id {}  secret {}\n  \
         control API http://{addr}/_sim/  (see docs/emulator.md)\n",
        emulator::DEMO_APP_ID,
        emulator::DEMO_APP_SECRET
    ));
    emulator::serve(listener, shutdown_signal()).await?;
    Ok(())
}
