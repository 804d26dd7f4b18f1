//! Platform certificates (`GET /v3/certificates`): downloaded, decrypted with the APIv3 key,
//! verified, held, and refreshed.
//!
//! A reply or callback signed with a serial the client does not hold starts a refresh. Every
//! caller that finds an unknown serial while a refresh is in flight waits for that refresh
//! and looks again, so fifty concurrent calls on a fresh client make one download and all
//! succeed. One refresh runs at a time; after one completes (successfully or not), an
//! unknown serial starts another only a minute later, so a stream of forged callbacks cannot
//! become a stream of downloads. A configuration that verifies with the WeChat Pay public key
//! alone never downloads anything.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use tixpay_core::crypto::{Certificate, RsaPublicKey, base64};
use tixpay_core::{Authenticate, Clock, Error, Idempotency, Reply, SignatureSubject, Verdict};

use crate::auth::{KeyRing, Lookup, SignedHeaders};
use crate::client::Client;
use crate::error::refusal_of;

/// How soon after a refresh completed an unknown serial may start another.
pub(crate) const REFRESH_COOLDOWN: Duration = Duration::from_secs(60);

/// The keys WeChat Pay's signatures are checked with, and the refresh that keeps them.
pub(crate) struct PlatformKeys {
    pub(crate) ring: KeyRing,
    /// Held while a download runs: one at a time.
    refresh: tokio::sync::Mutex<()>,
    /// Counts completed refreshes.
    generation: AtomicU64,
    /// When the last refresh completed.
    last_refresh: Mutex<Option<tokio::time::Instant>>,
}

impl std::fmt::Debug for PlatformKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.ring.fmt(f)
    }
}

impl PlatformKeys {
    pub(crate) fn new(ring: KeyRing) -> Self {
        Self {
            ring,
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            last_refresh: Mutex::new(None),
        }
    }

    /// The key `serial` names. An unknown certificate serial waits for a refresh in flight,
    /// or starts one unless one completed less than [`REFRESH_COOLDOWN`] ago.
    pub(crate) async fn key_for(
        &self,
        client: &Client,
        serial: &str,
        subject: SignatureSubject,
    ) -> Result<RsaPublicKey, Error> {
        match self.ring.lookup(serial) {
            Lookup::Found(key) => return Ok(key),
            Lookup::Unknown => {
                return Err(Error::signature(
                    subject,
                    format!("Wechatpay-Serial {serial} is not the configured public key id"),
                ));
            }
            Lookup::UnknownCertificate => {}
        }
        let seen = self.generation.load(Ordering::SeqCst);
        let _one_at_a_time = self.refresh.lock().await;
        if let Lookup::Found(key) = self.ring.lookup(serial) {
            // The refresh this caller waited for brought it.
            return Ok(key);
        }
        let unknown = |why: &str| {
            Err(Error::signature(
                subject,
                format!("no platform certificate has serial {serial}{why}"),
            ))
        };
        if self.generation.load(Ordering::SeqCst) != seen {
            return unknown(" (the certificates were refreshed while this call waited)");
        }
        if self.recently_refreshed() {
            return unknown(" (refreshed less than a minute ago)");
        }
        self.download_locked(client).await?;
        match self.ring.lookup(serial) {
            Lookup::Found(key) => Ok(key),
            _ => unknown(""),
        }
    }

    /// Downloads the certificates now (waiting for a refresh in flight first).
    pub(crate) async fn refresh(&self, client: &Client) -> Result<Vec<String>, Error> {
        if !self.ring.uses_certificates() {
            return Err(Error::config(
                "this client verifies with the WeChat Pay public key only",
            ));
        }
        let _one_at_a_time = self.refresh.lock().await;
        self.download_locked(client).await
    }

    fn recently_refreshed(&self) -> bool {
        self.last_refresh
            .lock()
            .map(|t| t.is_some_and(|t| t.elapsed() < REFRESH_COOLDOWN))
            .unwrap_or(false)
    }

    /// The download itself; the caller holds the refresh lock. The cooldown starts when it
    /// completes.
    async fn download_locked(&self, client: &Client) -> Result<Vec<String>, Error> {
        let op = client.operation(
            "GET /v3/certificates",
            Method::GET,
            "/v3/certificates?algorithm_type=RSA",
            None,
            Idempotency::Safe,
        )?;
        // Stamped however the download ends: finished, failed, or abandoned because the
        // caller's future was dropped (a webhook handler whose client went away). Otherwise
        // callbacks that disconnect at once could each start a download.
        let _completed = Completed(self);
        let certificates = client
            .send(&op, &CertificateDownload { client, keys: self })
            .await?;
        let serials = certificates.iter().map(|c| c.serial().to_owned()).collect();
        self.ring.set_certificates(certificates);
        Ok(serials)
    }
}

/// Marks a refresh as completed when dropped: the cooldown starts, and callers that waited
/// for it know it ran.
struct Completed<'a>(&'a PlatformKeys);

impl Drop for Completed<'_> {
    fn drop(&mut self) {
        let now = tokio::time::Instant::now();
        match self.0.last_refresh.lock() {
            Ok(mut t) => *t = Some(now),
            Err(e) => *e.into_inner() = Some(now),
        }
        self.0.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// The certificate download's hook: signed as every request, and verified with a key
/// already held (the public key, or a known certificate), else, at bootstrap, with one of
/// the certificates it brought, after they decrypted with the merchant's APIv3 key.
struct CertificateDownload<'a> {
    client: &'a Client,
    keys: &'a PlatformKeys,
}

impl Authenticate for CertificateDownload<'_> {
    type Signed = ();
    type Output = Vec<Certificate>;

    fn sign(&self, request: &mut http::Request<Bytes>, _attempt: u32) -> Result<(), Error> {
        self.client.signer().sign(request)
    }

    async fn verify(&self, reply: Reply<'_, ()>) -> Verdict<Vec<Certificate>> {
        match self.judge(&reply.response) {
            Ok(certificates) => Verdict::Accept(certificates),
            Err(e) => Verdict::Reject(e),
        }
    }
}

impl CertificateDownload<'_> {
    fn judge(&self, response: &http::Response<Bytes>) -> Result<Vec<Certificate>, Error> {
        let status = response.status();
        let body = response.body();
        let now = self.client.config().clock.now_seconds();
        if !status.is_success() {
            // A refusal is verified with a key already held, when it is signed at all.
            let refusal = refusal_of(response);
            return Err(match SignedHeaders::read_if_present(response.headers()) {
                Some(signed) => {
                    let signed = signed?;
                    signed.precheck(now, SignatureSubject::Response)?;
                    match self.keys.ring.lookup(&signed.serial) {
                        Lookup::Found(key) => {
                            signed.verify_with(&key, body, SignatureSubject::Response)?;
                            refusal
                        }
                        _ => refusal.mark_unverified("signed with a key this client does not hold"),
                    }
                }
                None => refusal.mark_unverified("WeChat Pay did not sign this refusal"),
            });
        }
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize)]
        struct Item {
            encrypt_certificate: Encrypted,
        }
        #[derive(serde::Deserialize)]
        struct Encrypted {
            nonce: String,
            #[serde(default)]
            associated_data: String,
            ciphertext: String,
        }
        let signed = SignedHeaders::read(response.headers(), SignatureSubject::Response)?;
        signed.precheck(now, SignatureSubject::Response)?;
        // With a key already held, the bytes are verified before anything is decoded; only
        // at bootstrap must the certificates be decrypted first, to find the key among them.
        let held = match self.keys.ring.lookup(&signed.serial) {
            Lookup::Found(key) => {
                signed.verify_with(&key, body, SignatureSubject::Response)?;
                true
            }
            _ => false,
        };
        let list: List = tixpay_core::json::decode(Some(status), body)?;
        let mut certificates = Vec::new();
        for (i, item) in list.data.into_iter().enumerate() {
            let e = item.encrypt_certificate;
            let path = || Some(format!("data[{i}].encrypt_certificate"));
            let ciphertext = base64::decode(e.ciphertext.trim()).map_err(|_| {
                Error::decode(Some(status), body, path(), "the ciphertext is not base64")
            })?;
            let pem = self
                .client
                .config()
                .apiv3
                .open(
                    e.nonce.as_bytes(),
                    e.associated_data.as_bytes(),
                    &ciphertext,
                )
                .map_err(|_| {
                    Error::signature(
                        SignatureSubject::Response,
                        "cannot decrypt a certificate: wrong APIv3 key?",
                    )
                })?;
            let pem = String::from_utf8(pem).map_err(|_| {
                Error::decode(
                    Some(status),
                    body,
                    path(),
                    "a decrypted certificate is not text",
                )
            })?;
            certificates.push(
                Certificate::from_pem(&pem)
                    .map_err(|e| Error::decode(Some(status), body, path(), e.to_string()))?,
            );
        }
        if !held {
            let key = certificates
                .iter()
                .find(|c| c.serial().eq_ignore_ascii_case(&signed.serial))
                .map(|c| c.public_key().clone())
                .ok_or_else(|| {
                    Error::signature(
                        SignatureSubject::Response,
                        "the certificate list is signed by no key held and none of its certificates",
                    )
                })?;
            signed.verify_with(&key, body, SignatureSubject::Response)?;
        }
        Ok(certificates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_cooldown_ends_exactly_a_minute_after_a_refresh() {
        let keys = PlatformKeys::new(KeyRing::certificates(Vec::new()));
        assert!(!keys.recently_refreshed(), "never refreshed");
        drop(Completed(&keys));
        assert_eq!(keys.generation.load(Ordering::SeqCst), 1);
        assert!(keys.recently_refreshed());
        tokio::time::advance(REFRESH_COOLDOWN - Duration::from_millis(1)).await;
        assert!(keys.recently_refreshed());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert!(
            !keys.recently_refreshed(),
            "a minute later, a new serial may refresh"
        );
    }
}
