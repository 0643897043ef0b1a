//! The vault: envelope encryption of every secret fbgate keeps.
//!
//! Keys form a three-level hierarchy:
//!
//! 1. the **master key** comes from configuration (`FBGATE_MASTER_KEY`) and is never stored;
//! 2. each environment has an **environment key**, stored sealed by the master key;
//! 3. **data keys** (one for the environment, and one per tenant of the app) are stored sealed by
//!    the environment key, and they seal the actual values: Facebook tokens, client secrets,
//!    signing keys.
//!
//! Rotating the master key therefore rewrites one small row per environment and never touches
//! data ([`rotation`]); rotating an environment's data keys re-encrypts its values under new keys
//! while the old ones, kept, still open what they sealed ([`data_rotation`]); and deleting a
//! tenant's data key makes everything sealed for that tenant unreadable at once
//! (crypto-shredding). Unsealed keys are cached in memory only, inside aws-lc,
//! which clears them when they are dropped.

mod cipher;
pub mod data_rotation;
mod master_key;
pub mod rotation;
mod secret;

use std::sync::Arc;

use moka::future::Cache;
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use cipher::{Aad, Envelope, KEY_LEN, SymmetricKey};
pub use master_key::MasterKey;
pub use secret::{Secret, SecretString};

use crate::ids;
use crate::store::{DataKeyRow, Store, StoreError};

/// Errors of the vault. None of them carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// aws-lc refused an operation (should not happen with valid keys).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
    /// The bytes are not an envelope fbgate wrote.
    #[error("malformed ciphertext envelope")]
    MalformedEnvelope,
    /// The ciphertext, its header or its row binding was altered.
    #[error("ciphertext failed its integrity check (tampered, or moved to another row)")]
    IntegrityCheckFailed,
    /// The envelope names a different key than the one offered.
    #[error("ciphertext was sealed by key {found}, not {expected}")]
    WrongKey {
        /// Id of the key offered.
        expected: String,
        /// Id written in the envelope.
        found: String,
    },
    /// The master key setting is not base64 of 32 bytes.
    #[error("invalid master key: {0}")]
    InvalidMasterKey(&'static str),
    /// Stored keys are sealed by a master key that is not configured.
    #[error(
        "environment {environment_id} is sealed by master key {key_id}, which is not the configured one; \
         configure that key or finish the rotation with `fbgate keys rotate`"
    )]
    UnknownMasterKey {
        /// The environment whose key cannot be opened.
        environment_id: String,
        /// The master key id it needs.
        key_id: String,
    },
    /// No such environment.
    #[error("environment {0} not found")]
    EnvironmentNotFound(String),
    /// An envelope names a data key that does not exist (it was shredded).
    #[error("data key {0} not found (shredded or never existed)")]
    DataKeyNotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which data key seals a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyScope {
    /// The environment-wide data key (fbgate users' credentials, client secrets).
    Environment,
    /// A tenant's own data key; deleting it crypto-shreds the tenant's credentials.
    Tenant(String),
}

impl KeyScope {
    /// The value of `data_keys.scope`.
    pub fn as_column(&self) -> String {
        match self {
            KeyScope::Environment => "environment".to_owned(),
            KeyScope::Tenant(tenant) => format!("tenant:{tenant}"),
        }
    }
}

/// A freshly generated environment key, sealed for storage.
#[derive(Debug)]
pub struct SealedEnvironmentKey {
    /// `ek_…`
    pub key_id: String,
    /// The key sealed by the master key.
    pub wrapped_key: Vec<u8>,
    /// Id of the master key that sealed it.
    pub master_key_id: String,
}

/// How long an unwrapped key stays in memory. A key shredded (or rewrapped) by another process
/// is gone from this one within this time; within one process, shredding forgets it at once.
pub const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// How long a process keeps sealing with the environment-wide data key it last found active,
/// without asking the database again. A rotation by another process is therefore followed
/// within this time; `fbgate keys rotate-data` waits this long after its switch before the pass
/// that must find nothing left. Tenant keys are always looked up, because a shredded tenant key
/// must never seal anything again.
pub const ACTIVE_KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Handle to the vault; cheap to clone.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    master: MasterKey,
    store: Store,
    environment_keys: Cache<String, Arc<SymmetricKey>>,
    data_keys: Cache<String, Arc<SymmetricKey>>,
    /// The active environment-wide data key of each environment (see [`ACTIVE_KEY_CACHE_TTL`]).
    active_environment_keys: Cache<String, Arc<SymmetricKey>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("master_key_id", &self.inner.master.id())
            .finish_non_exhaustive()
    }
}

fn environment_key_aad(environment_id: &str, key_id: &str) -> Aad {
    Aad::new("environment_key")
        .with(environment_id)
        .with(key_id)
}

fn data_key_aad(environment_id: &str, data_key_id: &str, scope: &str) -> Aad {
    Aad::new("data_key")
        .with(environment_id)
        .with(data_key_id)
        .with(scope)
}

impl Vault {
    /// Builds a vault over `store` with the configured master key.
    pub fn new(master: MasterKey, store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                master,
                store,
                environment_keys: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(KEY_CACHE_TTL)
                    .build(),
                data_keys: Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(KEY_CACHE_TTL)
                    .build(),
                active_environment_keys: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(ACTIVE_KEY_CACHE_TTL)
                    .build(),
            }),
        }
    }

    /// Id of the configured master key.
    pub fn master_key_id(&self) -> &str {
        self.inner.master.id()
    }

    /// Generates a new environment key for `environment_id`, sealed by the master key.
    pub fn new_environment_key(
        &self,
        environment_id: &str,
    ) -> Result<SealedEnvironmentKey, VaultError> {
        let key_id = ids::new_id("ek");
        let bytes = cipher::random_key_bytes();
        let wrapped_key = self
            .inner
            .master
            .key()
            .seal(&environment_key_aad(environment_id, &key_id), &bytes[..])?;
        Ok(SealedEnvironmentKey {
            key_id,
            wrapped_key,
            master_key_id: self.inner.master.id().to_owned(),
        })
    }

    /// Seals `plaintext` for a row of `environment_id` with the active data key of `scope`.
    pub async fn seal(
        &self,
        environment_id: &str,
        scope: &KeyScope,
        aad: &Aad,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, VaultError> {
        let key = self.active_data_key(environment_id, scope).await?;
        key.seal(aad, plaintext)
    }

    /// Opens an envelope sealed for a row of `environment_id` (any of its data keys).
    pub async fn open(
        &self,
        environment_id: &str,
        aad: &Aad,
        envelope: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let key_id = Envelope::parse(envelope)?.key_id;
        let key = self.data_key_by_id(environment_id, key_id).await?;
        key.open(aad, envelope)
    }

    /// Opens an envelope that holds UTF-8 text (a token, a client secret).
    pub async fn open_string(
        &self,
        environment_id: &str,
        aad: &Aad,
        envelope: &[u8],
    ) -> Result<SecretString, VaultError> {
        let bytes = self.open(environment_id, aad, envelope).await?;
        let text = std::str::from_utf8(&bytes).map_err(|_| VaultError::MalformedEnvelope)?;
        Ok(SecretString::new(text.to_owned()))
    }

    /// Deletes every data key of a scope. Whatever they sealed can never be opened again.
    pub async fn shred(&self, environment_id: &str, scope: &KeyScope) -> Result<u64, VaultError> {
        let deleted = self
            .inner
            .store
            .delete_data_keys(environment_id, &scope.as_column())
            .await?;
        // Cached copies must go too, or the shredded key would live on in memory.
        self.inner.data_keys.invalidate_all();
        self.inner.active_environment_keys.invalidate_all();
        Ok(deleted)
    }

    async fn environment_key(&self, environment_id: &str) -> Result<Arc<SymmetricKey>, VaultError> {
        if let Some(key) = self.inner.environment_keys.get(environment_id).await {
            return Ok(key);
        }
        let row = self
            .inner
            .store
            .environment_key(environment_id)
            .await?
            .ok_or_else(|| VaultError::EnvironmentNotFound(environment_id.to_owned()))?;
        if row.master_key_id != self.inner.master.id() {
            return Err(VaultError::UnknownMasterKey {
                environment_id: environment_id.to_owned(),
                key_id: row.master_key_id,
            });
        }
        let bytes = self.inner.master.key().open(
            &environment_key_aad(environment_id, &row.key_id),
            &row.wrapped_key,
        )?;
        let key = Arc::new(SymmetricKey::new(row.key_id, &*key_array(&bytes)?)?);
        self.inner
            .environment_keys
            .insert(environment_id.to_owned(), key.clone())
            .await;
        Ok(key)
    }

    async fn active_data_key(
        &self,
        environment_id: &str,
        scope: &KeyScope,
    ) -> Result<Arc<SymmetricKey>, VaultError> {
        if *scope != KeyScope::Environment {
            return self.find_active_data_key(environment_id, scope).await;
        }
        if let Some(key) = self.inner.active_environment_keys.get(environment_id).await {
            return Ok(key);
        }
        let key = self.find_active_data_key(environment_id, scope).await?;
        self.inner
            .active_environment_keys
            .insert(environment_id.to_owned(), key.clone())
            .await;
        Ok(key)
    }

    async fn find_active_data_key(
        &self,
        environment_id: &str,
        scope: &KeyScope,
    ) -> Result<Arc<SymmetricKey>, VaultError> {
        let scope_column = scope.as_column();
        let store = &self.inner.store;
        let row = match store.active_data_key(environment_id, &scope_column).await? {
            Some(row) => row,
            None => {
                let row = self.new_data_key(environment_id, &scope_column).await?;
                match store.insert_data_key(&row).await {
                    Ok(()) => row,
                    // Another request created the scope's key between our read and write: use it.
                    Err(StoreError::Conflict(_)) => store
                        .active_data_key(environment_id, &scope_column)
                        .await?
                        .ok_or_else(|| VaultError::DataKeyNotFound(scope_column.clone()))?,
                    Err(other) => return Err(other.into()),
                }
            }
        };
        self.unseal_data_key(row).await
    }

    async fn data_key_by_id(
        &self,
        environment_id: &str,
        data_key_id: &str,
    ) -> Result<Arc<SymmetricKey>, VaultError> {
        if let Some(key) = self
            .inner
            .data_keys
            .get(&data_key_cache_key(environment_id, data_key_id))
            .await
        {
            return Ok(key);
        }
        let row = self
            .inner
            .store
            .get_data_key(environment_id, data_key_id)
            .await?
            .ok_or_else(|| VaultError::DataKeyNotFound(data_key_id.to_owned()))?;
        self.unseal_data_key(row).await
    }

    async fn new_data_key(
        &self,
        environment_id: &str,
        scope: &str,
    ) -> Result<DataKeyRow, VaultError> {
        let environment_key = self.environment_key(environment_id).await?;
        let id = ids::new_id("dk");
        let bytes = cipher::random_key_bytes();
        let wrapped_key =
            environment_key.seal(&data_key_aad(environment_id, &id, scope), &bytes[..])?;
        Ok(DataKeyRow {
            id,
            environment_id: environment_id.to_owned(),
            scope: scope.to_owned(),
            wrapped_key,
            wrapping_key_id: environment_key.id().to_owned(),
            active: true,
            created_at: OffsetDateTime::now_utc(),
        })
    }

    async fn unseal_data_key(&self, row: DataKeyRow) -> Result<Arc<SymmetricKey>, VaultError> {
        let cache_key = data_key_cache_key(&row.environment_id, &row.id);
        if let Some(key) = self.inner.data_keys.get(&cache_key).await {
            return Ok(key);
        }
        let environment_key = self.environment_key(&row.environment_id).await?;
        let bytes = environment_key.open(
            &data_key_aad(&row.environment_id, &row.id, &row.scope),
            &row.wrapped_key,
        )?;
        let key = Arc::new(SymmetricKey::new(row.id.clone(), &*key_array(&bytes)?)?);
        self.inner.data_keys.insert(cache_key, key.clone()).await;
        Ok(key)
    }
}

/// Cached data keys are found by environment and id together, so an envelope presented in the
/// wrong environment misses the cache and fails the database lookup.
fn data_key_cache_key(environment_id: &str, data_key_id: &str) -> String {
    format!("{environment_id}/{data_key_id}")
}

fn key_array(bytes: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, VaultError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    if bytes.len() != KEY_LEN {
        return Err(VaultError::MalformedEnvelope);
    }
    key.copy_from_slice(bytes);
    Ok(key)
}
