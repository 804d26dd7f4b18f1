//! The Hawk HTTP authentication scheme (hawk.1), complete and usable on its own: client
//! headers, payload hashes, server response authentication, `WWW-Authenticate` clock
//! resynchronisation with `tsm`, and the server side: [`ServerVerifier`] checks a request in
//! one call (credentials, MAC, payload hash, timestamp window, nonce replay) and
//! [`Authenticated::server_authorization`] signs the reply.
//!
//! Follows the reference implementation (mozilla/hawk `lib/crypto.js`, `client.js`,
//! `server.js`) byte for byte:
//!
//! ```text
//! hawk.1.header\n{ts}\n{nonce}\n{METHOD}\n{path?query}\n{host lower-case}\n{port}\n{hash}\n{ext escaped}\n[{app}\n{dlg}\n]
//! mac  = base64(HMAC-{sha256|sha1}(key, normalized))
//! hash = base64({sha256|sha1}("hawk.1.payload\n{mime}\n{body}\n"))
//! ```
//!
//! ```
//! use tixpay_core::Secret;
//! use tixpay_ticket_hawk::hawk::{Algorithm, Artifacts, Credentials};
//!
//! // Vector H1.
//! let credentials = Credentials::new(
//!     "dh37fgj492je",
//!     Secret::new("werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"),
//!     Algorithm::Sha256,
//! );
//! let artifacts = Artifacts::new("GET", "example.com", 8000, "/resource/1?b=1&a=2", 1353832234, "j4h3g2")
//!     .ext("some-app-ext-data");
//! assert_eq!(
//!     credentials.header(&artifacts)?,
//!     r#"Hawk id="dh37fgj492je", ts="1353832234", nonce="j4h3g2", ext="some-app-ext-data", mac="6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=""#
//! );
//! # Ok::<(), tixpay_ticket_hawk::hawk::HawkError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use tixpay_core::Secret;
use tixpay_core::crypto::{self, HmacAlgorithm, HmacKey, Sha256Context, base64};

/// The MAC algorithm. The ticket system's documents do not say which; sha256 is Hawk's
/// default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA256 / SHA-256 (the default).
    #[default]
    Sha256,
    /// HMAC-SHA1 / SHA-1.
    Sha1,
}

/// A Hawk failure. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HawkError {
    /// A header could not be parsed.
    MalformedHeader(String),
    /// A value cannot be put in a header (a quote, a backslash in `id`, a control character).
    InvalidValue(String),
    /// A MAC, hash or `tsm` did not match.
    Mismatch(&'static str),
    /// A required attribute is missing.
    Missing(&'static str),
}

impl fmt::Display for HawkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedHeader(why) => write!(f, "malformed Hawk header: {why}"),
            Self::InvalidValue(why) => write!(f, "invalid Hawk value: {why}"),
            Self::Mismatch(what) => write!(f, "Hawk {what} does not match"),
            Self::Missing(what) => write!(f, "Hawk header lacks `{what}`"),
        }
    }
}

impl std::error::Error for HawkError {}

/// Hawk credentials: an id and a key (its UTF-8 bytes are the HMAC key).
#[derive(Clone)]
pub struct Credentials {
    id: String,
    key: Secret,
    algorithm: Algorithm,
    mac_key: HmacKey,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl Credentials {
    /// Credentials with a ready key.
    pub fn new(id: impl Into<String>, key: Secret, algorithm: Algorithm) -> Self {
        let mac_key = HmacKey::new(
            match algorithm {
                Algorithm::Sha256 => HmacAlgorithm::Sha256,
                Algorithm::Sha1 => HmacAlgorithm::Sha1,
            },
            key.expose_bytes(),
        );
        Self {
            id: id.into(),
            key,
            algorithm,
            mac_key,
        }
    }

    /// The ticket system's credentials: the key is `KEY + UPPER(MD5(password))`
    /// (认证方式:HAWK,密钥:KEY+UPPER(MD5(密码))). What `KEY` and `id` are is not documented;
    /// both are plain configuration.
    ///
    /// ```
    /// use tixpay_core::Secret;
    /// use tixpay_ticket_hawk::hawk::{Algorithm, Credentials};
    ///
    /// let c = Credentials::from_operator("agent01", &Secret::new("0123456789ABCDEF"), &Secret::new("123456"), Algorithm::Sha256);
    /// assert_eq!(c.key().expose(), "0123456789ABCDEFE10ADC3949BA59ABBE56E057F20F883E");
    /// ```
    pub fn from_operator(
        id: impl Into<String>,
        key: &Secret,
        password: &Secret,
        algorithm: Algorithm,
    ) -> Self {
        let derived = format!(
            "{}{}",
            key.expose(),
            crypto::md5_hex_upper(password.expose_bytes())
        );
        Self::new(id, Secret::new(derived), algorithm)
    }

    /// The id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key.
    pub fn key(&self) -> &Secret {
        &self.key
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// `base64(HMAC(key, normalized))`.
    pub fn mac(&self, normalized: &str) -> String {
        base64::encode(self.mac_key.sign(normalized.as_bytes()))
    }

    /// The MAC of a request.
    pub fn request_mac(&self, artifacts: &Artifacts) -> String {
        self.mac(&normalized_string("header", artifacts))
    }

    /// The `Authorization` header value for `artifacts`.
    pub fn header(&self, artifacts: &Artifacts) -> Result<String, HawkError> {
        check_attribute("id", &self.id)?;
        check_attribute("nonce", &artifacts.nonce)?;
        let mut header = format!(
            "Hawk id=\"{}\", ts=\"{}\", nonce=\"{}\"",
            self.id, artifacts.ts, artifacts.nonce
        );
        if let Some(hash) = &artifacts.hash {
            header.push_str(&format!(", hash=\"{hash}\""));
        }
        if let Some(ext) = artifacts.ext.as_deref().filter(|e| !e.is_empty()) {
            header.push_str(&format!(", ext=\"{}\"", escape_header_attribute(ext)?));
        }
        header.push_str(&format!(", mac=\"{}\"", self.request_mac(artifacts)));
        if let Some(app) = &artifacts.app {
            check_attribute("app", app)?;
            header.push_str(&format!(", app=\"{app}\""));
            if let Some(dlg) = &artifacts.dlg {
                check_attribute("dlg", dlg)?;
                header.push_str(&format!(", dlg=\"{dlg}\""));
            }
        }
        Ok(header)
    }

    /// The `tsm` of a server timestamp: `base64(HMAC(key, "hawk.1.ts\n{ts}\n"))`.
    pub fn timestamp_mac(&self, ts: i64) -> String {
        self.mac(&format!("hawk.1.ts\n{ts}\n"))
    }

    /// The payload hash of `body` sent as `content_type`, with these credentials' algorithm.
    pub fn payload_hash(&self, content_type: &str, body: &[u8]) -> String {
        payload_hash(self.algorithm, content_type, body)
    }
}

/// What a request's MAC covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Artifacts {
    /// The method (upper-cased in the MAC).
    pub method: String,
    /// The host (lower-cased in the MAC).
    pub host: String,
    /// The port: the URL's, or 80/443 for http/https.
    pub port: u16,
    /// Path and query exactly as sent.
    pub resource: String,
    /// Seconds since the Unix epoch.
    pub ts: i64,
    /// The nonce.
    pub nonce: String,
    /// The payload hash, when one is sent.
    pub hash: Option<String>,
    /// Application data.
    pub ext: Option<String>,
    /// `app` (Oz).
    pub app: Option<String>,
    /// `dlg` (Oz).
    pub dlg: Option<String>,
}

impl Artifacts {
    /// The artifacts of one request.
    pub fn new(
        method: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        resource: impl Into<String>,
        ts: i64,
        nonce: impl Into<String>,
    ) -> Self {
        Self {
            method: method.into(),
            host: host.into(),
            port,
            resource: resource.into(),
            ts,
            nonce: nonce.into(),
            hash: None,
            ext: None,
            app: None,
            dlg: None,
        }
    }

    /// Sets the payload hash.
    #[must_use]
    pub fn hash(mut self, hash: impl Into<String>) -> Self {
        self.hash = Some(hash.into());
        self
    }

    /// Sets `ext`.
    #[must_use]
    pub fn ext(mut self, ext: impl Into<String>) -> Self {
        self.ext = Some(ext.into());
        self
    }

    /// Sets `app` and optionally `dlg`.
    #[must_use]
    pub fn app(mut self, app: impl Into<String>, dlg: Option<String>) -> Self {
        self.app = Some(app.into());
        self.dlg = dlg;
        self
    }

    /// The artifacts of `url` (`scheme://host[:port]/path?query`) for `method`, with the
    /// port defaulted from the scheme.
    pub fn for_url(
        method: &str,
        url: &http::Uri,
        ts: i64,
        nonce: impl Into<String>,
    ) -> Result<Self, HawkError> {
        let host = url
            .host()
            .ok_or_else(|| HawkError::InvalidValue("the URL has no host".into()))?;
        let port = match (url.port_u16(), url.scheme_str()) {
            (Some(p), _) => p,
            (None, Some("https")) => 443,
            _ => 80,
        };
        let resource = url
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        Ok(Self::new(method, host, port, resource, ts, nonce))
    }
}

/// The normalized string of `kind` (`header` for requests, `response` for
/// `Server-Authorization`).
///
/// ```
/// use tixpay_ticket_hawk::hawk::{normalized_string, Artifacts};
/// // Vector H4.
/// let a = Artifacts::new("GET", "example.com", 8080, "/resource/something", 1357747017, "k3k4j5");
/// assert_eq!(normalized_string("header", &a), "hawk.1.header\n1357747017\nk3k4j5\nGET\n/resource/something\nexample.com\n8080\n\n\n");
/// ```
pub fn normalized_string(kind: &str, a: &Artifacts) -> String {
    let mut s = format!(
        "hawk.1.{kind}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        a.ts,
        a.nonce,
        a.method.to_ascii_uppercase(),
        a.resource,
        a.host.to_ascii_lowercase(),
        a.port,
        a.hash.as_deref().unwrap_or("")
    );
    if let Some(ext) = &a.ext {
        s.push_str(&ext.replace('\\', "\\\\").replace('\n', "\\n"));
    }
    s.push('\n');
    if let Some(app) = &a.app {
        s.push_str(app);
        s.push('\n');
        s.push_str(a.dlg.as_deref().unwrap_or(""));
        s.push('\n');
    }
    s
}

/// The payload hash: `base64(H("hawk.1.payload\n{mime}\n{body}\n"))`, where `mime` is the
/// content type without parameters, trimmed and lower-cased.
///
/// ```
/// use tixpay_ticket_hawk::hawk::{payload_hash, Algorithm};
/// // Vector H2.
/// assert_eq!(
///     payload_hash(Algorithm::Sha256, "text/plain", b"Thank you for flying Hawk"),
///     "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="
/// );
/// ```
pub fn payload_hash(algorithm: Algorithm, content_type: &str, body: &[u8]) -> String {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match algorithm {
        Algorithm::Sha256 => {
            let mut ctx = Sha256Context::new();
            ctx.update(b"hawk.1.payload\n");
            ctx.update(mime.as_bytes());
            ctx.update(b"\n");
            ctx.update(body);
            ctx.update(b"\n");
            base64::encode(ctx.finish())
        }
        Algorithm::Sha1 => {
            let mut input = Vec::with_capacity(body.len() + mime.len() + 17);
            input.extend_from_slice(b"hawk.1.payload\n");
            input.extend_from_slice(mime.as_bytes());
            input.push(b'\n');
            input.extend_from_slice(body);
            input.push(b'\n');
            base64::encode(crypto::sha1(&input))
        }
    }
}

fn escape_header_attribute(value: &str) -> Result<String, HawkError> {
    if value
        .chars()
        .any(|c| c.is_control() || !(' '..='~').contains(&c))
    {
        return Err(HawkError::InvalidValue(
            "ext must be printable ASCII".into(),
        ));
    }
    Ok(value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn check_attribute(name: &str, value: &str) -> Result<(), HawkError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " !#$%&'()*+,-./:;<=>?@[]^_`{|}~".contains(c));
    if ok {
        Ok(())
    } else {
        Err(HawkError::InvalidValue(format!(
            "`{name}` must be printable ASCII without quotes or backslashes"
        )))
    }
}

/// Parses the attributes of a `Hawk` header (`Authorization`, `Server-Authorization`,
/// `WWW-Authenticate`).
///
/// Lenient in what it accepts: attributes separated by commas and/or spaces (a .NET server
/// sends `ts="…" ntp="…"` without a comma), backslash escapes inside quoted values, any
/// order. Strict in what it returns: a duplicate attribute or an unterminated quote is an
/// error.
pub fn parse_header(value: &str) -> Result<BTreeMap<String, String>, HawkError> {
    let value = value.trim();
    let rest = match value.get(..4) {
        Some(scheme) if scheme.eq_ignore_ascii_case("hawk") => value.get(4..).unwrap_or(""),
        _ => return Err(HawkError::MalformedHeader("the scheme is not Hawk".into())),
    };
    if value.len() > 4096 {
        return Err(HawkError::MalformedHeader("header over 4096 bytes".into()));
    }
    let mut attrs = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut name = String::new();
        while let Some(c) = chars.peek().copied() {
            if c.is_ascii_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if name.is_empty() || chars.next() != Some('=') {
            return Err(HawkError::MalformedHeader("expected name=\"value\"".into()));
        }
        if chars.next() != Some('"') {
            return Err(HawkError::MalformedHeader(format!(
                "`{name}` is not quoted"
            )));
        }
        let mut val = String::new();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(escaped) => val.push(escaped),
                    None => break,
                },
                '"' => {
                    closed = true;
                    break;
                }
                c => val.push(c),
            }
        }
        if !closed {
            return Err(HawkError::MalformedHeader(format!(
                "`{name}` is not terminated"
            )));
        }
        if attrs.insert(name.clone(), val).is_some() {
            return Err(HawkError::MalformedHeader(format!(
                "`{name}` appears twice"
            )));
        }
    }
    Ok(attrs)
}

/// What a `WWW-Authenticate: Hawk …` header says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WwwAuthenticate {
    /// The server's time, seconds since the Unix epoch.
    pub ts: Option<i64>,
    /// The MAC of `ts` (absent from some .NET servers).
    pub tsm: Option<String>,
    /// The error text (`Stale timestamp`, `Bad mac`, …).
    pub error: Option<String>,
}

impl WwwAuthenticate {
    /// Parses the header value.
    ///
    /// ```
    /// use tixpay_ticket_hawk::hawk::WwwAuthenticate;
    /// // The reference server, and a .NET server (HawkNet) that sends no tsm and no comma.
    /// let reference = WwwAuthenticate::parse(r#"Hawk ts="1362346425", tsm="Pn+Yb/8=", error="Stale timestamp""#)?;
    /// assert_eq!(reference.ts, Some(1362346425));
    /// let dotnet = WwwAuthenticate::parse(r#"Hawk ts="1362346425" ntp="pool.ntp.org""#)?;
    /// assert_eq!((dotnet.ts, dotnet.tsm), (Some(1362346425), None));
    /// # Ok::<(), tixpay_ticket_hawk::hawk::HawkError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, HawkError> {
        let attrs = parse_header(value)?;
        let ts =
            match attrs.get("ts") {
                Some(t) => Some(t.trim().parse::<i64>().map_err(|_| {
                    HawkError::MalformedHeader(format!("ts `{t}` is not a number"))
                })?),
                None => None,
            };
        Ok(Self {
            ts,
            tsm: attrs.get("tsm").cloned(),
            error: attrs.get("error").cloned(),
        })
    }

    /// Whether this is a stale-timestamp answer carrying the server's time.
    pub fn is_stale_timestamp(&self) -> bool {
        self.ts.is_some()
    }

    /// Checks `tsm` against `credentials`; `Ok(false)` when there is no `tsm` to check.
    pub fn verify_tsm(&self, credentials: &Credentials) -> Result<bool, HawkError> {
        match (&self.ts, &self.tsm) {
            (Some(ts), Some(tsm)) => {
                let expected = credentials.timestamp_mac(*ts);
                if crypto::constant_time_eq(expected.as_bytes(), tsm.as_bytes()) {
                    Ok(true)
                } else {
                    Err(HawkError::Mismatch("tsm"))
                }
            }
            _ => Ok(false),
        }
    }
}

/// What a `Server-Authorization` header says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerAuthorization {
    /// The response MAC.
    pub mac: String,
    /// The response payload hash.
    pub hash: Option<String>,
    /// The response `ext`.
    pub ext: Option<String>,
}

impl ServerAuthorization {
    /// Parses the header value; only `mac`, `hash` and `ext` are allowed.
    pub fn parse(value: &str) -> Result<Self, HawkError> {
        let attrs = parse_header(value)?;
        if let Some(other) = attrs
            .keys()
            .find(|k| !["mac", "hash", "ext"].contains(&k.as_str()))
        {
            return Err(HawkError::MalformedHeader(format!("unexpected `{other}`")));
        }
        Ok(Self {
            mac: attrs.get("mac").cloned().ok_or(HawkError::Missing("mac"))?,
            hash: attrs.get("hash").cloned(),
            ext: attrs.get("ext").cloned(),
        })
    }

    /// Verifies the response MAC (over the request's artifacts, with the response's hash
    /// and ext) and, when `payload` is given, the response payload hash, which must then be
    /// present.
    pub fn verify(
        &self,
        credentials: &Credentials,
        request: &Artifacts,
        payload: Option<(&str, &[u8])>,
    ) -> Result<(), HawkError> {
        let mut artifacts = request.clone();
        artifacts.hash = self.hash.clone();
        artifacts.ext = self.ext.clone();
        let expected = credentials.mac(&normalized_string("response", &artifacts));
        if !crypto::constant_time_eq(expected.as_bytes(), self.mac.as_bytes()) {
            return Err(HawkError::Mismatch("response mac"));
        }
        if let Some((content_type, body)) = payload {
            let hash = self.hash.as_deref().ok_or(HawkError::Missing("hash"))?;
            let expected = credentials.payload_hash(content_type, body);
            if !crypto::constant_time_eq(expected.as_bytes(), hash.as_bytes()) {
                return Err(HawkError::Mismatch("response payload hash"));
            }
        }
        Ok(())
    }

    /// The `Server-Authorization` value a server sends (for sandboxes and servers).
    pub fn create(
        credentials: &Credentials,
        request: &Artifacts,
        response_payload: Option<(&str, &[u8])>,
    ) -> String {
        let mut artifacts = request.clone();
        artifacts.hash = response_payload.map(|(ct, body)| credentials.payload_hash(ct, body));
        artifacts.ext = None;
        let mac = credentials.mac(&normalized_string("response", &artifacts));
        match &artifacts.hash {
            Some(hash) => format!("Hawk mac=\"{mac}\", hash=\"{hash}\""),
            None => format!("Hawk mac=\"{mac}\""),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The server side: one call that checks a request as the reference server does.

/// Where a server finds the credentials of a Hawk `id`.
///
/// Implemented for one [`Credentials`] (its own id only), a slice or `Vec` of them, a
/// `HashMap`/`BTreeMap` from id to credentials, and an `Arc` of any of these; implement it
/// for your own store.
pub trait CredentialsLookup: Send + Sync {
    /// The credentials of `id`, or `None` when the id is unknown.
    fn credentials(&self, id: &str) -> Option<Credentials>;
}

impl CredentialsLookup for Credentials {
    fn credentials(&self, id: &str) -> Option<Credentials> {
        (self.id == id).then(|| self.clone())
    }
}

impl CredentialsLookup for [Credentials] {
    fn credentials(&self, id: &str) -> Option<Credentials> {
        self.iter().find(|c| c.id == id).cloned()
    }
}

impl CredentialsLookup for Vec<Credentials> {
    fn credentials(&self, id: &str) -> Option<Credentials> {
        self.as_slice().credentials(id)
    }
}

impl<S: std::hash::BuildHasher + Send + Sync> CredentialsLookup
    for std::collections::HashMap<String, Credentials, S>
{
    fn credentials(&self, id: &str) -> Option<Credentials> {
        self.get(id).cloned()
    }
}

impl CredentialsLookup for BTreeMap<String, Credentials> {
    fn credentials(&self, id: &str) -> Option<Credentials> {
        self.get(id).cloned()
    }
}

impl<T: CredentialsLookup + ?Sized> CredentialsLookup for std::sync::Arc<T> {
    fn credentials(&self, id: &str) -> Option<Credentials> {
        (**self).credentials(id)
    }
}

/// What a [`NonceStore`] says of a request's nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonceCheck {
    /// Not seen before; now recorded.
    Fresh,
    /// Seen before: a replay.
    Replayed,
    /// The store cannot record more without forgetting a nonce that could still be
    /// replayed; the request is refused (fail closed).
    Full,
}

/// Replay protection: remembers the (`id`, `nonce`, `ts`) of every accepted request for as
/// long as its timestamp is inside the window.
pub trait NonceStore: Send + Sync {
    /// Checks and records (`id`, `nonce`, `ts`). Entries whose `ts` is before
    /// `forget_before` can no longer pass the timestamp check and may be forgotten.
    fn check_and_record(&self, id: &str, nonce: &str, ts: i64, forget_before: i64) -> NonceCheck;
}

impl<T: NonceStore + ?Sized> NonceStore for std::sync::Arc<T> {
    fn check_and_record(&self, id: &str, nonce: &str, ts: i64, forget_before: i64) -> NonceCheck {
        (**self).check_and_record(id, nonce, ts, forget_before)
    }
}

/// An in-memory [`NonceStore`] with bounded memory: it forgets nonces whose timestamp has
/// left the window, and when `capacity` nonces inside the window are held it refuses new
/// requests ([`NonceCheck::Full`]) rather than forget one that could be replayed. For one
/// server process; servers behind a load balancer need a shared store.
///
/// ```
/// use tixpay_ticket_hawk::hawk::{MemoryNonceStore, NonceCheck, NonceStore};
/// let store = MemoryNonceStore::new(2);
/// assert_eq!(store.check_and_record("id", "n1", 100, 40), NonceCheck::Fresh);
/// assert_eq!(store.check_and_record("id", "n1", 100, 40), NonceCheck::Replayed);
/// assert_eq!(store.check_and_record("id", "n2", 100, 40), NonceCheck::Fresh);
/// assert_eq!(store.check_and_record("id", "n3", 100, 40), NonceCheck::Full);
/// // Later, the first two have left the window.
/// assert_eq!(store.check_and_record("id", "n3", 200, 140), NonceCheck::Fresh);
/// ```
#[derive(Debug)]
pub struct MemoryNonceStore {
    capacity: usize,
    /// (ts, id, nonce), ordered by timestamp so that expiry is a split.
    seen: std::sync::Mutex<std::collections::BTreeSet<(i64, String, String)>>,
}

impl MemoryNonceStore {
    /// The default capacity: 100 000 nonces in the window (a few megabytes).
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A store holding at most `capacity` nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            seen: std::sync::Mutex::new(std::collections::BTreeSet::new()),
        }
    }

    /// How many nonces are held.
    pub fn len(&self) -> usize {
        self.seen.lock().map_or(0, |seen| seen.len())
    }

    /// Whether no nonce is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryNonceStore {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl NonceStore for MemoryNonceStore {
    fn check_and_record(&self, id: &str, nonce: &str, ts: i64, forget_before: i64) -> NonceCheck {
        // A poisoned lock only means another thread panicked while holding it; the set
        // itself is always consistent.
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept = seen.split_off(&(forget_before, String::new(), String::new()));
        *seen = kept;
        let key = (ts, id.to_owned(), nonce.to_owned());
        if seen.contains(&key) {
            NonceCheck::Replayed
        } else if seen.len() >= self.capacity {
            NonceCheck::Full
        } else {
            seen.insert(key);
            NonceCheck::Fresh
        }
    }
}

/// The parts of an HTTP request a Hawk server checks. The host and port are the ones the
/// client signed: behind a proxy, give the public ones.
///
/// ```
/// use tixpay_ticket_hawk::hawk::HawkRequest;
/// let request = HawkRequest::new("POST", "tickets.example", 443, "/api/Order/RefundTicket")
///     .authorization(r#"Hawk id="agent01", ts="1700000000", nonce="abc", mac="…""#)
///     .payload("application/json", br#"{"orderid":"1"}"#);
/// assert_eq!(request.port, 443);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct HawkRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The host the client signed (no port).
    pub host: &'a str,
    /// The port the client signed.
    pub port: u16,
    /// The path and query exactly as received.
    pub resource: &'a str,
    /// The `Authorization` header, if any.
    pub authorization: Option<&'a str>,
    /// The content type and body, when the server checks the payload hash.
    pub payload: Option<(&'a str, &'a [u8])>,
}

impl<'a> HawkRequest<'a> {
    /// A request with no `Authorization` and no payload yet.
    pub fn new(method: &'a str, host: &'a str, port: u16, resource: &'a str) -> Self {
        Self {
            method,
            host,
            port,
            resource,
            authorization: None,
            payload: None,
        }
    }

    /// Sets the `Authorization` header value.
    #[must_use]
    pub fn authorization(mut self, header: &'a str) -> Self {
        self.authorization = Some(header);
        self
    }

    /// Sets the content type and the body, so that a payload hash is checked.
    #[must_use]
    pub fn payload(mut self, content_type: &'a str, body: &'a [u8]) -> Self {
        self.payload = Some((content_type, body));
        self
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// No `Authorization` header.
    MissingAuthorization,
    /// The header is not a parsable `Hawk` header, or has an attribute Hawk does not know.
    MalformedHeader(String),
    /// `id`, `ts`, `nonce` or `mac` is missing.
    MissingAttributes,
    /// No credentials for the `id`.
    UnknownCredentials,
    /// The MAC does not match.
    BadMac,
    /// The server requires a payload hash and the request has none.
    MissingPayloadHash,
    /// The payload hash does not match the body.
    BadPayloadHash,
    /// The timestamp is outside the window; the answer carries the server's time.
    StaleTimestamp {
        /// The server's time, seconds since the Unix epoch.
        server_ts: i64,
    },
    /// The nonce was seen before.
    ReplayedNonce,
    /// The nonce store is full.
    NonceStoreFull,
}

/// A refused request: the status and `WWW-Authenticate` to answer with, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// Why.
    pub reason: RefusalReason,
    /// The HTTP status: 400 for a malformed header, 503 for a full nonce store, 401
    /// otherwise.
    pub status: u16,
    /// The `WWW-Authenticate` value for a 401 (with `ts` and `tsm` for a stale timestamp).
    pub www_authenticate: Option<String>,
}

impl Refusal {
    fn new(reason: RefusalReason, www: Option<String>) -> Self {
        let status = match reason {
            RefusalReason::MalformedHeader(_) | RefusalReason::MissingAttributes => 400,
            RefusalReason::NonceStoreFull => 503,
            _ => 401,
        };
        Self {
            reason,
            status,
            www_authenticate: www,
        }
    }

    fn unauthorized(reason: RefusalReason, error: &str) -> Self {
        Self::new(reason, Some(format!("Hawk error=\"{error}\"")))
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Hawk request refused ({}): {:?}",
            self.status, self.reason
        )
    }
}

impl std::error::Error for Refusal {}

/// An authenticated request: who sent it and what its MAC covered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Authenticated {
    /// The sender's credentials.
    pub credentials: Credentials,
    /// What the request's MAC covered (including `ext`, `app`, `dlg`).
    pub artifacts: Artifacts,
}

impl Authenticated {
    /// The `Server-Authorization` value for the reply, covering `payload` (content type
    /// and body) when given.
    pub fn server_authorization(&self, payload: Option<(&str, &[u8])>) -> String {
        ServerAuthorization::create(&self.credentials, &self.artifacts, payload)
    }
}

/// The attributes an `Authorization: Hawk …` header may carry.
const REQUEST_ATTRIBUTES: [&str; 8] = ["id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"];

/// Checks Hawk requests in one call, as the reference server does: the header, the
/// credentials, the MAC, the payload hash (when sent, or always when required), the
/// timestamp window (a stale one is answered with the server's time and its `tsm`), and the
/// nonce (a replay is refused). Comparisons are constant-time. The timestamp is checked
/// before the nonce, so that the store only ever holds nonces that could still be replayed.
///
/// ```
/// use std::sync::Arc;
/// use tixpay_core::{FixedClock, Secret};
/// use tixpay_ticket_hawk::hawk::{Algorithm, Artifacts, Credentials, HawkRequest, ServerVerifier};
///
/// let credentials = Credentials::new("agent01", Secret::new("key"), Algorithm::Sha256);
/// let verifier = ServerVerifier::new(credentials.clone())
///     .clock(Arc::new(FixedClock::from_seconds(1_700_000_000)));
/// let signed = Artifacts::new("GET", "tickets.example", 443, "/api/Order/Query/Main/1", 1_700_000_000, "n1");
/// let header = credentials.header(&signed)?;
/// let request = HawkRequest::new("GET", "tickets.example", 443, "/api/Order/Query/Main/1")
///     .authorization(&header);
/// let who = verifier.verify(&request).expect("authentic");
/// assert_eq!(who.credentials.id(), "agent01");
/// // The same request again is a replay.
/// assert_eq!(verifier.verify(&request).unwrap_err().status, 401);
/// # Ok::<(), tixpay_ticket_hawk::hawk::HawkError>(())
/// ```
pub struct ServerVerifier<L, N = MemoryNonceStore> {
    lookup: L,
    nonces: N,
    clock: tixpay_core::SharedClock,
    skew: std::time::Duration,
    require_payload_hash: bool,
}

impl<L, N> fmt::Debug for ServerVerifier<L, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerVerifier")
            .field("skew", &self.skew)
            .field("require_payload_hash", &self.require_payload_hash)
            .finish_non_exhaustive()
    }
}

impl<L: CredentialsLookup> ServerVerifier<L, MemoryNonceStore> {
    /// A verifier for the credentials `lookup` finds, with an in-memory nonce store
    /// ([`MemoryNonceStore::default`]), the system clock, a window of ±60 s (the reference
    /// server's), and payload hashes checked when sent.
    pub fn new(lookup: L) -> Self {
        Self {
            lookup,
            nonces: MemoryNonceStore::default(),
            clock: std::sync::Arc::new(tixpay_core::SystemClock),
            skew: std::time::Duration::from_secs(60),
            require_payload_hash: false,
        }
    }
}

impl<L: CredentialsLookup, N: NonceStore> ServerVerifier<L, N> {
    /// Uses `store` for replay protection (a shared one for several server processes).
    pub fn nonce_store<M: NonceStore>(self, store: M) -> ServerVerifier<L, M> {
        ServerVerifier {
            lookup: self.lookup,
            nonces: store,
            clock: self.clock,
            skew: self.skew,
            require_payload_hash: self.require_payload_hash,
        }
    }

    /// The server's clock.
    #[must_use]
    pub fn clock(mut self, clock: tixpay_core::SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How far a request's timestamp may be from the server's clock, either way.
    #[must_use]
    pub fn skew(mut self, skew: std::time::Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Refuse requests without a payload hash (the hash is checked whenever one is sent
    /// and the request's payload is given).
    #[must_use]
    pub fn require_payload_hash(mut self, on: bool) -> Self {
        self.require_payload_hash = on;
        self
    }

    /// Checks `request`.
    pub fn verify(&self, request: &HawkRequest<'_>) -> Result<Authenticated, Refusal> {
        let Some(header) = request.authorization else {
            return Err(Refusal::new(
                RefusalReason::MissingAuthorization,
                Some("Hawk".into()),
            ));
        };
        let attrs = parse_header(header)
            .map_err(|e| Refusal::new(RefusalReason::MalformedHeader(e.to_string()), None))?;
        if let Some(unknown) = attrs
            .keys()
            .find(|k| !REQUEST_ATTRIBUTES.contains(&k.as_str()))
        {
            return Err(Refusal::new(
                RefusalReason::MalformedHeader(format!("unknown attribute `{unknown}`")),
                None,
            ));
        }
        let (Some(id), Some(ts), Some(nonce), Some(mac)) = (
            attrs.get("id"),
            attrs.get("ts"),
            attrs.get("nonce"),
            attrs.get("mac"),
        ) else {
            return Err(Refusal::new(RefusalReason::MissingAttributes, None));
        };
        let ts = parse_ts(ts).ok_or_else(|| {
            Refusal::new(RefusalReason::MalformedHeader(format!("ts `{ts}`")), None)
        })?;
        let credentials = self.lookup.credentials(id).ok_or_else(|| {
            Refusal::unauthorized(RefusalReason::UnknownCredentials, "Unknown credentials")
        })?;
        let mut artifacts = Artifacts::new(
            request.method,
            request.host,
            request.port,
            request.resource,
            ts,
            nonce.clone(),
        );
        artifacts.hash = attrs.get("hash").cloned();
        artifacts.ext = attrs.get("ext").cloned();
        if let Some(app) = attrs.get("app") {
            artifacts = artifacts.app(app.clone(), attrs.get("dlg").cloned());
        }
        let expected = credentials.request_mac(&artifacts);
        if !crypto::constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(Refusal::unauthorized(RefusalReason::BadMac, "Bad mac"));
        }
        match (&artifacts.hash, request.payload) {
            (None, _) if self.require_payload_hash => {
                return Err(Refusal::unauthorized(
                    RefusalReason::MissingPayloadHash,
                    "Missing required payload hash",
                ));
            }
            (Some(hash), Some((content_type, body))) => {
                let expected = credentials.payload_hash(content_type, body);
                if !crypto::constant_time_eq(expected.as_bytes(), hash.as_bytes()) {
                    return Err(Refusal::unauthorized(
                        RefusalReason::BadPayloadHash,
                        "Bad payload hash",
                    ));
                }
            }
            _ => {}
        }
        let now = self.clock.now_seconds();
        let window = i64::try_from(self.skew.as_secs()).unwrap_or(i64::MAX);
        if now.abs_diff(ts) > window.unsigned_abs() {
            let www = format!(
                "Hawk ts=\"{now}\", tsm=\"{}\", error=\"Stale timestamp\"",
                credentials.timestamp_mac(now)
            );
            return Err(Refusal::new(
                RefusalReason::StaleTimestamp { server_ts: now },
                Some(www),
            ));
        }
        match self
            .nonces
            .check_and_record(id, nonce, ts, now.saturating_sub(window))
        {
            NonceCheck::Fresh => Ok(Authenticated {
                credentials,
                artifacts,
            }),
            NonceCheck::Replayed => Err(Refusal::unauthorized(
                RefusalReason::ReplayedNonce,
                "Invalid nonce",
            )),
            NonceCheck::Full => Err(Refusal::new(RefusalReason::NonceStoreFull, None)),
        }
    }
}

/// A Hawk timestamp: decimal digits only (no sign, no spaces), as the reference server's
/// `ts` is a number of seconds.
fn parse_ts(ts: &str) -> Option<i64> {
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ts.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials::new(
            "dh37fgj492je",
            Secret::new("werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn"),
            Algorithm::Sha256,
        )
    }

    #[test]
    fn tsm_known_answers() {
        // Computed outside the crate with Python's hmac module:
        //   base64(hmac.new(key, b"hawk.1.ts\n1700000000\n", sha256|sha1).digest())
        let key = "0123456789ABCDEFE10ADC3949BA59ABBE56E057F20F883E";
        let sha256 = Credentials::new("agent01", Secret::new(key), Algorithm::Sha256);
        assert_eq!(
            sha256.timestamp_mac(1_700_000_000),
            "QTsYjPXHjkwPZrQzkJU8sR5aJTz4Aghp/ajfcrtLXaw="
        );
        assert_eq!(
            sha256.timestamp_mac(1_362_346_425),
            "EJ+PseQ1TJJwMYRuJPAyh6fRp40v0ibEr9ATUGpp4Ds="
        );
        let sha1 = Credentials::new("agent01", Secret::new(key), Algorithm::Sha1);
        assert_eq!(
            sha1.timestamp_mac(1_700_000_000),
            "uol8NBzfmXA/SjxtqCxTbU2V2mM="
        );
        let www = WwwAuthenticate {
            ts: Some(1_700_000_000),
            tsm: Some("QTsYjPXHjkwPZrQzkJU8sR5aJTz4Aghp/ajfcrtLXaw=".into()),
            error: None,
        };
        assert_eq!(www.verify_tsm(&sha256), Ok(true));
        assert!(www.verify_tsm(&sha1).is_err());
    }

    #[test]
    fn parse_header_accepts_only_the_hawk_scheme() {
        assert!(parse_header("Hawk id=\"a\"").is_ok());
        assert!(parse_header("hawk id=\"a\"").is_ok());
        for other in [
            "Mawk id=\"a\"",
            "Bear id=\"a\"",
            "Basic dGVzdA==",
            "Haw",
            "",
        ] {
            assert!(
                matches!(parse_header(other), Err(HawkError::MalformedHeader(_))),
                "{other}"
            );
        }
    }

    #[test]
    fn parse_header_size_limit_is_4096_bytes() {
        let prefix = "Hawk id=\"";
        let fill = |total: usize| {
            let inner = "a".repeat(total - prefix.len() - 1);
            format!("{prefix}{inner}\"")
        };
        let at_limit = fill(4096);
        assert_eq!(at_limit.len(), 4096);
        assert!(parse_header(&at_limit).is_ok());
        let over = fill(4097);
        assert!(matches!(
            parse_header(&over),
            Err(HawkError::MalformedHeader(why)) if why.contains("4096")
        ));
    }

    #[test]
    fn vectors_h1_to_h4() {
        let h1 = Artifacts::new(
            "GET",
            "example.com",
            8000,
            "/resource/1?b=1&a=2",
            1353832234,
            "j4h3g2",
        )
        .ext("some-app-ext-data");
        assert_eq!(
            normalized_string("header", &h1),
            "hawk.1.header\n1353832234\nj4h3g2\nGET\n/resource/1?b=1&a=2\nexample.com\n8000\n\nsome-app-ext-data\n"
        );
        assert_eq!(
            creds().request_mac(&h1),
            "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="
        );
        let h2 = payload_hash(
            Algorithm::Sha256,
            "text/plain",
            b"Thank you for flying Hawk",
        );
        assert_eq!(h2, "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=");
        let h3 = Artifacts {
            method: "POST".into(),
            ..h1
        }
        .hash(h2);
        assert_eq!(
            creds().request_mac(&h3),
            "aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw="
        );
        let h4 = Artifacts::new(
            "GET",
            "example.com",
            8080,
            "/resource/something",
            1357747017,
            "k3k4j5",
        );
        assert_eq!(
            normalized_string("header", &h4),
            "hawk.1.header\n1357747017\nk3k4j5\nGET\n/resource/something\nexample.com\n8080\n\n\n"
        );
        assert_eq!(
            normalized_string("header", &h4.ext("this is some app data")),
            "hawk.1.header\n1357747017\nk3k4j5\nGET\n/resource/something\nexample.com\n8080\n\nthis is some app data\n"
        );
    }

    #[test]
    fn normalization_details() {
        let a = Artifacts::new("post", "EXAMPLE.com", 443, "/x?", 1, "n")
            .ext("a\\b\nc")
            .app("app1", Some("dlg1".into()));
        assert_eq!(
            normalized_string("header", &a),
            "hawk.1.header\n1\nn\nPOST\n/x?\nexample.com\n443\n\na\\\\b\\nc\napp1\ndlg1\n"
        );
        let uri: http::Uri = "https://Example.com/a/b?c=%20d".parse().unwrap();
        let a = Artifacts::for_url("get", &uri, 5, "n").unwrap();
        assert_eq!(
            (a.port, a.resource.as_str(), a.host.as_str()),
            (443, "/a/b?c=%20d", "Example.com")
        );
        let uri: http::Uri = "http://h:8080/".parse().unwrap();
        assert_eq!(Artifacts::for_url("GET", &uri, 5, "n").unwrap().port, 8080);
        let uri: http::Uri = "http://h/".parse().unwrap();
        assert_eq!(Artifacts::for_url("GET", &uri, 5, "n").unwrap().port, 80);
    }

    #[test]
    fn header_round_trips_through_the_parser() {
        let a = Artifacts::new("GET", "h", 80, "/", 1, "n").ext("say \"hi\" \\o/");
        let header = creds().header(&a).unwrap();
        let attrs = parse_header(&header).unwrap();
        assert_eq!(attrs["ext"], "say \"hi\" \\o/");
        assert_eq!(attrs["id"], "dh37fgj492je");
        assert!(
            creds()
                .header(&Artifacts::new("GET", "h", 80, "/", 1, "n\""))
                .is_err()
        );
        assert!(
            creds()
                .header(&Artifacts::new("GET", "h", 80, "/", 1, "n").ext("票"))
                .is_err()
        );
    }

    #[test]
    fn parser_rejects_bad_headers() {
        for bad in [
            "",
            "Basic abc",
            "Hawk id",
            "Hawk id=abc",
            "Hawk id=\"abc",
            "Hawk id=\"a\", id=\"b\"",
            "Hawk =\"x\"",
        ] {
            assert!(parse_header(bad).is_err(), "{bad}");
        }
        assert!(parse_header("hawk  id=\"a\",ts=\"1\"  ,, mac=\"m\"").is_ok());
        assert!(WwwAuthenticate::parse("Hawk ts=\"soon\"").is_err());
        assert!(ServerAuthorization::parse("Hawk mac=\"m\", id=\"x\"").is_err());
        assert!(ServerAuthorization::parse("Hawk hash=\"h\"").is_err());
    }

    #[test]
    fn tsm_and_server_authorization() {
        let c = creds();
        let ts = 1362346425;
        let header = format!(
            "Hawk ts=\"{ts}\", tsm=\"{}\", error=\"Stale timestamp\"",
            c.timestamp_mac(ts)
        );
        let www = WwwAuthenticate::parse(&header).unwrap();
        assert_eq!(www.verify_tsm(&c), Ok(true));
        let bad = WwwAuthenticate {
            tsm: Some("AAAA".into()),
            ..www.clone()
        };
        assert_eq!(bad.verify_tsm(&c), Err(HawkError::Mismatch("tsm")));
        let none = WwwAuthenticate { tsm: None, ..www };
        assert_eq!(none.verify_tsm(&c), Ok(false));

        let request = Artifacts::new("POST", "h", 80, "/r", 1, "n").hash("abc");
        let value = ServerAuthorization::create(&c, &request, Some(("application/json", b"{}")));
        let parsed = ServerAuthorization::parse(&value).unwrap();
        assert_eq!(
            parsed.verify(
                &c,
                &request,
                Some(("application/json; charset=utf-8", b"{}"))
            ),
            Ok(())
        );
        assert!(
            parsed
                .verify(&c, &request, Some(("application/json", b"{ }")))
                .is_err()
        );
        let other = Artifacts {
            nonce: "m".into(),
            ..request.clone()
        };
        assert!(parsed.verify(&c, &other, None).is_err());
        let no_hash =
            ServerAuthorization::parse(&ServerAuthorization::create(&c, &request, None)).unwrap();
        assert_eq!(no_hash.verify(&c, &request, None), Ok(()));
        assert_eq!(
            no_hash.verify(&c, &request, Some(("text/plain", b""))),
            Err(HawkError::Missing("hash"))
        );
    }

    #[test]
    fn sha1_is_selectable() {
        let c = Credentials::new("id", Secret::new("key"), Algorithm::Sha1);
        let a = Artifacts::new("GET", "h", 80, "/", 1, "n");
        // 20-byte MAC → 28 base64 characters.
        assert_eq!(c.request_mac(&a).len(), 28);
        assert_eq!(c.payload_hash("text/plain", b"x").len(), 28);
        assert_ne!(
            c.payload_hash("text/plain", b"x"),
            payload_hash(Algorithm::Sha256, "text/plain", b"x")
        );
    }
}
