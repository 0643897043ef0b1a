//! `fbgate keys rotate`: reseal the environment keys under a new master key.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::app;
use crate::config::Config;
use crate::vault::MasterKey;
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
