//! The domain: what fbgate does, independent of HTTP and SQL.
//!
//! Functions here take parsed input (newtypes that cannot hold bad values), use the store and
//! the vault through [`Context`], and return [`Error`], which `http::error` alone turns into
//! status codes and the API's error JSON.

pub mod api_keys;
pub mod environments;
mod error;
pub mod pagination;
pub mod slug;

pub use error::Error;

use crate::clock::SharedClock;
use crate::store::Store;
use crate::vault::Vault;

/// The handles every domain operation needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    /// The database.
    pub store: Store,
    /// Envelope encryption.
    pub vault: Vault,
    /// The time source.
    pub clock: SharedClock,
    /// Recently authenticated API keys, so the hot path does not hit the database each time.
    pub key_cache: api_keys::KeyCache,
}

impl Context {
    /// Builds a context.
    pub fn new(store: Store, vault: Vault, clock: SharedClock) -> Self {
        Self {
            store,
            vault,
            clock,
            key_cache: api_keys::KeyCache::new(),
        }
    }
}
