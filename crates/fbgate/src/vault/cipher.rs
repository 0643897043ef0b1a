//! AES-256-GCM envelopes that name their key and are bound to their row.
//!
//! Every ciphertext fbgate writes is an envelope: a version byte, the id of the key that sealed
//! it, a random 96-bit nonce, then the AES-256-GCM ciphertext and tag. The header (version and key
//! id) is authenticated together with the caller's [`Aad`], which names the row the value belongs
//! to (environment, owner, row id, version). A ciphertext copied into another row, or whose key
//! id was edited, therefore fails to open instead of decrypting into the wrong place.
//!
//! Random nonces are safe here: each data key seals far fewer than 2^32 values before it is
//! rotated.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad as GcmAad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use super::VaultError;

/// Length in bytes of every key fbgate uses (AES-256).
pub const KEY_LEN: usize = 32;

const ENVELOPE_VERSION: u8 = 1;

/// Raw key bytes that are zeroized when dropped.
pub type KeyBytes = Zeroizing<[u8; KEY_LEN]>;

/// Generates fresh random key bytes.
pub fn random_key_bytes() -> KeyBytes {
    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
    rand::fill(&mut bytes[..]);
    bytes
}

/// An AES-256-GCM key together with its id.
pub struct SymmetricKey {
    id: String,
    key: LessSafeKey,
}

impl fmt::Debug for SymmetricKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SymmetricKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SymmetricKey {
    /// Builds a key from its bytes. The bytes are copied into aws-lc, which clears them on drop.
    pub fn new(id: impl Into<String>, bytes: &[u8; KEY_LEN]) -> Result<Self, VaultError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| VaultError::Crypto("key setup"))?;
        Ok(Self {
            id: id.into(),
            key: LessSafeKey::new(unbound),
        })
    }

    /// The key's id, written into every envelope it seals.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Encrypts `plaintext` into a self-describing envelope bound to `aad`.
    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
        let header = envelope_header(&self.id)?;
        let mut nonce_bytes = [0u8; NONCE_LEN];
        rand::fill(&mut nonce_bytes[..]);
        let mut in_out = plaintext.to_vec();
        let associated = associated_data(&header, aad);
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                GcmAad::from(associated.as_slice()),
                &mut in_out,
            )
            .map_err(|_| VaultError::Crypto("seal"))?;
        let mut envelope = header;
        envelope.extend_from_slice(&nonce_bytes);
        envelope.append(&mut in_out);
        Ok(envelope)
    }

    /// Decrypts an envelope sealed by this key for the same `aad`.
    pub fn open(&self, aad: &Aad, envelope: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let parsed = Envelope::parse(envelope)?;
        if parsed.key_id != self.id {
            return Err(VaultError::WrongKey {
                expected: self.id.clone(),
                found: parsed.key_id.to_owned(),
            });
        }
        let nonce = Nonce::try_assume_unique_for_key(parsed.nonce)
            .map_err(|_| VaultError::MalformedEnvelope)?;
        let associated = associated_data(parsed.header, aad);
        let mut in_out = Zeroizing::new(parsed.ciphertext.to_vec());
        let plaintext_len = self
            .key
            .open_in_place(nonce, GcmAad::from(associated.as_slice()), &mut in_out)
            .map_err(|_| VaultError::IntegrityCheckFailed)?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }
}

/// The parts of an envelope, borrowed from its bytes.
#[derive(Debug)]
pub struct Envelope<'a> {
    header: &'a [u8],
    /// Id of the key that sealed the envelope.
    pub key_id: &'a str,
    nonce: &'a [u8],
    ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Splits an envelope into header, key id, nonce and ciphertext without decrypting it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, VaultError> {
        let (&version, rest) = bytes.split_first().ok_or(VaultError::MalformedEnvelope)?;
        if version != ENVELOPE_VERSION {
            return Err(VaultError::MalformedEnvelope);
        }
        let (&id_len, rest) = rest.split_first().ok_or(VaultError::MalformedEnvelope)?;
        let id_len = usize::from(id_len);
        if rest.len() < id_len + NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(VaultError::MalformedEnvelope);
        }
        let (key_id, rest) = rest.split_at(id_len);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let key_id = std::str::from_utf8(key_id).map_err(|_| VaultError::MalformedEnvelope)?;
        Ok(Self {
            header: &bytes[..2 + id_len],
            key_id,
            nonce,
            ciphertext,
        })
    }
}

fn envelope_header(key_id: &str) -> Result<Vec<u8>, VaultError> {
    let id_len = u8::try_from(key_id.len()).map_err(|_| VaultError::Crypto("key id too long"))?;
    let mut header = Vec::with_capacity(2 + key_id.len() + NONCE_LEN);
    header.push(ENVELOPE_VERSION);
    header.push(id_len);
    header.extend_from_slice(key_id.as_bytes());
    Ok(header)
}

fn associated_data(header: &[u8], aad: &Aad) -> Vec<u8> {
    let mut data = Vec::with_capacity(header.len() + aad.0.len());
    data.extend_from_slice(header);
    data.extend_from_slice(&aad.0);
    data
}

/// Additional authenticated data: the names of the row a ciphertext belongs to.
///
/// Parts are length-prefixed, so `("ab", "c")` and `("a", "bc")` never collide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// Starts an AAD with the kind of value it protects (`"credential"`, `"client_secret"`, ...).
    pub fn new(purpose: &str) -> Self {
        Self(Vec::new()).with(purpose)
    }

    /// Appends one part, such as an environment id, a row id or a version number.
    pub fn with(mut self, part: impl AsRef<[u8]>) -> Self {
        let part = part.as_ref();
        // Parts are ids and short labels; u32 is far beyond any of them.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(part);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> SymmetricKey {
        SymmetricKey::new(id, &random_key_bytes()).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_aad() {
        let key = key("dk_test");
        let aad = Aad::new("credential").with("env_1").with("crd_1");
        let envelope = key.seal(&aad, b"EAAB-token").unwrap();
        assert_eq!(Envelope::parse(&envelope).unwrap().key_id, "dk_test");
        assert_eq!(key.open(&aad, &envelope).unwrap().as_slice(), b"EAAB-token");
        assert!(!envelope.windows(4).any(|w| w == b"EAAB"));
    }

    #[test]
    fn another_row_or_another_key_cannot_open_it() {
        let key1 = key("dk_1");
        let aad = Aad::new("credential").with("env_1").with("crd_1");
        let envelope = key1.seal(&aad, b"secret").unwrap();
        let other_row = Aad::new("credential").with("env_1").with("crd_2");
        assert!(matches!(
            key1.open(&other_row, &envelope),
            Err(VaultError::IntegrityCheckFailed)
        ));
        let key2 = key("dk_2");
        assert!(matches!(
            key2.open(&aad, &envelope),
            Err(VaultError::WrongKey { .. })
        ));
    }

    #[test]
    fn tampering_with_any_byte_is_detected() {
        let key = key("dk_1");
        let aad = Aad::new("x");
        let envelope = key.seal(&aad, b"payload").unwrap();
        for i in 0..envelope.len() {
            let mut tampered = envelope.clone();
            tampered[i] ^= 0x01;
            assert!(key.open(&aad, &tampered).is_err(), "byte {i} flipped");
        }
        assert!(key.open(&aad, &envelope[..10]).is_err());
        assert!(key.open(&aad, &[]).is_err());
    }

    #[test]
    fn aad_parts_are_unambiguous() {
        assert_ne!(
            Aad::new("p").with("ab").with("c"),
            Aad::new("p").with("a").with("bc")
        );
    }
}
