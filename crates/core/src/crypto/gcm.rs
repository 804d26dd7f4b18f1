//! AES-256-GCM with a nonce of any length, one-shot or streamed.
//!
//! aws-lc-rs's AEAD API takes 96-bit nonces only, and WeChat Pay's bill files come with
//! 16- and 32-character nonces, which GCM (NIST SP 800-38D) allows: a nonce that is not 96
//! bits long is turned into the first counter block through GHASH. This module builds GCM
//! from aws-lc-rs's AES block cipher (ECB over counter blocks, so the counter is GCM's own
//! `inc32`, wrapping in its low 32 bits without carrying) and a GHASH of our own, written
//! without secret-dependent branches or table lookups.
//!
//! For 96-bit nonces the output equals aws-lc-rs's `AES_256_GCM` (tested); for 16- and 32-byte
//! nonces it equals the vectors of an independent implementation (tested).
//!
//! ```
//! use tixpay_core::crypto::gcm::{self, AesGcmDecryptor};
//!
//! let key = [7u8; 32];
//! let sealed = gcm::seal(&key, b"5K8264ILTKCH16CQ2502SI8ZNMTM67VS", b"", b"bill,line\n")?;
//!
//! // Streamed: plaintext comes out as ciphertext goes in, and is only trusted once
//! // `finish` has checked the tag.
//! let mut decryptor = AesGcmDecryptor::new(&key, b"5K8264ILTKCH16CQ2502SI8ZNMTM67VS", b"")?;
//! let mut plain = Vec::new();
//! for piece in sealed.chunks(5) {
//!     decryptor.update(piece, &mut plain)?;
//! }
//! decryptor.finish()?;
//! assert_eq!(plain, b"bill,line\n");
//! # Ok::<(), tixpay_core::crypto::CryptoError>(())
//! ```

use std::fmt;

use aws_lc_rs::cipher::{AES_256, EncryptingKey, UnboundCipherKey};

use super::{CryptoError, constant_time_eq};
use crate::secret::REDACTED;

/// The length of a GCM tag, appended to the ciphertext.
pub const TAG_LEN: usize = 16;

const BLOCK: usize = 16;
/// Counter blocks encrypted per call into AES (1 KiB of keystream).
const BATCH_BLOCKS: usize = 64;
/// The most ciphertext one nonce may cover: 2^32 − 2 blocks (SP 800-38D §5.2.1.1).
const MAX_TEXT_BYTES: u64 = ((1u64 << 32) - 2) * BLOCK as u64;

/// GHASH (SP 800-38D §6.4) over a stream of bytes, zero-padding each section to a block.
#[derive(Clone)]
struct Ghash {
    h: u128,
    y: u128,
    pending: [u8; BLOCK],
    pending_len: usize,
}

/// `x • y` in GF(2^128) as GCM defines it (bit 0 is the most significant bit of the first
/// byte, so a block read big-endian has bit 0 at the top). No branch or index depends on the
/// operands.
fn gf_mul(x: u128, y: u128) -> u128 {
    const R: u128 = 0xE1 << 120;
    let mut z = 0u128;
    let mut v = y;
    for i in (0..128).rev() {
        let bit = (x >> i) & 1;
        z ^= v & 0u128.wrapping_sub(bit);
        let lsb = v & 1;
        v = (v >> 1) ^ (R & 0u128.wrapping_sub(lsb));
    }
    z
}

impl Ghash {
    fn new(h: u128) -> Self {
        Self {
            h,
            y: 0,
            pending: [0; BLOCK],
            pending_len: 0,
        }
    }

    fn block(&mut self, block: [u8; BLOCK]) {
        self.y = gf_mul(self.y ^ u128::from_be_bytes(block), self.h);
    }

    fn update(&mut self, mut data: &[u8]) {
        if self.pending_len > 0 {
            let take = (BLOCK - self.pending_len).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(slot) = self
                .pending
                .get_mut(self.pending_len..self.pending_len + take)
            {
                slot.copy_from_slice(head);
            }
            self.pending_len += take;
            data = rest;
            if self.pending_len < BLOCK {
                return;
            }
            let full = self.pending;
            self.block(full);
            self.pending_len = 0;
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for chunk in &mut blocks {
            let mut b = [0u8; BLOCK];
            b.copy_from_slice(chunk);
            self.block(b);
        }
        let rest = blocks.remainder();
        if let Some(slot) = self.pending.get_mut(..rest.len()) {
            slot.copy_from_slice(rest);
        }
        self.pending_len = rest.len();
    }

    /// Ends a section: a partial block is zero-padded.
    fn pad(&mut self) {
        if self.pending_len > 0 {
            let mut b = [0u8; BLOCK];
            if let (Some(dst), Some(src)) = (
                b.get_mut(..self.pending_len),
                self.pending.get(..self.pending_len),
            ) {
                dst.copy_from_slice(src);
            }
            self.block(b);
            self.pending_len = 0;
        }
    }
}

/// The keyed cipher and the running state of one message.
struct Gcm {
    aes: EncryptingKey,
    /// `E(K, J0)`, masking the tag.
    ek_j0: [u8; BLOCK],
    /// The upper 96 bits of every counter block.
    prefix: [u8; 12],
    /// The low 32 bits of the next counter block.
    counter: u32,
    keystream: [u8; BLOCK * BATCH_BLOCKS],
    keystream_pos: usize,
    ghash: Ghash,
    aad_len: u64,
    text_len: u64,
}

impl Gcm {
    fn new(key: &[u8], nonce: &[u8], aad: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != 32 {
            return Err(CryptoError::InvalidKey(format!(
                "AES-256-GCM needs a 32-byte key, got {} bytes",
                key.len()
            )));
        }
        if nonce.is_empty() {
            return Err(CryptoError::Malformed("a GCM nonce cannot be empty".into()));
        }
        let unbound = UnboundCipherKey::new(&AES_256, key)
            .map_err(|_| CryptoError::InvalidKey("AES-256 key rejected".into()))?;
        let aes = EncryptingKey::ecb(unbound)
            .map_err(|_| CryptoError::InvalidKey("AES-256 key rejected".into()))?;
        let mut h = [0u8; BLOCK];
        ecb(&aes, &mut h)?;
        let h = u128::from_be_bytes(h);
        let j0 = if nonce.len() == 12 {
            let mut j0 = [0u8; BLOCK];
            if let Some(dst) = j0.get_mut(..12) {
                dst.copy_from_slice(nonce);
            }
            j0[15] = 1;
            j0
        } else {
            // J0 = GHASH(IV || 0^(s+64) || [len(IV)]_64).
            let mut g = Ghash::new(h);
            g.update(nonce);
            g.pad();
            let bits = (nonce.len() as u64).wrapping_mul(8);
            let mut lens = [0u8; BLOCK];
            lens[8..].copy_from_slice(&bits.to_be_bytes());
            g.block(lens);
            g.y.to_be_bytes()
        };
        Self::from_j0(aes, h, j0, aad)
    }

    fn from_j0(
        aes: EncryptingKey,
        h: u128,
        j0: [u8; BLOCK],
        aad: &[u8],
    ) -> Result<Self, CryptoError> {
        let mut ek_j0 = j0;
        ecb(&aes, &mut ek_j0)?;
        let mut prefix = [0u8; 12];
        prefix.copy_from_slice(&j0[..12]);
        let low = u32::from_be_bytes([j0[12], j0[13], j0[14], j0[15]]);
        let mut ghash = Ghash::new(h);
        ghash.update(aad);
        ghash.pad();
        Ok(Self {
            aes,
            ek_j0,
            prefix,
            // The first block of text uses inc32(J0).
            counter: low.wrapping_add(1),
            keystream: [0; BLOCK * BATCH_BLOCKS],
            keystream_pos: BLOCK * BATCH_BLOCKS,
            ghash,
            aad_len: aad.len() as u64,
            text_len: 0,
        })
    }

    fn refill(&mut self) -> Result<(), CryptoError> {
        for block in self.keystream.chunks_exact_mut(BLOCK) {
            let (high, low) = block.split_at_mut(12);
            high.copy_from_slice(&self.prefix);
            low.copy_from_slice(&self.counter.to_be_bytes());
            // inc32: the low 32 bits wrap; the prefix never changes.
            self.counter = self.counter.wrapping_add(1);
        }
        ecb(&self.aes, &mut self.keystream)?;
        self.keystream_pos = 0;
        Ok(())
    }

    /// XORs the keystream into `data` (CTR mode: the same for both directions).
    fn apply_keystream(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        let len = data.len() as u64;
        if self.text_len.saturating_add(len) > MAX_TEXT_BYTES {
            return Err(CryptoError::Malformed(
                "GCM message longer than one nonce may cover".into(),
            ));
        }
        self.text_len += len;
        let mut data = data;
        while !data.is_empty() {
            if self.keystream_pos == self.keystream.len() {
                self.refill()?;
            }
            let available = self.keystream.get(self.keystream_pos..).unwrap_or(&[]);
            let n = available.len().min(data.len());
            let (now, later) = data.split_at_mut(n);
            for (d, k) in now.iter_mut().zip(available) {
                *d ^= k;
            }
            self.keystream_pos += n;
            data = later;
        }
        Ok(())
    }

    fn tag(mut self) -> [u8; TAG_LEN] {
        self.ghash.pad();
        let mut lens = [0u8; BLOCK];
        lens[..8].copy_from_slice(&self.aad_len.wrapping_mul(8).to_be_bytes());
        lens[8..].copy_from_slice(&self.text_len.wrapping_mul(8).to_be_bytes());
        self.ghash.block(lens);
        let s = self.ghash.y.to_be_bytes();
        let mut tag = [0u8; TAG_LEN];
        for ((t, a), b) in tag.iter_mut().zip(s).zip(self.ek_j0) {
            *t = a ^ b;
        }
        tag
    }
}

/// Encrypts `in_out` (a whole number of blocks) with AES-256 in ECB mode.
fn ecb(aes: &EncryptingKey, in_out: &mut [u8]) -> Result<(), CryptoError> {
    aes.encrypt(in_out)
        .map(|_| ())
        .map_err(|_| CryptoError::Failed("AES block encryption"))
}

/// Decrypts `ciphertext || tag` as it arrives, in pieces of any size, with a nonce of any
/// non-zero length.
///
/// **The plaintext that [`update`](Self::update) hands out is unauthenticated** until
/// [`finish`](Self::finish) returns `Ok`: a caller must not act on it (hand out rows, move
/// files into place) before then, and must discard it if `finish` fails. The last
/// [`TAG_LEN`] bytes seen are held back as the tag, so the caller need not know where the
/// ciphertext ends. Memory is constant: one keystream batch and the held-back tag.
pub struct AesGcmDecryptor {
    gcm: Gcm,
    tail: [u8; TAG_LEN],
    tail_len: usize,
}

impl AesGcmDecryptor {
    /// A decryptor for one message. `key` must be 32 bytes; `nonce` may have any non-zero
    /// length (WeChat Pay bill files use the bytes of a 16- or 32-character string).
    pub fn new(key: &[u8], nonce: &[u8], aad: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self {
            gcm: Gcm::new(key, nonce, aad)?,
            tail: [0; TAG_LEN],
            tail_len: 0,
        })
    }

    /// Feeds the next bytes of `ciphertext || tag`; appends the plaintext they complete to
    /// `out` (unauthenticated until [`finish`](Self::finish)).
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let total = self.tail_len + input.len();
        let Some(ready) = total.checked_sub(TAG_LEN) else {
            // Everything seen so far may still be the tag.
            if let Some(slot) = self.tail.get_mut(self.tail_len..total) {
                slot.copy_from_slice(input);
            }
            self.tail_len = total;
            return Ok(());
        };
        let from_tail = ready.min(self.tail_len);
        let from_input = ready - from_tail;
        let start = out.len();
        out.extend_from_slice(self.tail.get(..from_tail).unwrap_or(&[]));
        out.extend_from_slice(input.get(..from_input).unwrap_or(&[]));
        let text = out.get_mut(start..).unwrap_or(&mut []);
        self.gcm.ghash.update(text);
        self.gcm.apply_keystream(text)?;
        // The new tail: what is left of the old one, then the rest of the input.
        let mut tail = [0u8; TAG_LEN];
        let kept = self.tail.get(from_tail..self.tail_len).unwrap_or(&[]);
        let rest = input.get(from_input..).unwrap_or(&[]);
        for (dst, src) in tail.iter_mut().zip(kept.iter().chain(rest)) {
            *dst = *src;
        }
        self.tail = tail;
        self.tail_len = TAG_LEN;
        Ok(())
    }

    /// Checks the tag. Only after `Ok` is the plaintext handed out by
    /// [`update`](Self::update) authentic; on an error it must be discarded.
    pub fn finish(self) -> Result<(), CryptoError> {
        if self.tail_len < TAG_LEN {
            return Err(CryptoError::DecryptFailed);
        }
        let expected = self.gcm.tag();
        if constant_time_eq(&expected, &self.tail) {
            Ok(())
        } else {
            Err(CryptoError::DecryptFailed)
        }
    }

    /// How many ciphertext bytes have been decrypted so far (the held-back tail excluded).
    pub fn decrypted_len(&self) -> u64 {
        self.gcm.text_len
    }
}

impl fmt::Debug for AesGcmDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesGcmDecryptor({REDACTED})")
    }
}

/// Encrypts `plaintext` with AES-256-GCM under a nonce of any non-zero length; returns the
/// ciphertext with the 16-byte tag appended.
pub fn seal(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut gcm = Gcm::new(key, nonce, aad)?;
    let mut out = plaintext.to_vec();
    gcm.apply_keystream(&mut out)?;
    gcm.ghash.update(&out);
    out.extend_from_slice(&gcm.tag());
    Ok(out)
}

/// Decrypts `ciphertext || tag` in one piece; the plaintext is returned only if the tag
/// verifies.
pub fn open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut decryptor = AesGcmDecryptor::new(key, nonce, aad)?;
    let mut out = Vec::with_capacity(sealed.len().saturating_sub(TAG_LEN));
    decryptor.update(sealed, &mut out)?;
    decryptor.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::crypto::{AesGcmKey, hex, sha256};

    const KEY: [u8; 32] = {
        let mut k = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            k[i] = i as u8;
            i += 1;
        }
        k
    };

    // Generated with Python's `cryptography` 48.0.0 (OpenSSL), independent of this code:
    //
    //     from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    //     key = bytes(range(32))
    //     AESGCM(key).encrypt(nonce, plaintext, aad or None).hex()
    //
    // (nonce, aad, plaintext hex, ciphertext || tag hex).
    const VECTORS: &[(&[u8], &[u8], &str, &str)] = &[
        (
            b"a8607ef79034c49c",
            b"",
            "7469787061792062696c6c206c696e6520310a6c696e6520322c60302e30310a",
            "b689047bdb33e1e68fc3c8630be6d90e42b727b4dcf0b1c79878e104a634d528a09e0694943a9dbcee2e5dc6ca4d43ec",
        ),
        (
            b"5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            b"",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f60616263",
            "554b015af4238c7414a3c081e13fadf598e86a3038e2f3ffcd7f02056c29a7a11f0fe10765011cea7b658bbae597d4ab25beb36d20f27abb521108e19c38f2049a297b7b418b7678e73bb7257cb16323fff62580d9b9b3cec1358d31ee2f97b959e3a98d178ae171ea45ec71c086249764778739",
        ),
        (
            b"a8607ef79034c49c",
            b"certificate",
            "787878787878787878787878787878787878787878787878787878787878787878",
            "ba980473c232b9fc9ed7dc3b1ff7cf131afe55a0cde6ac9fd22cf94cf07c9c5a8e6477851558fb8b2426c04b18821ea1de",
        ),
        (
            b"5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            b"",
            "",
            "b5ab1ae33e012586b989721f7668fa16",
        ),
    ];

    fn stream_open(
        nonce: &[u8],
        aad: &[u8],
        sealed: &[u8],
        piece: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut d = AesGcmDecryptor::new(&KEY, nonce, aad)?;
        let mut out = Vec::new();
        for p in sealed.chunks(piece.max(1)) {
            d.update(p, &mut out)?;
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn long_nonces_match_an_independent_implementation() {
        for (nonce, aad, plain, sealed) in VECTORS {
            let plain = hex::decode(plain).unwrap();
            let sealed = hex::decode(sealed).unwrap();
            assert_eq!(seal(&KEY, nonce, aad, &plain).unwrap(), sealed);
            assert_eq!(open(&KEY, nonce, aad, &sealed).unwrap(), plain);
            for piece in [1, 3, 15, 16, 17, 31, 1000] {
                assert_eq!(
                    stream_open(nonce, aad, &sealed, piece).unwrap(),
                    plain,
                    "piece {piece}"
                );
            }
        }
    }

    #[test]
    fn a_96_bit_nonce_matches_aws_lc_rs() {
        let reference = AesGcmKey::new(&KEY).unwrap();
        for len in [0usize, 1, 15, 16, 17, 1023, 1024, 1025, 5000] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            for aad in [&b""[..], b"payscore", b"seventeen bytes!!"] {
                let ours = seal(&KEY, b"uluk4a9R25RW", aad, &plain).unwrap();
                assert_eq!(
                    ours,
                    reference.seal(b"uluk4a9R25RW", aad, &plain).unwrap(),
                    "len {len}"
                );
                assert_eq!(stream_open(b"uluk4a9R25RW", aad, &ours, 7).unwrap(), plain);
            }
        }
    }

    /// The nonce below was searched for (Python, same key) so that its J0 has a low 32-bit
    /// counter 29 481 blocks before wrapping: inside 1 MiB, the counter wraps to 0 without
    /// carrying into the upper 96 bits (inc32). A CTR mode that carried would differ from
    /// there on. The digest is of `cryptography`'s `AESGCM(key).encrypt(nonce, bytes(1 << 20), None)`.
    #[test]
    fn the_counter_wraps_in_its_low_32_bits() {
        let nonce = b"wrapnonce0015984";
        let plain = vec![0u8; 1 << 20];
        let sealed = seal(&KEY, nonce, b"", &plain).unwrap();
        assert_eq!(
            hex::encode_lower(sha256(&sealed)),
            "72d2b40bafd3e53dc6a95875088b510bad799e9f25cae08b0a0685d8dd544738"
        );
        assert_eq!(
            hex::encode_lower(&sealed[sealed.len() - 16..]),
            "45640c43a47c98f96c0e05e5c614b285"
        );
        assert_eq!(stream_open(nonce, b"", &sealed, 65_537).unwrap(), plain);
    }

    #[test]
    fn any_change_fails_and_nothing_is_trusted() {
        let (nonce, aad, plain, sealed) = VECTORS[1];
        let sealed = hex::decode(sealed).unwrap();
        let plain = hex::decode(plain).unwrap();
        for i in [
            0,
            50,
            sealed.len() - 17,
            sealed.len() - 16,
            sealed.len() - 1,
        ] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&KEY, nonce, aad, &bad),
                Err(CryptoError::DecryptFailed),
                "byte {i}"
            );
        }
        // Another nonce, of another length, or the wrong key, or AAD: all fail.
        assert!(open(&KEY, b"5K8264ILTKCH16CQ2502SI8ZNMTM67VT", aad, &sealed).is_err());
        assert!(open(&KEY, b"5K8264ILTKCH16CQ2502SI8ZNMTM67V", aad, &sealed).is_err());
        assert!(open(&KEY, nonce, b"x", &sealed).is_err());
        let mut other = KEY;
        other[0] ^= 1;
        assert!(open(&other, nonce, aad, &sealed).is_err());
        // Truncated: the tag is short, or a different tail is taken for the tag.
        assert!(open(&KEY, nonce, aad, &sealed[..15]).is_err());
        assert!(open(&KEY, nonce, aad, &sealed[..sealed.len() - 1]).is_err());
        let d = AesGcmDecryptor::new(&KEY, nonce, aad).unwrap();
        assert_eq!(d.finish(), Err(CryptoError::DecryptFailed));
        // Appended bytes move the tag: fail.
        let mut longer = sealed.clone();
        longer.push(0);
        assert!(open(&KEY, nonce, aad, &longer).is_err());
        assert_eq!(open(&KEY, nonce, aad, &sealed).unwrap(), plain);
    }

    #[test]
    fn bad_keys_and_nonces_are_refused() {
        assert!(matches!(
            seal(&KEY[..16], b"n", b"", b""),
            Err(CryptoError::InvalidKey(_))
        ));
        assert!(matches!(
            seal(&KEY, b"", b"", b""),
            Err(CryptoError::Malformed(_))
        ));
        assert!(AesGcmDecryptor::new(&KEY, b"", b"").is_err());
        let d = AesGcmDecryptor::new(&KEY, b"n", b"").unwrap();
        assert_eq!(format!("{d:?}"), "AesGcmDecryptor([redacted])");
        assert_eq!(d.decrypted_len(), 0);
    }

    #[test]
    fn the_held_back_tail_is_not_counted_as_text() {
        let sealed = seal(&KEY, b"a8607ef79034c49c", b"", b"0123456789").unwrap();
        let mut d = AesGcmDecryptor::new(&KEY, b"a8607ef79034c49c", b"").unwrap();
        let mut out = Vec::new();
        d.update(&sealed[..20], &mut out).unwrap();
        assert_eq!(out.len(), 4, "the last 16 bytes seen may be the tag");
        assert_eq!(d.decrypted_len(), 4);
        d.update(&sealed[20..], &mut out).unwrap();
        assert_eq!(out, b"0123456789");
        d.finish().unwrap();
    }

    #[test]
    fn a_message_cannot_outgrow_its_counter() {
        let mut gcm = Gcm::new(&KEY, b"n", b"").unwrap();
        gcm.text_len = MAX_TEXT_BYTES - 16;
        assert!(gcm.apply_keystream(&mut [0u8; 16]).is_ok());
        assert!(matches!(
            gcm.apply_keystream(&mut [0u8; 1]),
            Err(CryptoError::Malformed(_))
        ));
    }

    #[test]
    fn gf_mul_identity_and_known_product() {
        // The multiplicative identity is bit 0 set: 0x80 00…00.
        let one = 1u128 << 127;
        let x = 0x66e94bd4ef8a2c3b884cfa59ca342b2eu128;
        assert_eq!(gf_mul(x, one), x);
        assert_eq!(gf_mul(one, x), x);
        assert_eq!(gf_mul(0, x), 0);
        // Test case 2 of the GCM specification (McGrew and Viega; AES-128, zero key, one
        // zero block): H = 66e94bd4…, C = 0388dace…, X1 = C•H = 5e2ec746…, and
        // GHASH(H, {}, C) = (X1 ⊕ len block)•H = f38cbb1a….
        let c = 0x0388dace60b6a392f328c2b971b2fe78u128;
        let x1 = gf_mul(c, x);
        assert_eq!(x1, 0x5e2ec746917062882c85b0685353deb7);
        assert_eq!(gf_mul(x1 ^ 128, x), 0xf38cbb1ad69223dcc3457ae5b6b0f885);
        let mut g = Ghash::new(x);
        g.update(&c.to_be_bytes()[..5]);
        g.update(&c.to_be_bytes()[5..]);
        g.pad();
        let mut lens = [0u8; BLOCK];
        lens[15] = 128;
        g.block(lens);
        assert_eq!(g.y, 0xf38cbb1ad69223dcc3457ae5b6b0f885);
    }
}
