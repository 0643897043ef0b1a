//! Where avatar bytes live: the [`AvatarStore`] interface and the default [`FileAvatarStore`].
//!
//! Objects are content-addressed: the key is the environment and the SHA-256 of the bytes, so a
//! write is idempotent and two users of an environment with the same picture share one object.
//! Keys are built only from ids fbgate generated and from hex digests ([`AvatarKey::new`] refuses
//! anything else), so no input from Facebook or a client ever becomes part of a path.

use std::fmt::Debug;
use std::future::Future;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::pin::Pin;

/// Why the avatar store failed.
#[derive(Debug, thiserror::Error)]
pub enum AvatarStoreError {
    /// The key is not an fbgate environment id and a SHA-256 hex digest.
    #[error("invalid avatar key")]
    InvalidKey,
    /// Reading or writing failed.
    #[error("avatar store i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The name of one stored object: `{environment_id}/{sha256}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarKey {
    environment_id: String,
    sha256: String,
}

impl AvatarKey {
    /// Checks that the environment id is an fbgate id (`env_` and hex) and the digest 64 lower-case
    /// hex digits; nothing else can name an object.
    pub fn new(environment_id: &str, sha256: &str) -> Result<Self, AvatarStoreError> {
        let env_ok = environment_id
            .split_once('_')
            .is_some_and(|(prefix, rest)| {
                !prefix.is_empty()
                    && prefix.bytes().all(|b| b.is_ascii_lowercase())
                    && !rest.is_empty()
                    && rest.len() <= 64
                    && is_lower_hex(rest)
            });
        if !env_ok || sha256.len() != 64 || !is_lower_hex(sha256) {
            return Err(AvatarStoreError::InvalidKey);
        }
        Ok(Self {
            environment_id: environment_id.to_owned(),
            sha256: sha256.to_owned(),
        })
    }

    /// The environment.
    pub fn environment_id(&self) -> &str {
        &self.environment_id
    }

    /// The SHA-256 of the bytes, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A boxed future, so that [`AvatarStore`] can be held as `Arc<dyn AvatarStore>`.
pub type StoreFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, AvatarStoreError>> + Send + 'a>>;

/// Storage for avatar bytes. Implementations must make `put` atomic (a reader sees the whole
/// object or none) and treat a `put` of an existing key as a no-op or an identical overwrite.
pub trait AvatarStore: Send + Sync + Debug {
    /// Stores `bytes` under `key`.
    fn put<'a>(&'a self, key: &'a AvatarKey, bytes: &'a [u8]) -> StoreFuture<'a, ()>;
    /// The bytes under `key`, or `None` when there are none.
    fn get<'a>(&'a self, key: &'a AvatarKey) -> StoreFuture<'a, Option<Vec<u8>>>;
    /// Removes `key`; removing a missing key succeeds.
    fn delete<'a>(&'a self, key: &'a AvatarKey) -> StoreFuture<'a, ()>;
}

/// Avatars as files: `{root}/{environment_id}/{sha256}`, where `root` is `{data_dir}/avatars`.
#[derive(Debug, Clone)]
pub struct FileAvatarStore {
    root: PathBuf,
}

impl FileAvatarStore {
    /// A store under `{data_dir}/avatars`; folders are created on the first write.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("avatars"),
        }
    }

    fn path(&self, key: &AvatarKey) -> PathBuf {
        self.root.join(&key.environment_id).join(&key.sha256)
    }

    async fn write(&self, key: &AvatarKey, bytes: &[u8]) -> Result<(), AvatarStoreError> {
        let target = self.path(key);
        let folder = self.root.join(&key.environment_id);
        tokio::fs::create_dir_all(&folder).await?;
        // Written beside the target and renamed over it: a reader never sees half a file, and a
        // crash leaves at most a stray `.tmp` file, never a truncated avatar.
        let mut suffix = [0u8; 8];
        rand::fill(&mut suffix);
        let temporary = folder.join(format!(".{}.{}.tmp", key.sha256, hex::encode(suffix)));
        if let Err(error) = tokio::fs::write(&temporary, bytes).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        if let Err(error) = tokio::fs::rename(&temporary, &target).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error.into());
        }
        Ok(())
    }

    async fn read(&self, key: &AvatarKey) -> Result<Option<Vec<u8>>, AvatarStoreError> {
        match tokio::fs::read(self.path(key)).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    async fn remove(&self, key: &AvatarKey) -> Result<(), AvatarStoreError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(error) if error.kind() != ErrorKind::NotFound => Err(error.into()),
            _ => Ok(()),
        }
    }
}

impl AvatarStore for FileAvatarStore {
    fn put<'a>(&'a self, key: &'a AvatarKey, bytes: &'a [u8]) -> StoreFuture<'a, ()> {
        Box::pin(self.write(key, bytes))
    }

    fn get<'a>(&'a self, key: &'a AvatarKey) -> StoreFuture<'a, Option<Vec<u8>>> {
        Box::pin(self.read(key))
    }

    fn delete<'a>(&'a self, key: &'a AvatarKey) -> StoreFuture<'a, ()> {
        Box::pin(self.remove(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn keys_accept_only_fbgate_ids_and_hex_digests() {
        assert!(AvatarKey::new("env_0123abcd", SHA).is_ok());
        for (env, sha) in [
            ("../etc", SHA),
            ("env_0123/..", SHA),
            ("env_", SHA),
            ("ENV_0123", SHA),
            ("env_0123", "../../passwd"),
            ("env_0123", &SHA[..63]),
            ("env_0123", &SHA.to_uppercase()),
        ] {
            assert!(AvatarKey::new(env, sha).is_err(), "{env} {sha}");
        }
    }

    #[tokio::test]
    async fn files_are_written_under_environment_and_digest_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileAvatarStore::in_data_dir(dir.path());
        let key = AvatarKey::new("env_00ff", SHA).unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);

        store.put(&key, b"picture").await.unwrap();
        store.put(&key, b"picture").await.unwrap();
        let path = dir.path().join("avatars").join("env_00ff").join(SHA);
        assert_eq!(std::fs::read(&path).unwrap(), b"picture");
        assert_eq!(
            store.get(&key).await.unwrap().as_deref(),
            Some(&b"picture"[..])
        );
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");

        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert_eq!(store.get(&key).await.unwrap(), None);
    }
}
