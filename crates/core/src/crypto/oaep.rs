//! RSA-OAEP with SHA-1 and MGF1-SHA-1 (`RSA/ECB/OAEPWithSHA-1AndMGF1Padding`,
//! OpenSSL's `RSA_PKCS1_OAEP_PADDING`): how WeChat Pay protects data it sends to a merchant
//! under the merchant's public key, such as the `encrypt_key` of an encrypted bill file.
//!
//! ```
//! use tixpay_core::crypto::RsaPrivateKey;
//!
//! let merchant = RsaPrivateKey::generate()?;
//! let wrapped = merchant.public_key()?.encrypt_oaep_sha1(b"a 32-byte AES key, for example..")?;
//! assert_eq!(merchant.decrypt_oaep_sha1(&wrapped)?, b"a 32-byte AES key, for example..");
//! # Ok::<(), tixpay_core::crypto::CryptoError>(())
//! ```

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PrivateDecryptingKey,
    PublicEncryptingKey,
};
use zeroize::Zeroize;

use super::{CryptoError, RsaPrivateKey, RsaPublicKey, der_tlv};

impl RsaPublicKey {
    /// Encrypts `plaintext` with RSA-OAEP (SHA-1, MGF1-SHA-1, no label). At most the key's
    /// size in bytes minus 42 bytes fit.
    pub fn encrypt_oaep_sha1(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = PublicEncryptingKey::from_der(&self.spki_der())
            .map_err(|e| CryptoError::InvalidKey(format!("RSA public key rejected: {e}")))?;
        let key = OaepPublicEncryptingKey::new(key)
            .map_err(|_| CryptoError::Failed("RSA-OAEP key setup"))?;
        if plaintext.len() > key.max_plaintext_size(&OAEP_SHA1_MGF1SHA1) {
            return Err(CryptoError::Malformed(format!(
                "RSA-OAEP input of {} bytes is longer than the key allows",
                plaintext.len()
            )));
        }
        let mut out = vec![0u8; key.ciphertext_size()];
        let len = key
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
            .map_err(|_| CryptoError::Failed("RSA-OAEP encryption"))?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// The key as `SubjectPublicKeyInfo` DER.
    fn spki_der(&self) -> Vec<u8> {
        // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0, RSAPublicKey } }
        const ALGORITHM: &[u8] = &[
            0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut bits = vec![0u8];
        bits.extend_from_slice(&self.inner.pkcs1);
        let mut body = ALGORITHM.to_vec();
        body.extend(der_tlv(0x03, &bits));
        der_tlv(0x30, &body)
    }
}

impl RsaPrivateKey {
    /// Decrypts an RSA-OAEP (SHA-1, MGF1-SHA-1, no label) `ciphertext`. Any failure, a wrong
    /// key included, is [`CryptoError::DecryptFailed`]; which check failed is not told.
    pub fn decrypt_oaep_sha1(&self, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut pkcs8 = self
            .key
            .as_der()
            .map_err(|_| CryptoError::Failed("PKCS#8 encoding"))?
            .as_ref()
            .to_vec();
        let key = PrivateDecryptingKey::from_pkcs8(&pkcs8);
        pkcs8.zeroize();
        let key =
            key.map_err(|e| CryptoError::InvalidKey(format!("RSA private key rejected: {e}")))?;
        let key = OaepPrivateDecryptingKey::new(key)
            .map_err(|_| CryptoError::Failed("RSA-OAEP key setup"))?;
        let mut out = vec![0u8; key.min_output_size()];
        let result = key
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
            .map(|plain| plain.len());
        match result {
            Ok(len) => {
                if let Some(rest) = out.get_mut(len..) {
                    rest.zeroize();
                }
                out.truncate(len);
                Ok(out)
            }
            Err(_) => {
                out.zeroize();
                Err(CryptoError::DecryptFailed)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn round_trip_and_wrong_key() {
        let merchant = RsaPrivateKey::generate().unwrap();
        let other = RsaPrivateKey::generate().unwrap();
        let aes_key = [0x5Au8; 32];
        let wrapped = merchant
            .public_key()
            .unwrap()
            .encrypt_oaep_sha1(&aes_key)
            .unwrap();
        assert_eq!(wrapped.len(), 256);
        assert_eq!(merchant.decrypt_oaep_sha1(&wrapped).unwrap(), aes_key);
        // OAEP is randomized: the same input wraps differently.
        let again = merchant
            .public_key()
            .unwrap()
            .encrypt_oaep_sha1(&aes_key)
            .unwrap();
        assert_ne!(wrapped, again);
        assert_eq!(merchant.decrypt_oaep_sha1(&again).unwrap(), aes_key);
        assert_eq!(
            other.decrypt_oaep_sha1(&wrapped),
            Err(CryptoError::DecryptFailed)
        );
        let mut tampered = wrapped.clone();
        if let Some(b) = tampered.get_mut(100) {
            *b ^= 1;
        }
        assert_eq!(
            merchant.decrypt_oaep_sha1(&tampered),
            Err(CryptoError::DecryptFailed)
        );
        assert_eq!(
            merchant.decrypt_oaep_sha1(b"short"),
            Err(CryptoError::DecryptFailed)
        );
        assert_eq!(
            merchant.decrypt_oaep_sha1(&[]),
            Err(CryptoError::DecryptFailed)
        );
    }

    #[test]
    fn too_long_for_the_key_is_refused() {
        let key = RsaPrivateKey::generate().unwrap().public_key().unwrap();
        assert!(key.encrypt_oaep_sha1(&[0u8; 214]).is_ok());
        assert!(matches!(
            key.encrypt_oaep_sha1(&[0u8; 215]),
            Err(CryptoError::Malformed(_))
        ));
    }

    /// The `SubjectPublicKeyInfo` built for OAEP is the key's own.
    #[test]
    fn the_spki_form_matches_the_pem() {
        let key = RsaPrivateKey::generate().unwrap().public_key().unwrap();
        let again = RsaPublicKey::from_spki_der(&key.spki_der()).unwrap();
        assert_eq!(again.to_spki_pem(), key.to_spki_pem());
    }
}
