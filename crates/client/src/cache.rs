//! The in-memory credential cache (its rules are in the crate documentation).
//!
//! A plain `RwLock<HashMap>`: reads, the hot path, share the lock; writes happen once per fetch.
//! Each entry carries the monotonic instant after which it is no longer served, computed once
//! when it is stored from the token's expiry, the margin and the maximum age, so a wall clock
//! jump cannot keep a token alive longer than the maximum age.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::credentials::{Credential, CredentialRequest};

/// How the cache behaves; see [`crate::ClientBuilder`].
#[derive(Debug, Clone)]
pub(crate) struct CacheSettings {
    pub(crate) expiry_margin: Duration,
    pub(crate) max_age: Duration,
    pub(crate) capacity: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            expiry_margin: Duration::from_secs(5 * 60),
            max_age: Duration::from_secs(5 * 60),
            capacity: 10_000,
        }
    }
}

struct Entry {
    credential: Credential,
    serve_until: Instant,
}

/// Credentials by the request that fetched them.
pub(crate) struct CredentialCache {
    settings: CacheSettings,
    entries: RwLock<HashMap<CredentialRequest, Entry>>,
}

impl CredentialCache {
    pub(crate) fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The cached credential for `request`, if it may still be served.
    pub(crate) fn get(&self, request: &CredentialRequest) -> Option<Credential> {
        // A poisoned lock only means a panic elsewhere while holding it; every write leaves the
        // map consistent, so its contents are still good.
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(request)?;
        (Instant::now() < entry.serve_until).then(|| entry.credential.clone())
    }

    /// Keeps `credential` for `request` for as long as the rules allow (possibly not at all).
    pub(crate) fn insert(&self, request: &CredentialRequest, credential: &Credential) {
        let Some(lifetime) = self.lifetime(credential, OffsetDateTime::now_utc()) else {
            self.remove(request);
            return;
        };
        let now = Instant::now();
        let serve_until = now + lifetime;
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.settings.capacity && !entries.contains_key(request) {
            entries.retain(|_, entry| entry.serve_until > now);
            if entries.len() >= self.settings.capacity {
                let soonest = entries
                    .iter()
                    .min_by_key(|(_, entry)| entry.serve_until)
                    .map(|(key, _)| key.clone());
                if let Some(key) = soonest {
                    entries.remove(&key);
                }
            }
        }
        if self.settings.capacity > 0 {
            entries.insert(
                request.clone(),
                Entry {
                    credential: credential.clone(),
                    serve_until,
                },
            );
        }
    }

    /// Forgets the entry of `request`.
    pub(crate) fn remove(&self, request: &CredentialRequest) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(request);
    }

    /// How long `credential` may be served from now: the maximum age, shortened so that it
    /// ends a margin before the earliest of its expiries. `None` when that is no time at all.
    fn lifetime(&self, credential: &Credential, now: OffsetDateTime) -> Option<Duration> {
        let mut lifetime = self.settings.max_age;
        let expiries = [credential.expires_at, credential.data_access_expires_at];
        for expiry in expiries.into_iter().flatten() {
            let left = expiry - now;
            let usable = Duration::try_from(left)
                .unwrap_or(Duration::ZERO)
                .saturating_sub(self.settings.expiry_margin);
            lifetime = lifetime.min(usable);
        }
        (!lifetime.is_zero()).then_some(lifetime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{CredentialStatus, TokenType};
    use crate::secret::Secret;

    fn credential_at(now: OffsetDateTime, expires_in: Option<time::Duration>) -> Credential {
        Credential {
            id: "crd_1".to_owned(),
            access_token: Secret::new("EAAB"),
            token_type: TokenType::User,
            expires_at: expires_in.map(|d| now + d),
            data_access_expires_at: None,
            scopes: vec!["email".to_owned()],
            status: CredentialStatus::Active,
        }
    }

    fn credential(expires_in: Option<time::Duration>) -> Credential {
        credential_at(OffsetDateTime::now_utc(), expires_in)
    }

    fn cache(capacity: usize) -> CredentialCache {
        CredentialCache::new(CacheSettings {
            capacity,
            ..CacheSettings::default()
        })
    }

    #[test]
    fn the_lifetime_is_the_max_age_or_less_near_expiry() {
        let cache = cache(10);
        let now = OffsetDateTime::now_utc();
        let five_minutes = Duration::from_secs(300);
        assert_eq!(cache.lifetime(&credential(None), now), Some(five_minutes));
        let far = credential_at(now, Some(time::Duration::days(60)));
        assert_eq!(cache.lifetime(&far, now), Some(five_minutes));
        let soon = credential_at(now, Some(time::Duration::minutes(7)));
        assert_eq!(cache.lifetime(&soon, now), Some(Duration::from_secs(120)));
        let within_margin = credential_at(now, Some(time::Duration::minutes(4)));
        assert_eq!(cache.lifetime(&within_margin, now), None);
        let expired = credential_at(now, Some(time::Duration::minutes(-1)));
        assert_eq!(cache.lifetime(&expired, now), None);
    }

    #[test]
    fn data_access_expiry_also_shortens_the_lifetime() {
        let cache = cache(10);
        let now = OffsetDateTime::now_utc();
        let mut credential = credential_at(now, Some(time::Duration::days(60)));
        credential.data_access_expires_at = Some(now + time::Duration::minutes(8));
        assert_eq!(
            cache.lifetime(&credential, now),
            Some(Duration::from_secs(180))
        );
    }

    #[test]
    fn a_full_cache_makes_room_and_zero_capacity_keeps_nothing() {
        let cache = cache(2);
        let requests: Vec<_> = ["usr_1", "usr_2", "usr_3"]
            .iter()
            .map(|id| CredentialRequest::user("facebook", *id))
            .collect();
        for request in &requests {
            cache.insert(request, &credential(None));
        }
        let kept = requests.iter().filter(|r| cache.get(r).is_some()).count();
        assert_eq!(kept, 2);
        assert!(
            cache.get(&requests[2]).is_some(),
            "the newest entry is kept"
        );

        let none = self::cache(0);
        none.insert(&requests[0], &credential(None));
        assert!(none.get(&requests[0]).is_none());
    }
}
