//! Data-key rotation: a new data key for every scope of an environment, and every value sealed
//! by an older key re-encrypted under it (`fbgate keys rotate-data`).
//!
//! A rotation starts with one transaction that records it in `data_key_rotations` and, for each
//! scope that has a key (`environment`, `tenant:<id>`), makes a new key the active one. From then
//! on every new value is sealed with the new keys, while the old keys stay, inactive, so every
//! existing envelope keeps opening: `credentials/get` serves throughout, including from rows and
//! unsealed keys that other processes cache. The rotation then reads credentials, client secrets
//! and webhook signing secrets in batches and rewrites each one sealed by an older key of its
//! scope, with the same AAD (same row, same version): only the key changes. Each rewrite is a
//! compare-and-set on the ciphertext it read, so a concurrent writer (a sign-in replacing a
//! token bumps the version and seals with the new key already) is never overwritten.
//!
//! "In progress" is the rotation's row without `finished_at` (at most one per environment, by a
//! unique index), not something guessed from the keys: a killed run leaves that row, and running
//! the command again resumes it, re-encrypting what is left without making yet another key. Two
//! runs started together share one rotation. A rotation ends with a pass that finds nothing left
//! to re-encrypt, so a value written by a request that read the old active key just before the
//! switch is picked up too: that pass starts no earlier than `ACTIVE_KEY_CACHE_TTL` after the
//! switch, the time other processes may go on sealing with the environment key they cached.
//!
//! Old keys are never deleted: other processes may still hold rows sealed by them for a moment
//! (the credential cache keeps rows for a second), and a key is cheap to keep. Session-JWT
//! signing keys and PKCE verifiers (which live ten minutes) stay sealed by the key that sealed
//! them, which is one more reason to keep it.
//!
//! The AADs are those the domain seals with, taken from the domain itself so the two cannot drift.

use std::collections::HashMap;
use std::sync::Arc;

use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{ACTIVE_KEY_CACHE_TTL, Aad, Envelope, SymmetricKey, Vault, VaultError};
use crate::domain::credentials::credential_aad;
use crate::domain::providers::client_secret_aad;
use crate::domain::webhooks::secret_aad as webhook_secret_aad;
use crate::ids;
use crate::store::data_rotation::{DataKeyRotationRow, SealedColumn, SealedValueRow};
use crate::store::{Store, StoreError};

/// How a rotation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationOptions {
    /// Values read per query.
    pub batch_size: u32,
    /// Stop after re-encrypting this many values, leaving the rotation in progress (tests use
    /// it to stand for a killed run).
    pub stop_after: Option<u64>,
}

impl Default for RotationOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            stop_after: None,
        }
    }
}

/// Where a rotation stands in one column, reported after each batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The column being visited.
    pub column: SealedColumn,
    /// Values visited so far (re-encrypted now or earlier).
    pub done: u64,
    /// Values the column held when the visit started.
    pub total: u64,
}

/// What a run did to one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnReport {
    /// The column.
    pub column: SealedColumn,
    /// Values re-encrypted by this run.
    pub resealed: u64,
    /// Values already sealed by the active key (re-encrypted by an earlier run, or written
    /// since the rotation started).
    pub already_current: u64,
    /// Values replaced or deleted by a concurrent writer while this run held them; the
    /// replacement is sealed by the active key.
    pub replaced_concurrently: u64,
    /// Values whose data key no longer exists (crypto-shredded): they cannot be opened and are
    /// left as they are.
    pub shredded: u64,
}

impl ColumnReport {
    fn new(column: SealedColumn) -> Self {
        Self {
            column,
            resealed: 0,
            already_current: 0,
            replaced_concurrently: 0,
            shredded: 0,
        }
    }

    /// Counts what became of a value. Later passes see every value again: only what they
    /// changed is counted, so each value is counted once.
    fn count(&mut self, outcome: Outcome, first_pass: bool) {
        match outcome {
            Outcome::Resealed => self.resealed += 1,
            Outcome::Replaced => self.replaced_concurrently += 1,
            Outcome::Current if first_pass => self.already_current += 1,
            Outcome::Shredded if first_pass => self.shredded += 1,
            Outcome::Current | Outcome::Shredded => {}
            Outcome::Stopped => {}
        }
    }
}

/// A data key made active by a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedScope {
    /// `environment` or `tenant:<id>`.
    pub scope: String,
    /// The new active key (`dk_…`).
    pub key_id: String,
}

/// What a run of [`rotate_data_keys`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRotationReport {
    /// The rotation (`dkr_…`).
    pub rotation_id: String,
    /// True when this run continued a rotation an earlier run started.
    pub resumed: bool,
    /// The keys this run made active (none when it resumed).
    pub new_keys: Vec<RotatedScope>,
    /// One report per column, in [`SealedColumn::ALL`] order, counted over every pass.
    pub columns: Vec<ColumnReport>,
    /// Values re-encrypted by this rotation over all its runs.
    pub rows_done: i64,
    /// False when the run stopped early (`stop_after`); the rotation is then still in progress.
    pub finished: bool,
}

/// Errors of a data-key rotation. The rotation stays in progress; running it again resumes.
#[derive(Debug, thiserror::Error)]
pub enum DataRotationError {
    /// The vault failed (the environment key cannot be opened with the configured master key...).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// One value could not be opened or re-encrypted (tampered with, or corrupt).
    #[error("cannot re-encrypt the value of {table} row {id}")]
    Value {
        /// The column's label.
        table: &'static str,
        /// The row.
        id: String,
        /// Why.
        #[source]
        source: VaultError,
    },
}

/// Passes over the data are repeated until one finds nothing to re-encrypt, at most this many.
/// A second pass normally finds nothing; more would only chase values written, with the old key,
/// by requests that were in flight at the switch, and those still open with the kept old key.
const MAX_PASSES: usize = 3;

/// Rotates the data keys of `environment_id`, or resumes its rotation in progress, and
/// re-encrypts every credential token, client secret and webhook signing secret under the new
/// keys. `progress` is called after each batch of the first pass.
pub async fn rotate_data_keys(
    vault: &Vault,
    environment_id: &str,
    options: &RotationOptions,
    mut progress: impl FnMut(Progress),
) -> Result<DataRotationReport, DataRotationError> {
    let (rotation, new_keys, resumed) = begin(vault, environment_id).await?;
    let mut run = Run {
        vault,
        store: &vault.inner.store,
        environment_id,
        rotation_id: &rotation.id,
        batch_size: options.batch_size.max(1),
        budget: options.stop_after,
        targets: HashMap::new(),
    };
    let mut columns: Vec<ColumnReport> = SealedColumn::ALL
        .iter()
        .map(|c| ColumnReport::new(*c))
        .collect();
    let mut resealed_total = 0;
    let mut finished = false;
    // Other processes may seal with the old environment key for up to ACTIVE_KEY_CACHE_TTL
    // after the switch; only a pass that starts after that can show nothing is left.
    let settled_at = rotation.started_at + ACTIVE_KEY_CACHE_TTL;
    'passes: for pass in 0..MAX_PASSES {
        if pass > 0 {
            let wait = settled_at - OffsetDateTime::now_utc();
            if wait.is_positive() {
                tokio::time::sleep(wait.unsigned_abs()).await;
            }
        }
        let settled = OffsetDateTime::now_utc() >= settled_at;
        let mut resealed_in_pass = 0;
        for report in &mut columns {
            let before = report.resealed;
            let complete = run.column(report, pass == 0, &mut progress).await?;
            resealed_in_pass += report.resealed - before;
            if !complete {
                resealed_total += resealed_in_pass;
                break 'passes;
            }
        }
        resealed_total += resealed_in_pass;
        if (resealed_in_pass == 0 && settled) || pass + 1 == MAX_PASSES {
            finished = true;
            break;
        }
    }
    if finished {
        run.store
            .finish_data_key_rotation(&rotation.id, OffsetDateTime::now_utc())
            .await?;
    }
    Ok(DataRotationReport {
        rotation_id: rotation.id,
        resumed,
        new_keys,
        columns,
        rows_done: rotation
            .rows_done
            .saturating_add(i64::try_from(resealed_total).unwrap_or(i64::MAX)),
        finished,
    })
}

/// Starts a rotation (new active keys for every scope, in one transaction), or finds the one in
/// progress.
async fn begin(
    vault: &Vault,
    environment_id: &str,
) -> Result<(DataKeyRotationRow, Vec<RotatedScope>, bool), DataRotationError> {
    let store = &vault.inner.store;
    // Fails early, before anything is written, when the master key cannot open the environment.
    vault.environment_key(environment_id).await?;
    if let Some(rotation) = store.data_key_rotation_in_progress(environment_id).await? {
        return Ok((rotation, Vec::new(), true));
    }
    let mut new_keys = Vec::new();
    for key in store.data_keys_of_environment(environment_id).await? {
        if key.active {
            new_keys.push(vault.new_data_key(environment_id, &key.scope).await?);
        }
    }
    let rotation = DataKeyRotationRow {
        id: ids::new_id("dkr"),
        environment_id: environment_id.to_owned(),
        started_at: OffsetDateTime::now_utc(),
        finished_at: None,
        rows_done: 0,
    };
    match store.start_data_key_rotation(&rotation, new_keys).await {
        Ok(made) => {
            vault.inner.active_environment_keys.invalidate_all();
            let made = made
                .into_iter()
                .map(|key| RotatedScope {
                    scope: key.scope,
                    key_id: key.id,
                })
                .collect();
            Ok((rotation, made, false))
        }
        // Another run started one between our read and our write: share it.
        Err(StoreError::Conflict(_)) => {
            let rotation = store
                .data_key_rotation_in_progress(environment_id)
                .await?
                .ok_or(StoreError::Conflict("data key rotation in progress"))?;
            Ok((rotation, Vec::new(), true))
        }
        Err(other) => Err(other.into()),
    }
}

/// What became of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Resealed,
    Current,
    Replaced,
    Shredded,
    /// The run's budget (`stop_after`) ran out before this value.
    Stopped,
}

/// The state of one run: where it writes, and the active key of each scope met so far.
struct Run<'a> {
    vault: &'a Vault,
    store: &'a Store,
    environment_id: &'a str,
    rotation_id: &'a str,
    batch_size: u32,
    budget: Option<u64>,
    /// `None`: the scope has no active key (shredded).
    targets: HashMap<String, Option<Arc<SymmetricKey>>>,
}

impl Run<'_> {
    /// Visits every value of a column. Returns false when the run's budget ran out first.
    /// Progress is reported on the first pass only; later ones just make sure.
    async fn column(
        &mut self,
        report: &mut ColumnReport,
        first_pass: bool,
        progress: &mut impl FnMut(Progress),
    ) -> Result<bool, DataRotationError> {
        let column = report.column;
        let total = if first_pass {
            let count = self
                .store
                .count_sealed_values(self.environment_id, column)
                .await?;
            u64::try_from(count).unwrap_or(0)
        } else {
            0
        };
        let mut done = 0;
        let mut after = String::new();
        loop {
            let batch = self
                .store
                .sealed_values_after(self.environment_id, column, &after, self.batch_size)
                .await?;
            let Some(last) = batch.last() else {
                return Ok(true);
            };
            after.clone_from(&last.id);
            let mut resealed = 0;
            let mut complete = true;
            // The scopes' active keys are looked up again for each batch, so a run never
            // re-encrypts anything back to a key that another rotation has since retired.
            self.targets.clear();
            for row in batch {
                let outcome = self.reseal(column, row).await?;
                match outcome {
                    Outcome::Stopped => {
                        complete = false;
                        break;
                    }
                    Outcome::Resealed => {
                        resealed += 1;
                        self.budget = self.budget.map(|left| left.saturating_sub(1));
                    }
                    Outcome::Current | Outcome::Replaced | Outcome::Shredded => {}
                }
                report.count(outcome, first_pass);
                done += 1;
            }
            if resealed > 0 {
                self.store
                    .add_data_key_rotation_progress(self.rotation_id, resealed)
                    .await?;
            }
            if first_pass {
                progress(Progress {
                    column,
                    done,
                    total: total.max(done),
                });
            }
            if !complete {
                return Ok(false);
            }
        }
    }

    /// Re-encrypts one value under its scope's active key, unless it already is, guarded
    /// against concurrent writers.
    async fn reseal(
        &mut self,
        column: SealedColumn,
        mut row: SealedValueRow,
    ) -> Result<Outcome, DataRotationError> {
        let mut raced = false;
        loop {
            let settled = if raced {
                Outcome::Replaced
            } else {
                Outcome::Current
            };
            // A revoked credential's token was destroyed meanwhile: nothing left to seal.
            if row.ciphertext.is_empty() {
                return Ok(settled);
            }
            let Some(target) = self.target(&row.scope).await? else {
                return Ok(Outcome::Shredded);
            };
            let sealed_by = Envelope::parse(&row.ciphertext)
                .map_err(|source| value_error(column, &row, source))?
                .key_id;
            if sealed_by == target.id() {
                return Ok(settled);
            }
            if self.budget == Some(0) {
                return Ok(Outcome::Stopped);
            }
            let aad = value_aad(column, self.environment_id, &row);
            let plaintext: Zeroizing<Vec<u8>> = match self
                .vault
                .open(self.environment_id, &aad, &row.ciphertext)
                .await
            {
                Ok(plaintext) => plaintext,
                Err(VaultError::DataKeyNotFound(_)) => return Ok(Outcome::Shredded),
                Err(source) => return Err(value_error(column, &row, source)),
            };
            let resealed = target
                .seal(&aad, &plaintext)
                .map_err(|source| value_error(column, &row, source))?;
            if self
                .store
                .replace_sealed_value(column, &row, &resealed)
                .await?
            {
                return Ok(Outcome::Resealed);
            }
            // A writer changed the row after we read it: look again at what it holds now.
            raced = true;
            match self
                .store
                .sealed_value(self.environment_id, column, &row.id)
                .await?
            {
                Some(fresh) => row = fresh,
                None => return Ok(Outcome::Replaced),
            }
        }
    }

    /// The active key of a scope, looked up once per batch (unsealed keys are cached).
    async fn target(&mut self, scope: &str) -> Result<Option<Arc<SymmetricKey>>, VaultError> {
        if let Some(key) = self.targets.get(scope) {
            return Ok(key.clone());
        }
        let key = match self
            .store
            .active_data_key(self.environment_id, scope)
            .await?
        {
            Some(row) => Some(self.vault.unseal_data_key(row).await?),
            None => None,
        };
        self.targets.insert(scope.to_owned(), key.clone());
        Ok(key)
    }
}

/// The AAD the domain sealed a value with.
fn value_aad(column: SealedColumn, environment_id: &str, row: &SealedValueRow) -> Aad {
    match column {
        SealedColumn::CredentialToken => credential_aad(environment_id, &row.id, row.version),
        SealedColumn::ClientSecret => client_secret_aad(environment_id, &row.id),
        SealedColumn::WebhookSecret => webhook_secret_aad(environment_id, &row.id),
    }
}

fn value_error(
    column: SealedColumn,
    row: &SealedValueRow,
    source: VaultError,
) -> DataRotationError {
    DataRotationError::Value {
        table: column.label(),
        id: row.id.clone(),
        source,
    }
}
