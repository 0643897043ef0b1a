//! `fbgate credentials check`: run the health check of an environment's credentials now.

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::config::Config;
use crate::domain::credentials::health;

/// What to check.
#[derive(Debug, Clone)]
pub(super) enum Target {
    /// Every credential of the environment.
    All,
    /// One credential.
    One(String),
}

/// Checks the credentials of the environment `slug` with Facebook, printing progress on stderr
/// and a summary of statuses on stdout.
pub(super) async fn check(config: &Config, slug: &str, target: Target) -> anyhow::Result<()> {
    let ctx = super::open_context(config).await?;
    let environment = ctx
        .store
        .get_environment_by_slug(slug)
        .await?
        .with_context(|| format!("no environment with slug `{slug}`"))?;
    let results = match target {
        Target::One(id) => vec![
            health::check_one(&ctx, &environment.id, &id)
                .await
                .map_err(super::user_error)?,
        ],
        Target::All => {
            let mut shown = false;
            let results = health::check_all(&ctx, &environment.id, |done, total| {
                shown = true;
                eprint!("\rchecked {done}/{total} credentials");
            })
            .await;
            if shown {
                eprintln!();
            }
            results.map_err(super::user_error)?
        }
    };
    let mut by_status: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut postponed = 0;
    for result in &results {
        let reason = result.reason.clone().unwrap_or_else(|| "-".to_owned());
        *by_status
            .entry((result.status.clone(), reason))
            .or_default() += 1;
        if !result.checked && matches!(result.status.as_str(), "active" | "expiring") {
            postponed += 1;
        }
    }
    println!("{:<10} {:<20} {:>8}", "status", "reason", "count");
    for ((status, reason), count) in &by_status {
        println!("{status:<10} {reason:<20} {count:>8}");
    }
    println!("{} credentials in `{slug}`", results.len());
    if postponed > 0 {
        println!(
            "{postponed} could not be checked now (Facebook unreachable or failing); \
             the health job retries them"
        );
    }
    Ok(())
}
