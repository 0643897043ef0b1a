//! Public ids: a type prefix and 128 random bits, never sequential (`env_5f0c…`).

/// A new random id with the given prefix, such as `env`, `usr` or `crd`.
pub fn new_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}
