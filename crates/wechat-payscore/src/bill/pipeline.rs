//! One bill file, as it arrives: decrypt (PayScore), un-gzip, hash, spool; the checks at its
//! end decide whether any of it is trusted.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;
use tixpay_core::Error;
use tixpay_core::crypto::gcm::AesGcmDecryptor;
use tixpay_core::crypto::{Sha1Context, constant_time_eq_ignore_ascii_case, hex};
use zeroize::Zeroizing;

use super::{BillError, Spool, VerifiedFile};

/// The most bytes handed to the decryptor or the gzip decoder at once.
pub(crate) const SLICE: usize = 64 * 1024;
/// flate2's output buffer (`zio::Writer`) plus the inflate window it keeps.
const GZIP_BUFFERS: usize = 32 * 1024 + 32 * 1024;

/// How one file is to be checked, from a verified reply.
pub(crate) struct FileSpec {
    pub(crate) sequence: u32,
    /// `hash_value`: 40 hex digits.
    pub(crate) sha1: String,
    /// PayScore: the unwrapped AES-256 key and the nonce's bytes.
    pub(crate) encryption: Option<(Zeroizing<Vec<u8>>, Vec<u8>)>,
    pub(crate) gzip: bool,
}

impl FileSpec {
    /// Checks `hash_type` and `hash_value`.
    pub(crate) fn new(
        sequence: u32,
        hash_type: &str,
        hash_value: &str,
        gzip: bool,
    ) -> Result<Self, BillError> {
        if !hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(BillError::Description(format!(
                "file {sequence}: hash_type `{hash_type}` is not SHA1"
            )));
        }
        if hash_value.len() != 40 || hex::decode(hash_value).is_err() {
            return Err(BillError::Description(format!(
                "file {sequence}: hash_value is not 40 hex digits"
            )));
        }
        Ok(Self {
            sequence,
            sha1: hash_value.to_owned(),
            encryption: None,
            gzip,
        })
    }
}

/// Hashes and spools the file's text.
struct Sink<'s> {
    sha1: Sha1Context,
    spool: &'s mut Spool,
    written: u64,
    /// A spool failure, told apart from a gzip failure when the decoder reports it.
    spool_error: Option<io::Error>,
}

impl Write for Sink<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Err(e) = self.spool.append(data) {
            let shown = io::Error::other(e.to_string());
            self.spool_error = Some(e);
            return Err(shown);
        }
        self.sha1.update(data);
        self.written = self.written.saturating_add(data.len() as u64);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Output<'s> {
    Plain(Sink<'s>),
    Gzip(Box<MultiGzDecoder<Sink<'s>>>),
}

impl<'s> Output<'s> {
    fn sink(&self) -> &Sink<'s> {
        match self {
            Self::Plain(s) => s,
            Self::Gzip(d) => d.get_ref(),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.write_all(data),
            Self::Gzip(d) => d.write_all(data),
        }
    }
}

/// Receives one file's bytes. Nothing it writes is trusted until [`Receiver::finish`]
/// returns `Ok`.
pub(crate) struct Receiver<'s> {
    sequence: u32,
    expected: String,
    decrypt: Option<AesGcmDecryptor>,
    output: Output<'s>,
    scratch: Vec<u8>,
    downloaded: u64,
    peak: usize,
    /// A gzip failure in a file that is also encrypted: the rest is still decrypted so
    /// that a tampered ciphertext is reported as such (the tag decides), not as the gzip
    /// garbage it decrypts to.
    broken: Option<Error>,
}

impl<'s> Receiver<'s> {
    pub(crate) fn new(spec: &FileSpec, spool: &'s mut Spool) -> Result<Self, Error> {
        let decrypt = match &spec.encryption {
            Some((key, nonce)) => Some(
                AesGcmDecryptor::new(key, nonce, b"")
                    .map_err(|e| BillError::Description(format!("file {}: {e}", spec.sequence)))?,
            ),
            None => None,
        };
        let sink = Sink {
            sha1: Sha1Context::new(),
            spool,
            written: 0,
            spool_error: None,
        };
        let output = if spec.gzip {
            Output::Gzip(Box::new(MultiGzDecoder::new(sink)))
        } else {
            Output::Plain(sink)
        };
        Ok(Self {
            sequence: spec.sequence,
            expected: spec.sha1.clone(),
            decrypt,
            output,
            scratch: Vec::new(),
            downloaded: 0,
            peak: 0,
            broken: None,
        })
    }

    /// Feeds the next piece of the download, 64 KiB at a time.
    pub(crate) fn push(&mut self, piece: &[u8]) -> Result<(), Error> {
        self.downloaded = self.downloaded.saturating_add(piece.len() as u64);
        for slice in piece.chunks(SLICE) {
            let result = match &mut self.decrypt {
                Some(d) => {
                    self.scratch.clear();
                    d.update(slice, &mut self.scratch).map_err(|_| {
                        Error::from(BillError::Decrypt {
                            sequence: self.sequence,
                        })
                    })?;
                    if self.broken.is_some() {
                        continue;
                    }
                    self.output.write_all(&self.scratch)
                }
                None => self.output.write_all(slice),
            };
            if let Err(e) = result {
                let (err, spool) = self.write_failed(e);
                if spool || self.decrypt.is_none() {
                    return Err(err);
                }
                self.broken = Some(err);
            }
        }
        let gzip = match self.output {
            Output::Gzip(_) => GZIP_BUFFERS,
            Output::Plain(_) => 0,
        };
        self.peak = self.peak.max(piece.len() + self.scratch.capacity() + gzip);
        Ok(())
    }

    /// The error, and whether it is the spool's (not the data's).
    fn write_failed(&self, e: io::Error) -> (Error, bool) {
        match &self.output.sink().spool_error {
            Some(spool) => (
                Error::config(format!("cannot write the bill spool: {spool}")),
                true,
            ),
            None => (
                BillError::Gzip {
                    sequence: self.sequence,
                    reason: e.to_string(),
                }
                .into(),
                false,
            ),
        }
    }

    /// The checks at the end of the file, in order: the GCM tag, the gzip trailer, the hash.
    /// Returns the peak memory this file used.
    pub(crate) fn finish(self) -> Result<(VerifiedFile, usize), Error> {
        if let Some(d) = self.decrypt {
            d.finish().map_err(|_| BillError::Decrypt {
                sequence: self.sequence,
            })?;
        }
        if let Some(broken) = self.broken {
            return Err(broken);
        }
        let sink = match self.output {
            Output::Plain(sink) => sink,
            Output::Gzip(mut decoder) => {
                let finished = decoder.try_finish();
                if decoder.get_ref().spool_error.is_some() {
                    return Err(Error::config("cannot write the bill spool"));
                }
                if let Err(e) = finished {
                    return Err(BillError::Gzip {
                        sequence: self.sequence,
                        reason: e.to_string(),
                    }
                    .into());
                }
                // `finish` after a successful `try_finish` only hands the sink back.
                match decoder.finish() {
                    Ok(sink) => sink,
                    Err(e) => {
                        return Err(BillError::Gzip {
                            sequence: self.sequence,
                            reason: e.to_string(),
                        }
                        .into());
                    }
                }
            }
        };
        let found = hex::encode_lower(sink.sha1.finish());
        if !constant_time_eq_ignore_ascii_case(found.as_bytes(), self.expected.as_bytes()) {
            return Err(BillError::HashMismatch {
                sequence: self.sequence,
                expected: self.expected,
                found,
            }
            .into());
        }
        Ok((
            VerifiedFile {
                sequence: self.sequence,
                sha1: found,
                downloaded_bytes: self.downloaded,
                plaintext_bytes: sink.written,
            },
            self.peak,
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use std::io::Write as _;

    use tixpay_core::crypto::{gcm, sha1};

    use super::*;
    use crate::bill::bill_error;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn spec(text: &[u8], gzip: bool, key: Option<&[u8]>) -> FileSpec {
        let mut s = FileSpec::new(1, "SHA1", &hex::encode_upper(sha1(text)), gzip).unwrap();
        s.encryption = key.map(|k| (Zeroizing::new(k.to_vec()), b"a8607ef79034c49c".to_vec()));
        s
    }

    fn run(spec: &FileSpec, body: &[u8], piece: usize) -> Result<(Vec<u8>, VerifiedFile), Error> {
        let mut spool = Spool::memory(1 << 24);
        let mut r = Receiver::new(spec, &mut spool)?;
        for p in body.chunks(piece) {
            r.push(p)?;
        }
        let (file, _) = r.finish()?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut spool.into_reader().unwrap(), &mut out).unwrap();
        Ok((out, file))
    }

    #[test]
    fn every_combination_round_trips() {
        let text = "交易时间,商户订单号\n`2024-05-01 10:00:00,`A1\n".repeat(500);
        let text = text.as_bytes();
        let key = [9u8; 32];
        for gzip in [false, true] {
            for encrypted in [false, true] {
                let mut body = if gzip { gz(text) } else { text.to_vec() };
                if encrypted {
                    body = gcm::seal(&key, b"a8607ef79034c49c", b"", &body).unwrap();
                }
                let spec = spec(text, gzip, encrypted.then_some(&key[..]));
                for piece in [1, 7, 4096, body.len()] {
                    let (out, file) = run(&spec, &body, piece).unwrap();
                    assert_eq!(out, text);
                    assert_eq!(file.plaintext_bytes, text.len() as u64);
                    assert_eq!(file.downloaded_bytes, body.len() as u64);
                    assert_eq!(file.sha1, hex::encode_lower(sha1(text)));
                }
            }
        }
    }

    #[test]
    fn each_check_fails_on_its_own() {
        let text = b"a,b\n`1,`2\n".repeat(100);
        let key = [9u8; 32];
        let sealed = gcm::seal(&key, b"a8607ef79034c49c", b"", &gz(&text)).unwrap();
        let good = spec(&text, true, Some(&key));
        assert!(run(&good, &sealed, 10).is_ok());

        let mut tampered = sealed.clone();
        tampered[5] ^= 1;
        let err = run(&good, &tampered, 10).unwrap_err();
        assert_eq!(bill_error(&err), Some(&BillError::Decrypt { sequence: 1 }));
        assert!(matches!(
            err.kind(),
            tixpay_core::ErrorKind::Signature { .. }
        ));

        let err = run(&good, &sealed[..sealed.len() - 1], 10).unwrap_err();
        assert_eq!(bill_error(&err), Some(&BillError::Decrypt { sequence: 1 }));

        // A valid seal over a truncated gzip stream: the gzip trailer check catches it.
        let cut = gz(&text);
        let cut = gcm::seal(&key, b"a8607ef79034c49c", b"", &cut[..cut.len() - 4]).unwrap();
        let err = run(&good, &cut, 10).unwrap_err();
        assert!(
            matches!(bill_error(&err), Some(BillError::Gzip { .. })),
            "{err}"
        );

        // Not gzip at all.
        let plain = gcm::seal(&key, b"a8607ef79034c49c", b"", &text).unwrap();
        let err = run(&good, &plain, 10).unwrap_err();
        assert!(
            matches!(bill_error(&err), Some(BillError::Gzip { .. })),
            "{err}"
        );

        // Everything authentic, but the hash is of other text.
        let mut wrong = spec(b"other", true, Some(&key));
        wrong.sequence = 3;
        let err = run(&wrong, &sealed, 10).unwrap_err();
        assert!(
            matches!(
                bill_error(&err),
                Some(BillError::HashMismatch { sequence: 3, .. })
            ),
            "{err}"
        );
        // Upper- and lower-case hex both match.
        let mut lower = spec(&text, true, Some(&key));
        lower.sha1 = lower.sha1.to_ascii_lowercase();
        assert!(run(&lower, &sealed, 10).is_ok());
    }

    #[test]
    fn descriptions_are_checked() {
        assert!(FileSpec::new(1, "SHA256", &"0".repeat(40), false).is_err());
        assert!(FileSpec::new(1, "sha1", &"0".repeat(40), false).is_ok());
        assert!(FileSpec::new(1, "SHA1", &"0".repeat(39), false).is_err());
        assert!(FileSpec::new(1, "SHA1", &"g".repeat(40), false).is_err());
    }

    #[test]
    fn a_full_memory_spool_is_a_spool_error_not_a_gzip_error() {
        let text = b"a,b\n".repeat(1000);
        let spec = spec(&text, true, None);
        let mut spool = Spool::memory(100);
        let mut r = Receiver::new(&spec, &mut spool).unwrap();
        // The decoder buffers its output: the failure shows at the push or at the end.
        let err = match r.push(&gz(&text)) {
            Err(e) => e,
            Ok(()) => r.finish().unwrap_err(),
        };
        assert!(bill_error(&err).is_none(), "{err}");
        assert!(err.to_string().contains("spool"), "{err}");
    }
}
