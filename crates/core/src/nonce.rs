//! Injectable nonces: [`NonceSource`], with [`RandomNonce`] for production and
//! [`FixedNonce`] / [`SequenceNonce`] for tests and golden vectors.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A source of request nonces.
///
/// Every provider that signs a nonce (LeShua `nonce_str`, WeChat `nonce_str`, Hawk `nonce`)
/// asks this source, so a test can fix it and compare against a golden signature.
///
/// A source that cannot produce a nonce returns an error and the call is not sent: a
/// predictable nonce would let a captured request be replayed.
pub trait NonceSource: Send + Sync + fmt::Debug {
    /// A fresh nonce of exactly `len` characters from `[0-9A-Za-z]`.
    fn nonce(&self, len: usize) -> Result<String, Error>;
}

/// A shared nonce source.
pub type SharedNonce = Arc<dyn NonceSource>;

/// Random alphanumeric nonces from the operating system's CSPRNG (through aws-lc-rs).
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomNonce;

impl NonceSource for RandomNonce {
    fn nonce(&self, len: usize) -> Result<String, Error> {
        random_alphanumeric(len)
    }
}

/// `len` random characters from `[0-9A-Za-z]`, uniformly distributed; an
/// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) error if the CSPRNG fails.
pub fn random_alphanumeric(len: usize) -> Result<String, Error> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        crate::crypto::fill_random(&mut buf)?;
        for b in buf {
            // 248 = 4 * 62: reject the tail so that every character is equally likely.
            if b < 248 && out.len() < len {
                let c = ALPHANUMERIC
                    .get(usize::from(b) % 62)
                    .copied()
                    .unwrap_or(b'0');
                out.push(char::from(c));
            }
        }
    }
    Ok(out)
}

/// Always the same nonce. `len` is ignored: the vector's nonce is returned as given.
///
/// ```
/// use tixpay_core::{FixedNonce, NonceSource};
/// assert_eq!(FixedNonce::new("A1B2C3D4E5F6G7").nonce(32)?, "A1B2C3D4E5F6G7");
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FixedNonce(String);

impl FixedNonce {
    /// A source that always answers `nonce`.
    pub fn new(nonce: impl Into<String>) -> Self {
        Self(nonce.into())
    }
}

impl NonceSource for FixedNonce {
    fn nonce(&self, _len: usize) -> Result<String, Error> {
        Ok(self.0.clone())
    }
}

/// `prefix` followed by a counter: `n1`, `n2`, … Distinct and predictable, for tests of
/// servers that reject a replayed nonce.
#[derive(Debug)]
pub struct SequenceNonce {
    prefix: String,
    next: AtomicU64,
}

impl SequenceNonce {
    /// A sequence starting at `prefix1`.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl NonceSource for SequenceNonce {
    fn nonce(&self, _len: usize) -> Result<String, Error> {
        Ok(format!(
            "{}{}",
            self.prefix,
            self.next.fetch_add(1, Ordering::SeqCst)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_nonce_has_length_and_charset() {
        for len in [0, 1, 6, 32, 100] {
            let n = RandomNonce.nonce(len).unwrap();
            assert_eq!(n.len(), len);
            assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        assert_ne!(
            RandomNonce.nonce(32).unwrap(),
            RandomNonce.nonce(32).unwrap()
        );
    }

    #[test]
    fn random_nonce_fails_closed_when_the_rng_fails() {
        let err = crate::crypto::tests::with_failing_rng(|| RandomNonce.nonce(32)).unwrap_err();
        assert!(
            matches!(err.kind(), crate::ErrorKind::Crypto { .. }),
            "{err:?}"
        );
        assert!(!err.may_have_been_sent());
        assert!(!err.is_retryable());
    }

    #[test]
    fn sequence_is_distinct() {
        let s = SequenceNonce::new("n");
        assert_eq!(s.nonce(6).unwrap(), "n1");
        assert_eq!(s.nonce(6).unwrap(), "n2");
    }
}
