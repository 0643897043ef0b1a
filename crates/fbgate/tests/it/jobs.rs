//! Background jobs as leased rows: each job runs once, a dead process's job is taken over after
//! its lease, failures are retried then given up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fbgate::clock::{AdjustableClock, Clock as _};
use fbgate::domain::Context;
use fbgate::domain::avatars::FileAvatarStore;
use fbgate::jobs::{self, JobError, Registry, Runner};
use fbgate::store::{JobRow, Store, StoreOptions};
use fbgate::vault::{MasterKey, Vault};
use serde_json::json;

use crate::helpers::{Engine, TestDatabase, fresh_database, on_both_engines};

on_both_engines!(
    two_runners_never_run_the_same_job,
    a_job_leased_by_a_dead_process_is_taken_over_after_its_lease,
    a_failing_job_is_retried_then_given_up,
);

/// A context on a fresh, migrated database with no server (and so no other runner) on it.
async fn context(engine: Engine, clock: Arc<AdjustableClock>) -> (Context, TestDatabase) {
    let database = fresh_database(engine).await;
    let ctx = context_on(&database, clock).await;
    ctx.store.migrate().await.unwrap();
    (ctx, database)
}

/// Another process's view of the same database: its own connection pool.
async fn context_on(database: &TestDatabase, clock: Arc<AdjustableClock>) -> Context {
    let store = Store::connect(&StoreOptions {
        url: database.url.clone(),
        max_connections: 4,
    })
    .await
    .unwrap();
    let (master, master_text) = MasterKey::generate().unwrap();
    let vault = Vault::new(master, store.clone());
    let config = crate::helpers::test_config(&database.url, &master_text);
    let avatars = Arc::new(FileAvatarStore::in_data_dir(&config.data_dir));
    Context::new(store, vault, clock, config.domain_settings(), avatars)
}

type Runs = Arc<Mutex<HashMap<String, usize>>>;

fn counting(runs: Runs, outcome: fn(usize) -> Result<(), JobError>) -> Registry {
    let mut registry = Registry::new();
    registry.register(
        "test.count",
        Arc::new(move |_ctx, job: JobRow| {
            let runs = runs.clone();
            Box::pin(async move {
                let n = {
                    let mut runs = runs.lock().unwrap();
                    let n = runs.entry(job.id.clone()).or_insert(0);
                    *n += 1;
                    *n
                };
                outcome(n)
            })
        }),
    );
    registry
}

async fn two_runners_never_run_the_same_job(engine: Engine) {
    let clock = Arc::new(AdjustableClock::new());
    let (ctx, database) = context(engine, clock.clone()).await;
    for i in 0..60 {
        jobs::enqueue(&ctx, "test.count", None, &json!({ "n": i }), clock.now())
            .await
            .unwrap();
    }
    let runs: Runs = Arc::default();
    let a = Runner::new(
        ctx.clone(),
        counting(runs.clone(), |_| Ok(())),
        Duration::from_millis(10),
    );
    let b = Runner::new(
        context_on(&database, clock.clone()).await,
        counting(runs.clone(), |_| Ok(())),
        Duration::from_millis(10),
    );
    let (ran_a, ran_b) = tokio::join!(
        async {
            let mut n = 0;
            while let Ok(k) = a.run_due().await {
                if k == 0 {
                    break;
                }
                n += k;
            }
            n
        },
        async {
            let mut n = 0;
            while let Ok(k) = b.run_due().await {
                if k == 0 {
                    break;
                }
                n += k;
            }
            n
        },
    );
    assert_eq!(ran_a + ran_b, 60);
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), 60);
    assert!(runs.values().all(|&n| n == 1), "a job ran twice: {runs:?}");
}

async fn a_job_leased_by_a_dead_process_is_taken_over_after_its_lease(engine: Engine) {
    let clock = Arc::new(AdjustableClock::new());
    let (ctx, _database) = context(engine, clock.clone()).await;
    let id = jobs::enqueue(&ctx, "test.count", None, &json!({}), clock.now())
        .await
        .unwrap();
    // A process leases it and dies.
    let leased = ctx
        .store
        .lease_due_jobs("runner_dead", clock.now(), jobs::LEASE, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);

    let runs: Runs = Arc::default();
    let runner = Runner::new(
        ctx.clone(),
        counting(runs.clone(), |_| Ok(())),
        Duration::from_millis(10),
    );
    assert_eq!(runner.run_due().await.unwrap(), 0, "the lease still holds");
    clock.advance(jobs::LEASE + Duration::from_secs(1));
    assert_eq!(
        runner.run_due().await.unwrap(),
        1,
        "the expired lease is taken over"
    );
    let job = ctx.store.get_job(&id).await.unwrap().unwrap();
    assert_eq!(job.outcome.as_deref(), Some("succeeded"));
    assert_eq!(job.attempts, 2);
    // The dead process cannot complete it afterwards.
    assert!(
        !ctx.store
            .complete_job(&id, "runner_dead", clock.now())
            .await
            .unwrap()
    );
}

async fn a_failing_job_is_retried_then_given_up(engine: Engine) {
    let clock = Arc::new(AdjustableClock::new());
    let (ctx, _database) = context(engine, clock.clone()).await;
    let retried = jobs::enqueue(&ctx, "test.count", None, &json!({}), clock.now())
        .await
        .unwrap();
    let runs: Runs = Arc::default();
    let runner = Runner::new(
        ctx.clone(),
        counting(runs.clone(), |n| {
            if n < 3 {
                Err(JobError::Retry {
                    after: Duration::from_secs(30),
                    reason: format!("attempt {n} failed"),
                })
            } else {
                Ok(())
            }
        }),
        Duration::from_millis(10),
    );
    for _ in 0..3 {
        runner.run_due().await.unwrap();
        clock.advance(Duration::from_secs(31));
    }
    let job = ctx.store.get_job(&retried).await.unwrap().unwrap();
    assert_eq!(job.outcome.as_deref(), Some("succeeded"));
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("attempt 2 failed"));

    let unknown = jobs::enqueue(&ctx, "test.unknown_kind", None, &json!({}), clock.now())
        .await
        .unwrap();
    runner.run_due().await.unwrap();
    let job = ctx.store.get_job(&unknown).await.unwrap().unwrap();
    assert_eq!(job.outcome.as_deref(), Some("gave_up"));
    assert!(job.last_error.unwrap().contains("no handler"));
}
