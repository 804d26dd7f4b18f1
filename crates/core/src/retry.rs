//! Retries that never duplicate a payment: [`Idempotency`], [`RetryPolicy`] and the
//! injectable [`Sleep`].
//!
//! After every attempt [`HttpClient`](crate::HttpClient) decides, in one place, what comes
//! next. The provider's half of the call ([`Authenticate::verify`](crate::Authenticate::verify))
//! has already said whether the reply is an authentic answer, a refusal (and whether that
//! refusal is retryable), or a request to sign again:
//!
//! | what happened | `Safe` | `Keyed` | `Unsafe` |
//! |---|---|---|---|
//! | connection failed before sending | retry (on the next host, if the operation has one) | same | same |
//! | the server refused before acting and said how to sign (Hawk stale timestamp, `tsm` verified) | sign again, send now (once) | same | same |
//! | timeout after sending | retry | retry | stop |
//! | HTTP 5xx or 429 ([`is_retryable_status`]) | retry | retry | stop |
//! | provider's "busy, retry with the same parameters" code | retry | retry | stop |
//! | anything else | stop | stop | stop |
//!
//! Every row runs under one attempt budget ([`RetryPolicy::max_attempts`]), one total timeout
//! and one [`Attempts`](crate::Attempts) count.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;

use crate::transport::BoxFuture;

/// Whether an operation may be sent more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// A read: sending it twice changes nothing.
    Safe,
    /// A write the provider de-duplicates by this merchant key (`out_order_no`,
    /// `merchant_refund_id`), which is the same on every attempt.
    Keyed(String),
    /// A write that may act twice if sent twice. Never retried once it may have been sent.
    Unsafe,
}

impl Idempotency {
    /// A short name for logs: `safe`, `keyed`, `unsafe`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Keyed(_) => "keyed",
            Self::Unsafe => "unsafe",
        }
    }

    /// Whether a request that may have been processed may be sent again.
    pub fn allows_resend(&self) -> bool {
        !matches!(self, Self::Unsafe)
    }
}

/// Whether sending the same request again may get another answer: 5xx and 429.
///
/// The one definition, used by the retry policy, by [`Error::is_retryable`](crate::Error::is_retryable)
/// and by the providers.
///
/// ```
/// use http::StatusCode;
/// use tixpay_core::retry::is_retryable_status;
/// assert!(is_retryable_status(StatusCode::SERVICE_UNAVAILABLE));
/// assert!(is_retryable_status(StatusCode::TOO_MANY_REQUESTS));
/// assert!(!is_retryable_status(StatusCode::BAD_REQUEST));
/// ```
pub fn is_retryable_status(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// What one attempt ended with, as the retry decision sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The connection failed before anything was sent.
    NotSent,
    /// A timeout or failure after the request may have been sent.
    MaybeSent,
    /// The provider answered and the answer is not the result: `retryable` when sending the
    /// same bytes again may succeed ([`Error::is_retryable`](crate::Error::is_retryable): 5xx,
    /// 429, a documented "busy" code).
    Refused {
        /// Whether the same request may succeed if sent again.
        retryable: bool,
    },
}

/// Capped exponential backoff with full jitter.
///
/// ```
/// use std::time::Duration;
/// use tixpay_core::retry::{AttemptOutcome, Idempotency, RetryPolicy};
///
/// let policy = RetryPolicy::default().max_attempts(4).initial_backoff(Duration::from_millis(100));
/// let unavailable = AttemptOutcome::Refused { retryable: true };
/// assert!(policy.should_retry(&Idempotency::Safe, unavailable));
/// assert!(!policy.should_retry(&Idempotency::Unsafe, unavailable));
/// assert!(policy.should_retry(&Idempotency::Unsafe, AttemptOutcome::NotSent));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms initial backoff doubling up to 5 s, full jitter, `Retry-After`
    /// honoured up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self::default().max_attempts(1)
    }

    /// The most attempts, the first included (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The backoff before the first retry; it doubles for each further retry.
    #[must_use]
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The cap on one backoff.
    #[must_use]
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The longest `Retry-After` the client will wait; a longer one ends the retries and the
    /// reply is returned as it is.
    #[must_use]
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.max_retry_after = d;
        self
    }

    /// Full jitter on (default) or off (deterministic backoff, for tests).
    #[must_use]
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The configured attempt limit.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest `Retry-After` honoured.
    pub fn retry_after_limit(&self) -> Duration {
        self.max_retry_after
    }

    /// Whether an attempt that ended with `outcome` may be repeated for an operation of this
    /// idempotency (ignoring the attempt count).
    pub fn should_retry(&self, idempotency: &Idempotency, outcome: AttemptOutcome) -> bool {
        match outcome {
            AttemptOutcome::NotSent => true,
            AttemptOutcome::MaybeSent => idempotency.allows_resend(),
            AttemptOutcome::Refused { retryable } => retryable && idempotency.allows_resend(),
        }
    }

    /// The delay before retry number `retry` (1 for the first retry).
    ///
    /// Jitter is not a secret: should the CSPRNG fail, the delay is the full, un-jittered
    /// ceiling rather than an error.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(31);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        if !self.jitter || ceiling.is_zero() {
            return ceiling;
        }
        let mut buf = [0u8; 8];
        if crate::crypto::fill_random(&mut buf).is_err() {
            return ceiling;
        }
        let fraction = u64::from_le_bytes(buf) as f64 / u64::MAX as f64;
        ceiling.mul_f64(fraction)
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP date (relative to `now_seconds`).
pub fn parse_retry_after(value: &str, now_seconds: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = crate::datetime::parse_http_date(value)?;
    Some(Duration::from_secs(
        u64::try_from(at.saturating_sub(now_seconds)).unwrap_or(0),
    ))
}

/// How the client waits between attempts. Inject [`InstantSleep`] in tests so they do not
/// wait.
pub trait Sleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Returns at once and records every requested duration.
///
/// ```
/// use std::time::Duration;
/// use tixpay_core::retry::{InstantSleep, Sleep};
/// # tokio_test_block_on(async {
/// let sleep = InstantSleep::default();
/// sleep.sleep(Duration::from_secs(3600)).await;
/// assert_eq!(sleep.slept(), vec![Duration::from_secs(3600)]);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct InstantSleep {
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl InstantSleep {
    /// Every duration asked for so far.
    pub fn slept(&self) -> Vec<Duration> {
        self.slept
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }
}

impl Sleep for InstantSleep {
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        match self.slept.lock() {
            Ok(mut v) => v.push(duration),
            Err(e) => e.into_inner().push(duration),
        }
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_table() {
        let p = RetryPolicy::default();
        let keyed = Idempotency::Keyed("R1".into());
        for idem in [&Idempotency::Safe, &keyed, &Idempotency::Unsafe] {
            assert!(p.should_retry(idem, AttemptOutcome::NotSent));
            let resend = idem.allows_resend();
            assert_eq!(p.should_retry(idem, AttemptOutcome::MaybeSent), resend);
            assert_eq!(
                p.should_retry(idem, AttemptOutcome::Refused { retryable: true }),
                resend
            );
            assert!(!p.should_retry(idem, AttemptOutcome::Refused { retryable: false }));
        }
        assert!(!Idempotency::Unsafe.allows_resend());
        assert!(Idempotency::Safe.allows_resend());
        assert!(keyed.allows_resend());
    }

    #[test]
    fn retryable_statuses() {
        for (status, retryable) in [
            (500, true),
            (502, true),
            (503, true),
            (599, true),
            (429, true),
            (200, false),
            (204, false),
            (307, false),
            (400, false),
            (401, false),
            (404, false),
            (428, false),
            (430, false),
        ] {
            assert_eq!(
                is_retryable_status(StatusCode::from_u16(status).unwrap()),
                retryable,
                "{status}"
            );
        }
    }

    #[test]
    fn max_retry_after_keeps_the_settings_chained_before_it() {
        let p = RetryPolicy::default()
            .max_attempts(7)
            .initial_backoff(Duration::from_millis(11))
            .max_backoff(Duration::from_millis(13))
            .jitter(false)
            .max_retry_after(Duration::from_secs(9));
        assert_eq!(p.attempts(), 7);
        assert_eq!(p.backoff(1), Duration::from_millis(11));
        assert_eq!(p.backoff(2), Duration::from_millis(13));
        assert_eq!(p.retry_after_limit(), Duration::from_secs(9));
    }

    #[test]
    fn jitter_falls_back_to_the_ceiling_when_the_rng_fails() {
        let p = RetryPolicy::default().initial_backoff(Duration::from_millis(1000));
        let d = crate::crypto::tests::with_failing_rng(|| p.backoff(1));
        assert_eq!(d, Duration::from_millis(1000));
    }

    #[test]
    fn backoff_is_capped_exponential() {
        let p = RetryPolicy::default()
            .jitter(false)
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(3), Duration::from_millis(350));
        assert_eq!(p.backoff(60), Duration::from_millis(350));
    }

    #[test]
    fn jitter_stays_below_ceiling_and_varies() {
        let p = RetryPolicy::default().initial_backoff(Duration::from_millis(1000));
        let samples: Vec<Duration> = (0..50).map(|_| p.backoff(1)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_millis(1000)));
        assert!(samples.iter().any(|d| *d != samples[0]));
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7", 0), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 4),
            Some(Duration::from_secs(6))
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 40),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("-1", 0), None);
    }

    #[test]
    fn max_attempts_at_least_one() {
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
        assert_eq!(RetryPolicy::none().attempts(), 1);
    }
}
