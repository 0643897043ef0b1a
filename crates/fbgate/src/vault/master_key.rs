//! The master key: 32 random bytes given to fbgate in configuration, never stored by it.

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::cipher::{self, KEY_LEN, SymmetricKey};
use super::{SecretString, VaultError};

/// The configured master key, with an id derived from it.
///
/// The id is a hash of the key under a fixed label: it names the key in stored rows (so a
/// rotation knows what is left to do) without revealing anything about it.
#[derive(Debug)]
pub struct MasterKey {
    key: SymmetricKey,
}

impl MasterKey {
    /// Parses the base64 text of a 32-byte key (standard alphabet, padding optional, surrounding
    /// whitespace ignored so that key files may end with a newline).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let text = text.trim().trim_end_matches('=');
        let decoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(text)
                .map_err(|_| VaultError::InvalidMasterKey("not valid base64"))?,
        );
        if decoded.len() != KEY_LEN {
            return Err(VaultError::InvalidMasterKey("must be exactly 32 bytes"));
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&decoded);
        Self::from_bytes(&bytes)
    }

    /// Builds the key from raw bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Result<Self, VaultError> {
        let mut input = Zeroizing::new(Vec::with_capacity(32 + KEY_LEN));
        input.extend_from_slice(b"fbgate master key id\0");
        input.extend_from_slice(bytes);
        let digest = digest::digest(&digest::SHA256, &input);
        let id = format!("mk_{}", hex::encode(&digest.as_ref()[..8]));
        Ok(Self {
            key: SymmetricKey::new(id, bytes)?,
        })
    }

    /// Generates a new random master key and returns it with its base64 text.
    pub fn generate() -> Result<(Self, SecretString), VaultError> {
        let bytes = cipher::random_key_bytes();
        let text = SecretString::new(STANDARD.encode(&bytes[..]));
        Ok((Self::from_bytes(&bytes)?, text))
    }

    /// The key's id (`mk_` and 16 hex digits).
    pub fn id(&self) -> &str {
        self.key.id()
    }

    pub(super) fn key(&self) -> &SymmetricKey {
        &self.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base64_with_or_without_padding_and_newline() {
        let (key, text) = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&format!("{}\n", text.expose())).unwrap();
        assert_eq!(key.id(), again.id());
        let unpadded = text.expose().trim_end_matches('=').to_owned();
        assert_eq!(MasterKey::from_base64(&unpadded).unwrap().id(), key.id());
        assert!(key.id().starts_with("mk_"));
    }

    #[test]
    fn rejects_wrong_lengths_and_garbage() {
        assert!(MasterKey::from_base64("").is_err());
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64 at all!").is_err());
    }
}
