//! How many `get_credential` calls per second the SDK serves from its cache.
//!
//! Points at a running fbgate holding a credential of a tenant's user, makes one real call to
//! fill the cache, then calls `get_credential` for the same address in a loop from 1, 2 and 8
//! tasks of a multi-thread runtime (one worker thread per CPU): after a warm-up, the calls
//! completed in a fixed time are counted. Every call is a cache hit (the default maximum age is 5
//! minutes), so this measures the SDK alone, not fbgate.
//!
//! ```sh
//! FBGATE_URL=http://127.0.0.1:8080 FBGATE_SECRET_KEY=sk_test_… \
//! BENCH_PROVIDER=facebook BENCH_TENANT=org_1 BENCH_USER=user_1 \
//!     cargo run --release -p fbgate-client --example cached_rate
//! ```
//!
//! Optional settings: `BENCH_SDK_SECONDS` (3) measured seconds per figure,
//! `BENCH_SDK_WARMUP_MS` (500), `BENCH_SDK_TASKS` (`1,2,8`), and `BENCH_SDK_ADDRESSES` (0): when
//! above 0, the same figures again with that many different addresses in the cache, each task
//! walking through all of them, named as `seed_credentials` names them (credential `i` belongs
//! to tenant `org_{i % BENCH_TENANTS}` and user `user_{i}`; `BENCH_TENANTS` default 10000).
//! Human-readable lines go to stderr, one JSON object per figure to stdout.

use std::error::Error;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fbgate_client::{Client, CredentialRequest};

/// Calls made between two looks at the stop flag and two updates of the shared counter.
const CALLS_PER_ROUND: u64 = 1024;

type Failure = Box<dyn Error + Send + Sync>;

fn setting(name: &str) -> Result<String, Failure> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

fn setting_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, Failure> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| format!("{name}: cannot parse {text:?}").into()),
        Err(_) => Ok(default),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Failure> {
    let client = Client::new(&setting("FBGATE_URL")?, setting("FBGATE_SECRET_KEY")?)?;
    let provider = setting("BENCH_PROVIDER")?;
    let seconds: f64 = setting_or("BENCH_SDK_SECONDS", 3.0)?;
    let warmup = Duration::from_millis(setting_or("BENCH_SDK_WARMUP_MS", 500)?);
    let tasks: Vec<usize> = setting_or("BENCH_SDK_TASKS", "1,2,8".to_owned())?
        .split(',')
        .map(|n| n.trim().parse())
        .collect::<Result<_, _>>()?;
    let addresses: u64 = setting_or("BENCH_SDK_ADDRESSES", 0)?;
    let tenants: u64 = setting_or("BENCH_TENANTS", 10_000)?;
    let measure = Duration::from_secs_f64(seconds);

    let one = vec![CredentialRequest::tenant_user(
        provider.clone(),
        setting("BENCH_TENANT")?,
        setting("BENCH_USER")?,
    )];
    let mut sets = vec![one];
    if addresses > 0 {
        sets.push(
            (0..addresses)
                .map(|i| {
                    CredentialRequest::tenant_user(
                        provider.clone(),
                        format!("org_{}", i % tenants.max(1)),
                        format!("user_{i}"),
                    )
                })
                .collect(),
        );
    }

    for requests in sets {
        // The real calls: each fills its cache entry (and proves the address is stored).
        let began = Instant::now();
        for request in &requests {
            client.get_credential(request).await?;
        }
        eprintln!(
            "cached {} credential(s) through fbgate in {:.0} ms",
            requests.len(),
            began.elapsed().as_secs_f64() * 1000.0
        );
        let requests = Arc::new(requests);
        for &count in &tasks {
            let rate = calls_per_second(&client, &requests, count, warmup, measure).await?;
            eprintln!(
                "get_credential from the cache, {count} task(s), {} address(es): \
                 {rate:.0} calls/s ({:.0} ns per call per task)",
                requests.len(),
                count as f64 * 1e9 / rate
            );
            println!(
                "{{\"kind\":\"sdk\",\"tasks\":{count},\"addresses\":{},\"calls_per_s\":{rate:.0},\
                 \"threads\":{}}}",
                requests.len(),
                std::thread::available_parallelism().map_or(1, usize::from)
            );
        }
    }
    Ok(())
}

/// Runs `tasks` tasks calling `get_credential` over `requests` until stopped; counts the calls
/// completed during `measure`, after `warmup`.
async fn calls_per_second(
    client: &Client,
    requests: &Arc<Vec<CredentialRequest>>,
    tasks: usize,
    warmup: Duration,
    measure: Duration,
) -> Result<f64, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let mut running = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let (client, requests) = (client.clone(), requests.clone());
        let (stop, calls) = (stop.clone(), calls.clone());
        running.spawn(async move {
            // Each task starts at a different address so that, with many, they do not march in
            // step over the same entries.
            let mut next = task * requests.len() / tasks.max(1);
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..CALLS_PER_ROUND {
                    let request = &requests[next];
                    next = (next + 1) % requests.len();
                    black_box(client.get_credential(request).await?);
                }
                calls.fetch_add(CALLS_PER_ROUND, Ordering::Relaxed);
                // Let the other tasks of this worker thread run (a cache hit never awaits).
                tokio::task::yield_now().await;
            }
            Ok::<(), fbgate_client::Error>(())
        });
    }
    tokio::time::sleep(warmup).await;
    let (start_calls, started) = (calls.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(measure).await;
    let (end_calls, elapsed) = (calls.load(Ordering::Relaxed), started.elapsed());
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = running.join_next().await {
        done??;
    }
    Ok((end_calls - start_calls) as f64 / elapsed.as_secs_f64())
}
