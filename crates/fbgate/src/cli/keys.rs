//! `fbgate keys rotate`: reseal the environment keys under a new master key.
//! `fbgate keys rotate-data`: new data keys for an environment, every value re-encrypted.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::app;
use crate::config::Config;
use crate::store::data_rotation::SealedColumn;
use crate::vault::MasterKey;
use crate::vault::data_rotation::{DataRotationReport, RotationOptions, rotate_data_keys};
use crate::vault::rotation::rotate_master_key;

fn read_key(path: &Path) -> anyhow::Result<MasterKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    MasterKey::from_base64(&text)
        .with_context(|| format!("{} does not hold a master key", path.display()))
}

pub(super) async fn rotate(
    config: &Config,
    new_file: &Path,
    old_file: Option<&Path>,
) -> anyhow::Result<()> {
    let new = read_key(new_file)?;
    let old = match (old_file, &config.master_key) {
        (Some(path), _) => read_key(path)?,
        (None, Some(text)) => MasterKey::from_base64(text.expose()).context("FBGATE_MASTER_KEY")?,
        (None, None) => bail!(
            "no current master key: configure FBGATE_MASTER_KEY or pass --old-master-key-file"
        ),
    };
    let store = app::open_store(config).await?;
    store.migrate().await?;
    println!("rotating from {} to {}", old.id(), new.id());
    let report = rotate_master_key(&store, &old, &new, |done, total| {
        eprint!("\r{done}/{total} environment keys resealed");
    })
    .await?;
    eprintln!();
    println!(
        "done: {} resealed, {} already on the new key. Now set FBGATE_MASTER_KEY to the new key and restart.",
        report.resealed, report.already_done
    );
    Ok(())
}

/// Rotates the data keys of the environment `slug`, or resumes its rotation in progress.
pub(super) async fn rotate_data(
    config: &Config,
    slug: &str,
    options: RotationOptions,
) -> anyhow::Result<()> {
    let ctx = super::open_context(config).await?;
    let environment = ctx
        .store
        .get_environment_by_slug(slug)
        .await?
        .with_context(|| format!("no environment with slug `{slug}`"))?;
    let mut shown: Option<SealedColumn> = None;
    let report = rotate_data_keys(&ctx.vault, &environment.id, &options, |progress| {
        if shown.is_some_and(|column| column != progress.column) {
            eprintln!();
        }
        shown = Some(progress.column);
        eprint!(
            "\rre-encrypted {}/{} {}",
            progress.done,
            progress.total,
            progress.column.label()
        );
    })
    .await;
    if shown.is_some() {
        eprintln!();
    }
    let report = match report {
        Ok(report) => report,
        Err(error) => {
            let in_progress = ctx
                .store
                .data_key_rotation_in_progress(&environment.id)
                .await
                .ok()
                .flatten()
                .is_some();
            let advice = if in_progress {
                "; the rotation is still in progress: run the command again to resume it"
            } else {
                ""
            };
            return Err(anyhow::Error::new(error).context(format!(
                "the data-key rotation of environment `{slug}` failed{advice}"
            )));
        }
    };
    print_summary(slug, &report);
    if !report.finished {
        bail!(
            "stopped as asked (--stop-after) with the rotation of `{slug}` in progress; \
             run the command again to finish it"
        );
    }
    Ok(())
}

fn print_summary(slug: &str, report: &DataRotationReport) {
    if report.resumed {
        println!(
            "resumed data-key rotation {} of environment {slug}",
            report.rotation_id
        );
    } else {
        println!(
            "started data-key rotation {} of environment {slug}",
            report.rotation_id
        );
        if report.new_keys.is_empty() {
            println!("the environment has no data keys yet: nothing was ever sealed in it");
        }
        for key in &report.new_keys {
            println!("new active data key {} for scope {}", key.key_id, key.scope);
        }
    }
    for column in &report.columns {
        println!(
            "{}: {} re-encrypted, {} already on the new key, {} replaced by a concurrent write, \
             {} shredded (left as they were)",
            column.column.label(),
            column.resealed,
            column.already_current,
            column.replaced_concurrently,
            column.shredded
        );
    }
    if report.finished {
        println!(
            "done: {} values re-encrypted in all. The old data keys are kept, inactive, so \
             anything they sealed still opens.",
            report.rows_done
        );
    }
}
