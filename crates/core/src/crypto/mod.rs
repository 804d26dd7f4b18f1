//! The only place in tixpay that touches cryptographic libraries.
//!
//! RSA, HMAC, SHA and AES come from aws-lc-rs, the library reqwest's default rustls already
//! builds, so one crypto stack is compiled. MD5, which aws-lc-rs does not offer and two
//! providers still require, comes from `md-5`. Keys are parsed once, when a configuration is
//! built, never per request.
//!
//! ```
//! use tixpay_core::crypto;
//!
//! // Vector J1 (Lianhe): base64(HMAC-SHA1(clientSecret, string to sign)).
//! let mac = crypto::hmac_sha1(
//!     b"0123456789abcdef-not-a-real-secret",
//!     b"POST /openapi/index.php?method=creatOrder\nWed, 06 May 2015 10:34:20 GMT",
//! );
//! assert_eq!(crypto::base64::encode(mac), "LPFj3zf7Bhbfu52GjJD8TVAmLz0=");
//! ```

mod der;
pub mod gcm;
mod oaep;

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::{aead, constant_time, digest, hmac, rand, rsa, signature};
use md5::Digest as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer, SubjectPublicKeyInfoDer};

use crate::secret::REDACTED;

/// A cryptographic operation failed. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CryptoError {
    /// A key or certificate could not be parsed or has the wrong size.
    InvalidKey(String),
    /// Encoded input (base64, hex, PEM) is malformed.
    Malformed(String),
    /// A signature did not verify.
    BadSignature,
    /// AEAD decryption failed: wrong key, nonce, associated data, or tampered ciphertext.
    DecryptFailed,
    /// The crypto library refused the operation.
    Failed(&'static str),
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::Malformed(why) => write!(f, "malformed input: {why}"),
            Self::BadSignature => f.write_str("signature does not verify"),
            Self::DecryptFailed => f.write_str("decryption failed (wrong key or tampered data)"),
            Self::Failed(what) => write!(f, "{what} failed"),
        }
    }
}

impl std::error::Error for CryptoError {}

/// Fills `buf` with bytes from the operating system's CSPRNG.
///
/// Nonces and keys come from here and nowhere else. Should the generator ever fail, the
/// error says so ([`ErrorKind::Crypto`](crate::ErrorKind::Crypto)) and the caller sends
/// nothing: there is no fallback to a weaker source.
pub fn fill_random(buf: &mut [u8]) -> Result<(), crate::Error> {
    fill_with(buf, |b| rand::fill(b).map_err(|_| ()))
}

/// The one path from a random source to the caller: the source's failure becomes a typed
/// error, never a silent substitute.
fn fill_with(
    buf: &mut [u8],
    source: impl FnOnce(&mut [u8]) -> Result<(), ()>,
) -> Result<(), crate::Error> {
    #[cfg(test)]
    if tests::RNG_FAILS.with(std::cell::Cell::get) {
        return Err(random_failed());
    }
    source(buf).map_err(|()| random_failed())
}

fn random_failed() -> crate::Error {
    crate::Error::new(crate::ErrorKind::Crypto {
        message: "the operating system's random number generator failed".into(),
    })
}

/// MD5 digest. Only for the providers that still sign with it (LeShua, Hawk key derivation).
pub fn md5(data: &[u8]) -> [u8; 16] {
    md5::Md5::digest(data).into()
}

/// SHA-256 digest.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// SHA-1 digest (legacy; Hawk with `sha1`).
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let d = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    out
}

/// A digest computed in pieces, for inputs assembled from parts (Hawk's payload hash).
pub struct Sha256Context(digest::Context);

impl Sha256Context {
    /// A fresh context.
    pub fn new() -> Self {
        Self(digest::Context::new(&digest::SHA256))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

impl Default for Sha256Context {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sha256Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha256Context")
    }
}

/// A SHA-1 digest computed in pieces (the hash of a streamed bill file).
pub struct Sha1Context(digest::Context);

impl Sha1Context {
    /// A fresh context.
    pub fn new() -> Self {
        Self(digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The digest.
    pub fn finish(self) -> [u8; 20] {
        let mut out = [0u8; 20];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

impl Default for Sha1Context {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sha1Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sha1Context")
    }
}

/// HMAC-SHA1 (Lianhe's `LH` scheme, Hawk with sha1).
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        data,
    );
    let mut out = [0u8; 20];
    out.copy_from_slice(tag.as_ref());
    out
}

/// HMAC-SHA256 (Hawk, WeChat's front-end invoke signature).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// The hash behind an [`HmacKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HmacAlgorithm {
    /// HMAC-SHA1 (legacy; Lianhe and optional in Hawk).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
}

/// An HMAC key prepared once and reused for every signature.
///
/// ```
/// use tixpay_core::crypto::{HmacAlgorithm, HmacKey};
/// let key = HmacKey::new(HmacAlgorithm::Sha256, b"key");
/// let tag = key.sign(b"message");
/// assert!(key.verify(b"message", &tag));
/// assert!(!key.verify(b"massage", &tag));
/// assert_eq!(format!("{key:?}"), "HmacKey(Sha256, [redacted])");
/// ```
#[derive(Clone)]
pub struct HmacKey {
    algorithm: HmacAlgorithm,
    key: hmac::Key,
}

impl HmacKey {
    /// Prepares `key` for `algorithm`.
    pub fn new(algorithm: HmacAlgorithm, key: &[u8]) -> Self {
        let alg = match algorithm {
            HmacAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HmacAlgorithm::Sha256 => hmac::HMAC_SHA256,
        };
        Self {
            algorithm,
            key: hmac::Key::new(alg, key),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HmacAlgorithm {
        self.algorithm
    }

    /// The tag of `data`.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        hmac::sign(&self.key, data).as_ref().to_vec()
    }

    /// The tag of the concatenation of `parts`, without copying them together.
    pub fn sign_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.key);
        for part in parts {
            ctx.update(part);
        }
        ctx.sign().as_ref().to_vec()
    }

    /// Whether `tag` is the tag of `data`, compared in constant time.
    pub fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        hmac::verify(&self.key, data, tag).is_ok()
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({:?}, {REDACTED})", self.algorithm)
    }
}

/// Whether `a == b`, in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Whether two ASCII strings (hex signatures) are equal ignoring case, in time that depends
/// only on the lengths.
pub fn constant_time_eq_ignore_ascii_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let a = a.to_ascii_uppercase();
    let b = b.to_ascii_uppercase();
    constant_time::verify_slices_are_equal(&a, &b).is_ok()
}

/// Standard base64 (RFC 4648 §4, with padding), strict on decode.
pub mod base64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::CryptoError;

    /// Encodes with padding.
    pub fn encode(data: impl AsRef<[u8]>) -> String {
        STANDARD.encode(data)
    }

    /// Decodes; rejects whitespace, missing padding and non-canonical trailing bits.
    pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, CryptoError> {
        STANDARD
            .decode(text)
            .map_err(|e| CryptoError::Malformed(format!("base64: {e}")))
    }
}

/// Hexadecimal encoding.
pub mod hex {
    use super::CryptoError;

    const LOWER: &[u8; 16] = b"0123456789abcdef";
    const UPPER: &[u8; 16] = b"0123456789ABCDEF";

    fn encode_with(data: &[u8], table: &[u8; 16]) -> String {
        let mut out = String::with_capacity(data.len() * 2);
        for &b in data {
            for nibble in [b >> 4, b & 0x0F] {
                let c = table.get(usize::from(nibble)).copied().unwrap_or(b'0');
                out.push(char::from(c));
            }
        }
        out
    }

    /// Lower-case hex.
    pub fn encode_lower(data: impl AsRef<[u8]>) -> String {
        encode_with(data.as_ref(), LOWER)
    }

    /// Upper-case hex.
    pub fn encode_upper(data: impl AsRef<[u8]>) -> String {
        encode_with(data.as_ref(), UPPER)
    }

    /// Decodes hex of either case.
    pub fn decode(text: &str) -> Result<Vec<u8>, CryptoError> {
        fn value(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            }
        }
        let bytes = text.as_bytes();
        if !bytes.len().is_multiple_of(2) {
            return Err(CryptoError::Malformed("hex: odd length".into()));
        }
        bytes
            .chunks_exact(2)
            .map(|pair| match pair {
                [hi, lo] => Some((value(*hi)? << 4) | value(*lo)?),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| CryptoError::Malformed("hex: invalid digit".into()))
    }
}

/// MD5 as 32 upper-case hex characters (LeShua `sign`, the ticket system's `UPPER_MD5`).
pub fn md5_hex_upper(data: &[u8]) -> String {
    hex::encode_upper(md5(data))
}

/// An RSA private key for SHA256withRSA (PKCS#1 v1.5) signatures, parsed once.
///
/// `Debug` never shows the key.
///
/// ```no_run
/// use tixpay_core::crypto::RsaPrivateKey;
/// let pem = std::fs::read_to_string("apiclient_key.pem")?;
/// let key = RsaPrivateKey::from_pkcs8_pem(&pem)?;
/// let signature = key.sign_sha256(b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RsaPrivateKey {
    key: signature::RsaKeyPair,
}

impl RsaPrivateKey {
    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
            CryptoError::InvalidKey(format!("expected a PKCS#8 PEM private key: {e}"))
        })?;
        Self::from_pkcs8_der(der.secret_pkcs8_der())
    }

    /// Parses PKCS#8 DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = signature::RsaKeyPair::from_pkcs8(der)
            .map_err(|e| CryptoError::InvalidKey(format!("RSA private key rejected: {e}")))?;
        Ok(Self { key })
    }

    /// A fresh 2048-bit key (for sandboxes and tests).
    pub fn generate() -> Result<Self, CryptoError> {
        let key = signature::RsaKeyPair::generate(rsa::KeySize::Rsa2048)
            .map_err(|_| CryptoError::Failed("RSA key generation"))?;
        Ok(Self { key })
    }

    /// The key as PKCS#8 PEM, for handing a generated sandbox key to a client configuration.
    pub fn to_pkcs8_pem(&self) -> Result<String, CryptoError> {
        let der = self
            .key
            .as_der()
            .map_err(|_| CryptoError::Failed("PKCS#8 encoding"))?;
        Ok(pem_encode("PRIVATE KEY", der.as_ref()))
    }

    /// SHA256withRSA, PKCS#1 v1.5, over `message`.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &rand::SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| CryptoError::Failed("RSA signing"))?;
        Ok(sig)
    }

    /// The matching public key.
    pub fn public_key(&self) -> Result<RsaPublicKey, CryptoError> {
        use signature::KeyPair as _;
        RsaPublicKey::from_pkcs1_der(self.key.public_key().as_ref())
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey({REDACTED})")
    }
}

/// An RSA public key for verifying SHA256withRSA (PKCS#1 v1.5) signatures, parsed once.
/// Cloning shares the parsed key (no copy, no allocation).
#[derive(Clone)]
pub struct RsaPublicKey {
    inner: std::sync::Arc<ParsedRsa>,
}

struct ParsedRsa {
    key: signature::ParsedPublicKey,
    pkcs1: Box<[u8]>,
}

impl RsaPublicKey {
    /// Parses an X.509 `SubjectPublicKeyInfo` PEM (`-----BEGIN PUBLIC KEY-----`), the form in
    /// which WeChat Pay hands out its public key.
    pub fn from_spki_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = SubjectPublicKeyInfoDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| CryptoError::InvalidKey(format!("expected a PEM public key: {e}")))?;
        Self::from_spki_der(der.as_ref())
    }

    /// Parses `SubjectPublicKeyInfo` DER.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let pkcs1 = der::spki_rsa_key(der)
            .ok_or_else(|| CryptoError::InvalidKey("not an RSA SubjectPublicKeyInfo".into()))?;
        Self::from_pkcs1_der(pkcs1)
    }

    /// Parses PKCS#1 `RSAPublicKey` DER.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, CryptoError> {
        let key = signature::ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der)
            .map_err(|e| CryptoError::InvalidKey(format!("RSA public key rejected: {e}")))?;
        Ok(Self {
            inner: std::sync::Arc::new(ParsedRsa {
                key,
                pkcs1: Box::from(der),
            }),
        })
    }

    /// The key as `SubjectPublicKeyInfo` PEM.
    pub fn to_spki_pem(&self) -> String {
        // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0, RSAPublicKey } }
        let alg: &[u8] = &[
            0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut bits = vec![0u8];
        bits.extend_from_slice(&self.inner.pkcs1);
        let mut body = alg.to_vec();
        body.extend(der_tlv(0x03, &bits));
        pem_encode("PUBLIC KEY", &der_tlv(0x30, &body))
    }

    /// Verifies a SHA256withRSA (PKCS#1 v1.5) `signature` over `message`.
    pub fn verify_sha256(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.inner
            .key
            .verify_sig(message, signature)
            .map_err(|_| CryptoError::BadSignature)
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({} bytes)", self.inner.pkcs1.len())
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// An X.509 certificate, reduced to what signature verification needs: its serial number,
/// validity and RSA public key.
#[derive(Clone)]
pub struct Certificate {
    serial: String,
    not_before: i64,
    not_after: i64,
    public_key: RsaPublicKey,
}

impl Certificate {
    /// Parses the first certificate in a PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, CryptoError> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| CryptoError::InvalidKey(format!("expected a PEM certificate: {e}")))?;
        Self::from_der(der.as_ref())
    }

    /// Parses DER.
    pub fn from_der(der: &[u8]) -> Result<Self, CryptoError> {
        let parts = der::certificate(der).ok_or_else(|| {
            CryptoError::InvalidKey("not an X.509 certificate with an RSA key".into())
        })?;
        Ok(Self {
            serial: hex::encode_upper(parts.serial),
            not_before: parts.not_before,
            not_after: parts.not_after,
            public_key: RsaPublicKey::from_pkcs1_der(parts.rsa_public_key)?,
        })
    }

    /// The serial number in upper-case hex, without leading zero bytes (the form WeChat Pay
    /// uses in `Wechatpay-Serial`).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Start of validity, seconds since the Unix epoch.
    pub fn not_before(&self) -> i64 {
        self.not_before
    }

    /// End of validity, seconds since the Unix epoch.
    pub fn not_after(&self) -> i64 {
        self.not_after
    }

    /// Whether the certificate is valid at `unix` seconds.
    pub fn is_valid_at(&self, unix: i64) -> bool {
        self.not_before <= unix && unix <= self.not_after
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public_key
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("serial", &self.serial)
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// An AES-256-GCM key (WeChat Pay's APIv3 key: `AEAD_AES_256_GCM`). Exactly 32 bytes.
///
/// ```
/// use tixpay_core::crypto::AesGcmKey;
/// // Vector W3.
/// let key = AesGcmKey::new(b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb")?;
/// let ct = tixpay_core::crypto::base64::decode("ulwSiIajGClcvcOYvOQ7+l+0PAbzzwI=")?;
/// assert_eq!(key.open(b"uluk4a9R25RW", b"associatedData", &ct)?, b"message");
/// assert!(AesGcmKey::new(b"too short").is_err());
/// # Ok::<(), tixpay_core::crypto::CryptoError>(())
/// ```
pub struct AesGcmKey {
    key: aead::LessSafeKey,
}

impl AesGcmKey {
    /// The key; an error unless it is exactly 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != 32 {
            return Err(CryptoError::InvalidKey(format!(
                "AES-256-GCM needs a 32-byte key, got {} bytes",
                key.len()
            )));
        }
        let unbound = aead::UnboundKey::new(&aead::AES_256_GCM, key)
            .map_err(|_| CryptoError::InvalidKey("AES-256-GCM key rejected".into()))?;
        Ok(Self {
            key: aead::LessSafeKey::new(unbound),
        })
    }

    fn nonce(nonce: &[u8]) -> Result<aead::Nonce, CryptoError> {
        aead::Nonce::try_assume_unique_for_key(nonce).map_err(|_| {
            CryptoError::Malformed(format!("GCM nonce must be 12 bytes, got {}", nonce.len()))
        })
    }

    /// Encrypts `plaintext`; returns ciphertext with the 16-byte tag appended.
    pub fn seal(&self, nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Self::nonce(nonce)?, aead::Aad::from(aad), &mut in_out)
            .map_err(|_| CryptoError::Failed("AES-GCM encryption"))?;
        Ok(in_out)
    }

    /// Decrypts ciphertext with the 16-byte tag appended; fails on any tampering.
    pub fn open(
        &self,
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(Self::nonce(nonce)?, aead::Aad::from(aad), &mut in_out)
            .map_err(|_| CryptoError::DecryptFailed)?;
        let len = plain.len();
        in_out.truncate(len);
        Ok(in_out)
    }
}

impl fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesGcmKey({REDACTED})")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    thread_local! {
        /// The test seam: while set, the CSPRNG reports failure on this thread.
        pub(crate) static RNG_FAILS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Runs `f` with a CSPRNG that fails, as `aws_lc_rs::rand::fill` would if the operating
    /// system could not supply randomness.
    pub(crate) fn with_failing_rng<T>(f: impl FnOnce() -> T) -> T {
        RNG_FAILS.with(|c| c.set(true));
        let out = f();
        RNG_FAILS.with(|c| c.set(false));
        out
    }

    #[test]
    fn a_failing_random_source_is_a_typed_error_not_a_fallback() {
        let mut buf = [0u8; 16];
        let err = fill_with(&mut buf, |_| Err(())).unwrap_err();
        assert!(
            matches!(err.kind(), crate::ErrorKind::Crypto { .. }),
            "{err:?}"
        );
        assert!(!err.may_have_been_sent());
        assert_eq!(
            buf, [0u8; 16],
            "nothing may be written in place of randomness"
        );
        let err = with_failing_rng(|| fill_random(&mut buf)).unwrap_err();
        assert!(matches!(err.kind(), crate::ErrorKind::Crypto { .. }));
        assert!(fill_random(&mut buf).is_ok());
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(hex::encode_lower([0x0a, 0xff]), "0aff");
        assert_eq!(hex::encode_upper([0x0a, 0xff]), "0AFF");
        assert_eq!(hex::decode("0aFF"), Ok(vec![0x0a, 0xff]));
        assert!(hex::decode("0").is_err());
        assert!(hex::decode("zz").is_err());
        assert!(hex::decode("票").is_err());
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(base64::decode("aGk="), Ok(b"hi".to_vec()));
        assert!(base64::decode("aGk").is_err());
        assert!(base64::decode("aG k=").is_err());
        assert!(base64::decode("WECHATPAY/SIGNTEST/").is_err());
    }

    #[test]
    fn constant_time_comparisons() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq_ignore_ascii_case(b"0b57AF", b"0B57af"));
        assert!(!constant_time_eq_ignore_ascii_case(b"0b57AF", b"0B57ae"));
    }

    #[test]
    fn sha1_known_answer() {
        assert_eq!(
            hex::encode_lower(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn sha256_context_matches_one_shot() {
        let mut ctx = Sha256Context::new();
        ctx.update(b"hawk.1.payload\n");
        ctx.update(b"text/plain\n");
        assert_eq!(ctx.finish(), sha256(b"hawk.1.payload\ntext/plain\n"));
    }

    #[test]
    fn sha1_context_matches_one_shot() {
        let mut ctx = Sha1Context::new();
        ctx.update(b"ab");
        ctx.update(b"");
        ctx.update(b"c");
        assert_eq!(ctx.finish(), sha1(b"abc"));
        assert_eq!(Sha1Context::default().finish(), sha1(b""));
    }

    #[test]
    fn hmac_key_sign_parts_equals_sign() {
        let k = HmacKey::new(HmacAlgorithm::Sha1, b"k");
        assert_eq!(k.sign_parts(&[b"ab", b"cd"]), k.sign(b"abcd"));
        assert_eq!(k.sign(b"abcd"), hmac_sha1(b"k", b"abcd").to_vec());
        assert_eq!(k.algorithm(), HmacAlgorithm::Sha1);
    }

    #[test]
    fn aes_gcm_rejects_bad_nonce_length() {
        let key = AesGcmKey::new(&[7u8; 32]);
        assert!(key.is_ok());
        if let Ok(key) = key {
            assert!(matches!(
                key.seal(b"short", b"", b"x"),
                Err(CryptoError::Malformed(_))
            ));
            assert!(matches!(
                key.open(b"short", b"", b"x"),
                Err(CryptoError::Malformed(_))
            ));
            assert_eq!(
                key.open(b"123456789012", b"", b"tiny"),
                Err(CryptoError::DecryptFailed)
            );
        }
    }
}
