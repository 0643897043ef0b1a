//! The request log: every Graph call the emulator answered, batch operations included, so that
//! tests can count what a client really asked (how many `debug_token` checks of a token, by
//! whom). Read with `GET /_sim/requests`, cleared with `DELETE /_sim/requests` and by a reset.
//!
//! Tokens are never written whole: a `debug_token` entry carries the first 12 hex digits of the
//! SHA-256 of its `input_token`, which is enough to tell tokens apart.

use std::collections::VecDeque;

use aws_lc_rs::digest;
use serde::Serialize;

/// Entries kept; the oldest go first.
pub const CAPACITY: usize = 100_000;

/// One answered call.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedRequest {
    /// 1, 2, 3… in the order the calls were answered.
    pub seq: u64,
    /// Emulator time (unix seconds).
    pub at: i64,
    /// HTTP method (after Graph's `method=` override).
    pub method: String,
    /// The path as requested, without the query string, e.g. `/v21.0/debug_token` (for a batch
    /// operation, its `relative_url` without the query, with a leading `/`).
    pub path: String,
    /// The Graph version the call named (or the default).
    pub version: String,
    /// The path without version, e.g. `debug_token`, `me/accounts`, `dialog/oauth`; `batch`
    /// for a batch.
    pub endpoint: String,
    /// The app the call was made as, when known.
    pub app_id: Option<String>,
    /// The Facebook user the subject token belongs to (`input_token` for `debug_token`, the
    /// access token otherwise), when it is a user or page token the emulator issued.
    pub user_id: Option<String>,
    /// For `debug_token`: the first 12 hex digits of SHA-256 of `input_token`.
    pub input_token_fingerprint: Option<String>,
    /// The status answered (for a batch operation, its own `code`); `None` for an operation
    /// answered `null` (the `batch_null_rate` fault).
    pub status: Option<u16>,
    /// Whether the call was an operation inside a batch.
    pub batch: bool,
}

/// The bounded log.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LoggedRequest>,
    next_seq: u64,
}

impl RequestLog {
    /// Appends an entry, giving it the next sequence number.
    pub(crate) fn push(&mut self, mut entry: LoggedRequest) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.entries.len() == CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    /// The entries that pass `filter`, oldest first.
    pub(crate) fn select(&self, filter: &Filter) -> Vec<LoggedRequest> {
        self.entries
            .iter()
            .filter(|e| filter.since_seq.is_none_or(|since| e.seq > since))
            .filter(|e| filter.endpoint.as_deref().is_none_or(|x| e.endpoint == x))
            .filter(|e| {
                filter
                    .user_id
                    .as_deref()
                    .is_none_or(|x| e.user_id.as_deref() == Some(x))
            })
            .cloned()
            .collect()
    }

    /// Forgets every entry (sequence numbers keep growing).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Which entries `GET /_sim/requests` returns.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Filter {
    pub endpoint: Option<String>,
    pub user_id: Option<String>,
    pub since_seq: Option<u64>,
}

/// The fingerprint of a token: 12 hex digits of its SHA-256.
pub(crate) fn fingerprint(token: &str) -> String {
    let hash = digest::digest(&digest::SHA256, token.as_bytes());
    hash.as_ref()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(endpoint: &str, user: Option<&str>) -> LoggedRequest {
        LoggedRequest {
            seq: 0,
            at: 0,
            method: "GET".to_owned(),
            path: format!("/{endpoint}"),
            version: "v25.0".to_owned(),
            endpoint: endpoint.to_owned(),
            app_id: None,
            user_id: user.map(str::to_owned),
            input_token_fingerprint: None,
            status: Some(200),
            batch: false,
        }
    }

    #[test]
    fn entries_are_numbered_filtered_and_bounded() {
        let mut log = RequestLog::default();
        log.push(entry("debug_token", Some("1")));
        log.push(entry("me", Some("1")));
        log.push(entry("debug_token", Some("2")));
        let all = log.select(&Filter::default());
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        let filter = Filter {
            endpoint: Some("debug_token".to_owned()),
            user_id: Some("2".to_owned()),
            since_seq: None,
        };
        assert_eq!(log.select(&filter).len(), 1);
        let since = Filter {
            since_seq: Some(2),
            ..Filter::default()
        };
        assert_eq!(log.select(&since)[0].seq, 3);
        for _ in 0..CAPACITY {
            log.push(entry("me", None));
        }
        assert_eq!(log.select(&Filter::default()).len(), CAPACITY);
        log.clear();
        assert!(log.select(&Filter::default()).is_empty());
        assert_eq!(fingerprint("abc").len(), 12);
    }
}
