//! [`Transport`]: how bytes reach a provider. [`ReqwestTransport`] is the default; plug in your
//! own (a proxy, a tower stack, a mock) by implementing the trait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::error::{BoxError, Error, ErrorKind, TimeoutPhase};

mod body;
pub use body::{BodyStream, StreamingBody};

/// A boxed, sendable future (what [`Transport::send`] returns).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Default cap on a response body: 4 MiB. No provider here sends more than a few KiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The User-Agent every tixpay request carries unless configured otherwise.
pub const USER_AGENT: &str = concat!("tixpay/", env!("CARGO_PKG_VERSION"));

/// Sends one HTTP request and returns the whole response.
///
/// Object-safe: clients hold an `Arc<dyn Transport>`. Implementations do not retry, sign or
/// interpret status codes; they move bytes and report precisely how a failure happened,
/// because that decides whether money may have moved.
///
/// ```
/// use bytes::Bytes;
/// use tixpay_core::transport::{BoxFuture, Transport, TransportError};
///
/// /// A transport that answers every request with 204.
/// #[derive(Debug)]
/// struct NoContent;
///
/// impl Transport for NoContent {
///     fn send(
///         &self,
///         _request: http::Request<Bytes>,
///     ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
///         Box::pin(async {
///             let mut response = http::Response::new(Bytes::new());
///             *response.status_mut() = http::StatusCode::NO_CONTENT;
///             Ok(response)
///         })
///     }
/// }
/// ```
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request`; resolves to the response with its body fully read.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>>;

    /// Sends `request`; resolves once the response head is in, with a body to read piece by
    /// piece ([`StreamingBody::chunk`]), for bodies too large to hold in memory (bill files).
    ///
    /// The default reads the whole body through [`Transport::send`] (so its size cap
    /// applies) and hands it out as one piece: a transport written before this method existed
    /// keeps working, without streaming. [`ReqwestTransport`] streams, without a size cap:
    /// the caller bounds what it keeps.
    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<StreamingBody>, TransportError>> {
        Box::pin(async move {
            let response = self.send(request).await?;
            Ok(response.map(StreamingBody::from_bytes))
        })
    }
}

/// How a transport failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (refused, DNS, TLS handshake). Nothing was sent.
    Connect,
    /// Connecting took too long. Nothing was sent.
    ConnectTimeout,
    /// The attempt took too long after the connection was made.
    Timeout,
    /// The response body exceeded the cap; reading stopped.
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Any other failure; the request may have been sent.
    Other,
}

/// A transport failure.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<BoxError>,
}

impl TransportError {
    /// A failure of the given kind.
    pub fn new(kind: TransportErrorKind) -> Self {
        Self { kind, source: None }
    }

    /// Keeps the underlying cause.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// How it failed.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the request may have left this machine.
    pub fn may_have_been_sent(&self) -> bool {
        !matches!(
            self.kind,
            TransportErrorKind::Connect | TransportErrorKind::ConnectTimeout
        )
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TransportErrorKind::Connect => f.write_str("connection failed")?,
            TransportErrorKind::ConnectTimeout => f.write_str("connect timeout")?,
            TransportErrorKind::Timeout => f.write_str("timeout")?,
            TransportErrorKind::BodyTooLarge { limit } => {
                write!(f, "response body over {limit} bytes")?;
            }
            TransportErrorKind::Other => f.write_str("transport failure")?,
        }
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        let kind = match e.kind {
            TransportErrorKind::Connect => ErrorKind::Transport {
                may_have_been_sent: false,
            },
            TransportErrorKind::ConnectTimeout => ErrorKind::Timeout {
                phase: TimeoutPhase::Connect,
                may_have_been_sent: false,
            },
            TransportErrorKind::Timeout => ErrorKind::Timeout {
                phase: TimeoutPhase::Attempt,
                may_have_been_sent: true,
            },
            TransportErrorKind::BodyTooLarge { limit } => ErrorKind::ResponseTooLarge { limit },
            TransportErrorKind::Other => ErrorKind::Transport {
                may_have_been_sent: true,
            },
        };
        let source = e.source;
        let err = Error::new(kind);
        match source {
            Some(s) => err.with_source(s),
            None => err,
        }
    }
}

/// Which TLS library a [`ReqwestTransport`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsBackend {
    /// rustls on aws-lc-rs (the default).
    Rustls,
    /// The platform's native TLS (feature `native-tls`).
    NativeTls,
}

/// The default [`Transport`]: reqwest with rustls, a connect timeout, and a response-size cap
/// enforced while reading.
///
/// ```
/// use tixpay_core::transport::{ReqwestTransport, TlsBackend};
/// use std::time::Duration;
///
/// let transport = ReqwestTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .max_response_bytes(1 << 20)
///     .build()?;
/// assert_eq!(transport.tls_backend(), TlsBackend::Rustls);
/// # Ok::<(), tixpay_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_response_bytes: usize,
    tls: TlsBackend,
}

/// Builds a [`ReqwestTransport`].
#[derive(Debug, Clone)]
pub struct ReqwestTransportBuilder {
    connect_timeout: Duration,
    max_response_bytes: usize,
    user_agent: String,
    tls: Option<TlsBackend>,
    use_system_proxy: bool,
}

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: USER_AGENT.to_owned(),
            tls: None,
            use_system_proxy: false,
        }
    }
}

impl ReqwestTransportBuilder {
    /// How long establishing a connection may take (default 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The largest response body accepted (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    #[must_use]
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Replaces the User-Agent (default `tixpay/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Chooses the TLS library. The default is rustls when the `rustls` feature is on.
    #[must_use]
    pub fn tls_backend(mut self, tls: TlsBackend) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Honour the system's proxy settings (`HTTPS_PROXY`…). Off by default, so that a
    /// stray environment variable cannot route payment traffic through a proxy.
    #[must_use]
    pub fn use_system_proxy(mut self, on: bool) -> Self {
        self.use_system_proxy = on;
        self
    }

    /// Builds the transport.
    pub fn build(self) -> Result<ReqwestTransport, Error> {
        let tls = match self.tls {
            Some(tls) => tls,
            None if cfg!(feature = "rustls") => TlsBackend::Rustls,
            None if cfg!(feature = "native-tls") => TlsBackend::NativeTls,
            None => {
                return Err(Error::config(
                    "no TLS backend: enable the `rustls` (default) or `native-tls` feature",
                ));
            }
        };
        // Redirects are never followed: a 307 would resend a signed payment body elsewhere,
        // a 302 would turn it into a GET. The provider's reply is returned as it is.
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent);
        if !self.use_system_proxy {
            builder = builder.no_proxy();
        }
        builder = match tls {
            #[cfg(feature = "rustls")]
            TlsBackend::Rustls => builder.tls_backend_rustls(),
            #[cfg(feature = "native-tls")]
            TlsBackend::NativeTls => builder.tls_backend_native(),
            #[allow(unreachable_patterns)]
            other => {
                return Err(Error::config(format!(
                    "TLS backend {other:?} is not compiled in: enable its feature"
                )));
            }
        };
        let client = builder
            .build()
            .map_err(|e| Error::config("cannot build the HTTP client").with_source(e))?;
        Ok(ReqwestTransport {
            client,
            max_response_bytes: self.max_response_bytes,
            tls,
        })
    }
}

impl ReqwestTransport {
    /// A builder with the defaults.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// A transport with the defaults.
    pub fn new() -> Result<Self, Error> {
        Self::builder().build()
    }

    /// Wraps an existing reqwest client (its own timeouts and TLS apply). `tls` records which
    /// backend it was built with.
    pub fn from_client(
        client: reqwest::Client,
        max_response_bytes: usize,
        tls: TlsBackend,
    ) -> Self {
        Self {
            client,
            max_response_bytes,
            tls,
        }
    }

    /// The TLS library in use.
    pub fn tls_backend(&self) -> TlsBackend {
        self.tls
    }

    /// The response-size cap.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    async fn send_inner(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::Connect).with_source(e))?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let limit = self.max_response_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(TransportError::new(TransportErrorKind::BodyTooLarge {
                limit,
            }));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if body.len() + chunk.len() > limit {
                return Err(TransportError::new(TransportErrorKind::BodyTooLarge {
                    limit,
                }));
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = http::Response::new(body.freeze());
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }

    async fn send_streaming_inner(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<StreamingBody>, TransportError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::Connect).with_source(e))?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let status = response.status();
        let version = response.version();
        let headers = std::mem::take(response.headers_mut());
        let mut out = http::Response::new(StreamingBody::from_stream(ReqwestBody(response)));
        *out.status_mut() = status;
        *out.version_mut() = version;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// A reqwest response body, read with `Response::chunk`.
#[derive(Debug)]
struct ReqwestBody(reqwest::Response);

impl BodyStream for ReqwestBody {
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
        Box::pin(async move { self.0.chunk().await.map_err(classify) })
    }
}

fn classify(e: reqwest::Error) -> TransportError {
    let kind = if e.is_connect() {
        if e.is_timeout() {
            TransportErrorKind::ConnectTimeout
        } else {
            TransportErrorKind::Connect
        }
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind).with_source(e)
}

impl Transport for ReqwestTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        Box::pin(self.send_inner(request))
    }

    fn send_streaming(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, Result<http::Response<StreamingBody>, TransportError>> {
        Box::pin(self.send_streaming_inner(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_tls_is_rustls() {
        let t = ReqwestTransport::new();
        assert!(t.is_ok());
        if let Ok(t) = t {
            assert_eq!(t.tls_backend(), TlsBackend::Rustls);
            assert_eq!(t.max_response_bytes(), DEFAULT_MAX_RESPONSE_BYTES);
        }
    }

    #[test]
    fn error_mapping_keeps_sent_flag() {
        let e: Error = TransportError::new(TransportErrorKind::Connect).into();
        assert!(!e.may_have_been_sent());
        let e: Error = TransportError::new(TransportErrorKind::ConnectTimeout).into();
        assert!(!e.may_have_been_sent());
        assert!(matches!(
            e.kind(),
            ErrorKind::Timeout {
                phase: TimeoutPhase::Connect,
                ..
            }
        ));
        let e: Error = TransportError::new(TransportErrorKind::Timeout).into();
        assert!(e.may_have_been_sent());
        let e: Error = TransportError::new(TransportErrorKind::BodyTooLarge { limit: 9 }).into();
        assert!(matches!(e.kind(), ErrorKind::ResponseTooLarge { limit: 9 }));
    }
}
