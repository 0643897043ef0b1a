//! Seeds tenant users' credentials straight into fbgate's database, for benchmarks.
//!
//! Loading a million credentials through the connect flow (browser, Facebook, callback) would
//! take hours, so this program writes the rows the flow would write: each token is sealed with
//! `domain::credentials::seal` (the tenant's data key, the row's AAD), so `credentials/get`
//! opens it for real, and the rows go in as multi-row INSERTs inside transactions
//! (`Store::insert_credentials_batch`). Tokens are fake strings of a real token's length; the
//! hot path never sends them to Facebook. No `connections` rows are written: `credentials/get`
//! does not read them.
//!
//! Credential `i` (0 ≤ i < count) belongs to tenant `org_{i % tenants}` and user `user_{i}`, so
//! a load tool can pick any stored address at random from `count` and `tenants` alone.
//!
//! ```sh
//! # the same FBGATE_* settings as `fbgate serve` (database URL, master key)
//! cargo run --release -p fbgate --example seed_credentials -- \
//!     --environment bench --provider facebook --count 1000000 --tenants 10000
//! ```
//!
//! The environment and the provider must exist (create them through the API). Progress goes to
//! stderr; the last line on stdout is a JSON summary.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use fbgate::app;
use fbgate::clock::SystemClock;
use fbgate::config::Config;
use fbgate::domain::avatars::FileAvatarStore;
use fbgate::domain::credentials::{self, Address, Links, NewToken, Owner};
use fbgate::domain::providers::{self, Provider};
use fbgate::domain::{Context, environments};
use fbgate::store::{CredentialRow, Engine};
use fbgate::vault::{MasterKey, Vault};

/// Seeds N tenant-user credentials for an existing environment and provider.
#[derive(Debug, Parser)]
struct Args {
    /// Slug of the environment.
    #[arg(long)]
    environment: String,
    /// Slug of the provider the credentials belong to.
    #[arg(long)]
    provider: String,
    /// How many credentials to write.
    #[arg(long, default_value_t = 1_000_000)]
    count: u64,
    /// Over how many tenants they spread (each tenant has its own data key).
    #[arg(long, default_value_t = 10_000)]
    tenants: u64,
    /// Rows per transaction.
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Batches sealed and written at the same time.
    #[arg(long, default_value_t = 4)]
    workers: u64,
}

/// The length of a real long-lived Facebook user token, roughly.
const TOKEN_LEN: usize = 200;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.count == 0 || args.tenants == 0 || args.batch == 0 || args.workers == 0 {
        bail!("--count, --tenants, --batch and --workers must be at least 1");
    }
    let mut config = Config::load(None)?;
    // One connection per worker, and one more for the data-key lookups of the seals.
    config.database_max_connections = config
        .database_max_connections
        .max(u32::try_from(args.workers + 1).unwrap_or(u32::MAX));
    let ctx = open_context(&config).await?;
    let environment = environments::get_by_slug(&ctx, &args.environment)
        .await?
        .with_context(|| format!("no environment with slug {}", args.environment))?;
    let provider = providers::get_by_slug(&ctx, &environment.id, &args.provider).await?;

    let started = Instant::now();
    let next_batch = Arc::new(AtomicU64::new(0));
    let written = Arc::new(AtomicU64::new(0));
    let timings = Arc::new(Timings::default());
    // SQLite has one writer at a time and waits for the lock by polling, which can starve a
    // waiting worker past the busy timeout: take turns in order instead. Workers still seal in
    // parallel.
    let one_writer = ctx.store.engine() == Engine::Sqlite;
    let write_turn = Arc::new(tokio::sync::Mutex::new(()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..args.workers {
        let (ctx, provider) = (ctx.clone(), provider.clone());
        let (next_batch, written, timings) = (next_batch.clone(), written.clone(), timings.clone());
        let write_turn = write_turn.clone();
        let (count, tenants, batch) = (args.count, args.tenants, args.batch);
        workers.spawn(async move {
            loop {
                let first = next_batch.fetch_add(1, Ordering::Relaxed) * batch;
                if first >= count {
                    return Ok::<(), anyhow::Error>(());
                }
                let last = (first + batch).min(count);
                let mut rows = Vec::with_capacity(usize::try_from(last - first)?);
                let sealing = Instant::now();
                for index in first..last {
                    rows.push(seal_one(&ctx, &provider, index, tenants).await?);
                }
                timings.add(&timings.sealing, sealing);
                let inserting = Instant::now();
                let turn = if one_writer {
                    Some(write_turn.lock().await)
                } else {
                    None
                };
                ctx.store.insert_credentials_batch(&rows).await?;
                drop(turn);
                timings.add(&timings.inserting, inserting);
                written.fetch_add(last - first, Ordering::Relaxed);
            }
        });
    }
    let progress = tokio::spawn(report_progress(written.clone(), args.count, started));
    while let Some(done) = workers.join_next().await {
        done??;
    }
    progress.abort();

    let seconds = started.elapsed().as_secs_f64();
    let count = written.load(Ordering::Relaxed);
    let (sealing, inserting) = (
        timings.seconds(&timings.sealing),
        timings.seconds(&timings.inserting),
    );
    eprintln!(
        "seeded {count} credentials over {} tenants in {seconds:.1} s ({:.0} rows/s); \
         summed over {} workers: {sealing:.1} s sealing, {inserting:.1} s inserting",
        args.tenants.min(count),
        count as f64 / seconds,
        args.workers
    );
    println!(
        "{}",
        serde_json::json!({
            "kind": "seed",
            "credentials": count,
            "tenants": args.tenants.min(count),
            "seconds": (seconds * 10.0).round() / 10.0,
            "rows_per_s": (count as f64 / seconds).round(),
            "workers": args.workers,
            "sealing_seconds": (sealing * 10.0).round() / 10.0,
            "inserting_seconds": (inserting * 10.0).round() / 10.0,
        })
    );
    ctx.store.close().await;
    Ok(())
}

/// Time spent by all workers together in each phase, in nanoseconds.
#[derive(Debug, Default)]
struct Timings {
    /// Sealing tokens: AES-GCM and the vault's data-key lookup (one query per seal).
    sealing: AtomicU64,
    /// Writing batches (on SQLite including the wait for the write turn).
    inserting: AtomicU64,
}

impl Timings {
    fn add(&self, phase: &AtomicU64, since: Instant) {
        let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        phase.fetch_add(nanos, Ordering::Relaxed);
    }

    fn seconds(&self, phase: &AtomicU64) -> f64 {
        phase.load(Ordering::Relaxed) as f64 / 1e9
    }
}

/// The credential of user `user_{index}` of tenant `org_{index % tenants}`, sealed.
async fn seal_one(
    ctx: &Context,
    provider: &Provider,
    index: u64,
    tenants: u64,
) -> anyhow::Result<CredentialRow> {
    let address = Address::of(Owner::TenantUser {
        tenant_id: format!("org_{}", index % tenants),
        user_id: format!("user_{index}"),
    });
    let now = ctx.clock.now();
    let token = fake_token(index);
    let facebook_id = (10_000_000_000_000 + index).to_string();
    let scopes = ["public_profile".to_owned(), "email".to_owned()];
    let row = credentials::seal(
        ctx,
        provider,
        &address,
        Links::default(),
        None,
        NewToken {
            token: &token,
            token_type: "user",
            facebook_id: &facebook_id,
            issued_at: now,
            expires_at: Some(now + time::Duration::days(60)),
            data_access_expires_at: Some(now + time::Duration::days(90)),
            scopes: &scopes,
        },
    )
    .await?;
    Ok(row)
}

/// A made-up token as long as a real one, different for every index.
fn fake_token(index: u64) -> String {
    let mut token = format!("EAAB{index:012}");
    while token.len() < TOKEN_LEN {
        token.push_str("ZBench0Token1Padding2");
    }
    token.truncate(TOKEN_LEN);
    token
}

/// Prints rows written and the rate every five seconds.
async fn report_progress(written: Arc<AtomicU64>, total: u64, started: Instant) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.tick().await;
    loop {
        tick.tick().await;
        let done = written.load(Ordering::Relaxed);
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "  {done} / {total} credentials ({:.0}%), {:.0} rows/s",
            done as f64 * 100.0 / total as f64,
            done as f64 / seconds
        );
    }
}

/// The database and the vault, as `fbgate` commands that act directly open them.
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
