//! Random identifiers and token strings in the shapes Facebook uses.
//!
//! Ids are numeric strings (Facebook's app-scoped ids are), tokens start with `EAA` like real
//! user, page and system-user tokens, and codes start with `AQ`. Nothing here is sequential, so
//! tests cannot come to depend on guessable values.

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random characters from `A-Za-z0-9`.
pub(crate) fn alphanumeric(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::fill(&mut bytes[..]);
    bytes
        .iter()
        .map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()]))
        .collect()
}

/// A numeric id of `len` digits that does not start with 0.
pub(crate) fn numeric_id(len: usize) -> String {
    let mut out = String::with_capacity(len);
    out.push(char::from(b'1' + rand::random_range(0u8..9)));
    for _ in 1..len {
        out.push(char::from(b'0' + rand::random_range(0u8..10)));
    }
    out
}

/// An access token string (user, page and system-user tokens all look alike).
pub(crate) fn access_token() -> String {
    format!("EAA{}", alphanumeric(150))
}

/// An authorization code.
pub(crate) fn auth_code() -> String {
    format!("AQ{}", alphanumeric(180))
}

/// The value of Facebook's `fbtrace_id` and `x-fb-trace-id`.
pub(crate) fn trace_id() -> String {
    alphanumeric(11)
}
