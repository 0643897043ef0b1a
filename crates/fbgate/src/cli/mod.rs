//! The command line: `fbgate serve | dev | sim | migrate | env | keys`.
//!
//! Each subcommand loads the configuration, calls into the library and prints a short result;
//! none holds logic of its own beyond presenting it.

mod credentials;
mod dev;
mod emulator;
mod keys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use crate::app::{self, Application, Migrations};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::domain::api_keys::Mode;
use crate::domain::avatars::FileAvatarStore;
use crate::domain::environments::{self, NewEnvironment};
use crate::domain::{self, Context};
use crate::telemetry;
use crate::vault::data_rotation::RotationOptions;
use crate::vault::{MasterKey, Vault};

/// fbgate: sign in with Facebook, a vault of Facebook tokens, a Graph API proxy and a Facebook
/// emulator, in one binary.
#[derive(Debug, Parser)]
#[command(name = "fbgate", version, about)]
pub struct Cli {
    /// Configuration file (default: ./fbgate.toml when it exists).
    #[arg(long, global = true, env = "FBGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the production server.
    Serve {
        /// Without a configured master key, use (and create) a key file in the data directory.
        /// For trials only: the key sits next to the data it protects.
        #[arg(long)]
        insecure_dev_key: bool,
        /// Refuse to start while migrations are pending, instead of applying them.
        #[arg(long)]
        no_migrate: bool,
    },
    /// Run fbgate and the Facebook emulator with zero configuration, for development.
    Dev {
        /// Address of the Facebook emulator.
        #[arg(long, default_value = "127.0.0.1:9090")]
        sim_listen: SocketAddr,
    },
    /// Run the Facebook emulator alone.
    Sim {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage environments.
    Env {
        #[command(subcommand)]
        command: EnvCommand,
    },
    /// Manage the master key and the data keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Stored Facebook credentials.
    Credentials {
        #[command(subcommand)]
        command: CredentialsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum CredentialsCommand {
    /// Check credentials with Facebook now (`debug_token`), as the scheduled health job does,
    /// and print how many have each status.
    Check {
        /// Slug of the environment.
        #[arg(long)]
        environment: String,
        /// Check every credential of the environment.
        #[arg(
            long,
            conflicts_with = "credential_id",
            required_unless_present = "credential_id"
        )]
        all: bool,
        /// Check one credential (`crd_…`).
        #[arg(long)]
        credential_id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum EnvCommand {
    /// Create an environment and print its first keys (shown once).
    Create {
        /// Unique slug: lowercase letters, digits and hyphens.
        #[arg(long)]
        slug: String,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
        /// Key prefix mode.
        #[arg(long, value_enum, default_value = "live")]
        mode: ModeArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Live,
    Test,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print a new random master key (base64 of 32 bytes).
    Generate,
    /// Reseal every environment key under a new master key. Safe to interrupt and run again.
    Rotate {
        /// File holding the new master key (base64).
        #[arg(long)]
        new_master_key_file: PathBuf,
        /// File holding the current master key, when it is no longer the configured one.
        #[arg(long)]
        old_master_key_file: Option<PathBuf>,
    },
    /// Make new data keys for an environment and re-encrypt every credential token, client
    /// secret and webhook secret under them. Old keys are kept, inactive. Safe to interrupt and
    /// run again: it resumes.
    RotateData {
        /// Slug of the environment.
        #[arg(long)]
        environment: String,
        /// Values read and re-encrypted per database query.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..))]
        batch_size: u32,
        /// Stop after re-encrypting this many values, leaving the rotation in progress (tests).
        #[arg(long, hide = true)]
        stop_after: Option<u64>,
    },
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config_file = cli.config.as_deref();
    match cli.command {
        Command::Serve {
            insecure_dev_key,
            no_migrate,
        } => {
            let mut config = load(config_file)?;
            telemetry::init(config.log_format, &config.log_filter);
            if config.master_key.is_none() && insecure_dev_key {
                config.master_key = Some(dev::ensure_dev_master_key(&config.data_dir)?);
            }
            let migrations = if no_migrate {
                Migrations::Refuse
            } else {
                Migrations::Apply
            };
            let app = Application::build_with(config, migrations, Arc::new(SystemClock)).await?;
            tracing::info!(address = %app.local_addr(), "fbgate is serving");
            app.run_until_stopped().await?;
        }
        Command::Dev { sim_listen } => dev::run(config_file, sim_listen).await?,
        Command::Sim { listen } => {
            telemetry::init(crate::config::LogFormat::Pretty, "info");
            dev::run_sim_alone(listen).await?;
        }
        Command::Migrate => {
            let config = load(config_file)?;
            let store = app::open_store(&config).await?;
            let pending = store.pending_migrations().await?;
            store.migrate().await?;
            if pending.is_empty() {
                println!("database is up to date");
            }
            for m in pending {
                println!("applied {} {}", m.version, m.description);
            }
        }
        Command::Env {
            command: EnvCommand::Create { slug, name, mode },
        } => {
            let config = load(config_file)?;
            let ctx = open_context(&config).await?;
            let mode = match mode {
                ModeArg::Live => Mode::Live,
                ModeArg::Test => Mode::Test,
            };
            let new =
                NewEnvironment::parse(&slug, name.as_deref(), Some(mode)).map_err(user_error)?;
            let created = environments::create(&ctx, new).await.map_err(user_error)?;
            println!(
                "environment {} ({})",
                created.environment.slug, created.environment.id
            );
            println!("secret key:      {}", created.secret_key.expose());
            println!("publishable key: {}", created.publishable_key.expose());
            println!("These keys are shown only now; store them safely.");
        }
        Command::Keys { command } => match command {
            KeysCommand::Generate => {
                let (_, text) = MasterKey::generate()?;
                println!("{}", text.expose());
            }
            KeysCommand::Rotate {
                new_master_key_file,
                old_master_key_file,
            } => {
                let config = load(config_file)?;
                keys::rotate(
                    &config,
                    &new_master_key_file,
                    old_master_key_file.as_deref(),
                )
                .await?;
            }
            KeysCommand::RotateData {
                environment,
                batch_size,
                stop_after,
            } => {
                let config = load(config_file)?;
                let options = RotationOptions {
                    batch_size,
                    stop_after,
                };
                keys::rotate_data(&config, &environment, options).await?;
            }
        },
        Command::Credentials {
            command:
                CredentialsCommand::Check {
                    environment,
                    all: _,
                    credential_id,
                },
        } => {
            let config = load(config_file)?;
            let target = match credential_id {
                Some(id) => credentials::Target::One(id),
                None => credentials::Target::All,
            };
            credentials::check(&config, &environment, target).await?;
        }
    }
    Ok(())
}

fn load(file: Option<&Path>) -> anyhow::Result<Config> {
    Ok(Config::load(file)?)
}

fn user_error(error: domain::Error) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// Opens the database (applying migrations) and the vault, for commands that act directly.
async fn open_context(config: &Config) -> anyhow::Result<Context> {
    let Some(master) = &config.master_key else {
        bail!(app::StartError::NoMasterKey);
    };
    let master = MasterKey::from_base64(master.expose()).context("FBGATE_MASTER_KEY")?;
    let store = app::open_store(config).await?;
    store.migrate().await?;
    let vault = Vault::new(master, store.clone());
    Ok(Context::new(
        store,
        vault,
        Arc::new(SystemClock),
        config.domain_settings(),
        Arc::new(FileAvatarStore::in_data_dir(&config.data_dir)),
    ))
}
