//! Master-key rotation: reseal every environment key under a new master key.
//!
//! Only environment keys are sealed by the master key, so a rotation rewrites one row per
//! environment and never decrypts or rewrites data. Each row is updated on its own with a
//! compare-and-set on the old master key id, which makes the rotation safe to interrupt and to
//! run again (rows already on the new key are skipped) and safe against a second rotation
//! running at the same time.

use crate::store::Store;

use super::{MasterKey, VaultError, environment_key_aad, key_array};

/// What a rotation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Environment keys resealed by this run.
    pub resealed: usize,
    /// Environment keys already under the new master key when this run reached them.
    pub already_done: usize,
}

/// Reseals every environment key sealed by `old` under `new`. `progress(done, total)` is called
/// after each environment.
pub async fn rotate_master_key(
    store: &Store,
    old: &MasterKey,
    new: &MasterKey,
    mut progress: impl FnMut(usize, usize),
) -> Result<RotationReport, VaultError> {
    let pending = store.environment_keys_not_sealed_by(new.id()).await?;
    let total = pending.len();
    let mut report = RotationReport::default();
    for (done, row) in pending.into_iter().enumerate() {
        if row.master_key_id != old.id() {
            return Err(VaultError::UnknownMasterKey {
                environment_id: row.id,
                key_id: row.master_key_id,
            });
        }
        let aad = environment_key_aad(&row.id, &row.key_id);
        let plaintext = key_array(&old.key().open(&aad, &row.wrapped_key)?)?;
        let resealed = new.key().seal(&aad, &plaintext[..])?;
        if store
            .reseal_environment_key(&row.id, old.id(), &resealed, new.id())
            .await?
        {
            report.resealed += 1;
        } else {
            report.already_done += 1;
        }
        progress(done + 1, total);
    }
    Ok(report)
}
