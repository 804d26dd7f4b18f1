//! Injectable time: [`Clock`], with [`SystemClock`] for production and [`FixedClock`] for
//! tests, so that every signature and every freshness check is reproducible.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
///
/// Signatures that include a timestamp (Lianhe `Date`, WeChat `timestamp`, Hawk `ts`) and
/// freshness checks (WeChat's 5-minute window) read the time from here, never from
/// `SystemTime::now()` directly.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;

    /// Whole seconds since the Unix epoch.
    fn now_seconds(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

/// A shared clock.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        }
    }
}

/// A clock that stands still until told to move. For tests and golden vectors.
///
/// ```
/// use tixpay_core::{Clock, FixedClock};
/// use std::time::Duration;
///
/// let clock = FixedClock::from_seconds(1_430_908_460); // Wed, 06 May 2015 10:34:20 GMT
/// assert_eq!(clock.now_seconds(), 1_430_908_460);
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now_seconds(), 1_430_908_520);
/// ```
#[derive(Debug, Default)]
pub struct FixedClock {
    millis: AtomicI64,
}

impl FixedClock {
    /// A clock fixed at `seconds` since the Unix epoch.
    pub fn from_seconds(seconds: i64) -> Self {
        Self::from_millis(seconds.saturating_mul(1000))
    }

    /// A clock fixed at `millis` since the Unix epoch.
    pub fn from_millis(millis: i64) -> Self {
        Self {
            millis: AtomicI64::new(millis),
        }
    }

    /// Sets the time, in seconds since the Unix epoch.
    pub fn set_seconds(&self, seconds: i64) {
        self.millis
            .store(seconds.saturating_mul(1000), Ordering::SeqCst);
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.millis.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_millis(&self) -> i64 {
        self.millis.load(Ordering::SeqCst)
    }
}

/// A clock that runs at the system's pace from an offset: the system time plus `offset`.
/// Sandboxes use it to simulate a server whose clock is wrong.
#[derive(Debug)]
pub struct OffsetClock<C: Clock> {
    base: C,
    offset_millis: AtomicI64,
}

impl<C: Clock> OffsetClock<C> {
    /// `base` shifted by `offset_millis` (negative for a clock that is behind).
    pub fn new(base: C, offset_millis: i64) -> Self {
        Self {
            base,
            offset_millis: AtomicI64::new(offset_millis),
        }
    }

    /// Changes the offset.
    pub fn set_offset_millis(&self, offset_millis: i64) {
        self.offset_millis.store(offset_millis, Ordering::SeqCst);
    }

    /// The current offset.
    pub fn offset_millis(&self) -> i64 {
        self.offset_millis.load(Ordering::SeqCst)
    }
}

impl<C: Clock> Clock for OffsetClock<C> {
    fn now_millis(&self) -> i64 {
        self.base
            .now_millis()
            .saturating_add(self.offset_millis.load(Ordering::SeqCst))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now_millis(&self) -> i64 {
        (**self).now_millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_seconds() > 1_577_836_800);
    }

    #[test]
    fn offset_clock_shifts() {
        let c = OffsetClock::new(FixedClock::from_seconds(100), -30_000);
        assert_eq!(c.now_seconds(), 70);
        c.set_offset_millis(5_000);
        assert_eq!(c.now_seconds(), 105);
        assert_eq!(c.offset_millis(), 5_000);
    }

    #[test]
    fn negative_millis_floor() {
        let c = FixedClock::from_millis(-1);
        assert_eq!(c.now_seconds(), -1);
    }
}
