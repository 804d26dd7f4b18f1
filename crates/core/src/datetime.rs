//! The date and time formats the providers put on the wire, without a calendar library.
//!
//! All functions work on whole seconds since the Unix epoch and an explicit UTC offset in
//! seconds (China Standard Time is [`CST`], +08:00). Parsers return `None` for anything that
//! is not exactly the format; they never panic.
//!
//! ```
//! use tixpay_core::datetime::{self, CST};
//!
//! let t = 1_430_908_460;
//! assert_eq!(datetime::format_http_date(t), "Wed, 06 May 2015 10:34:20 GMT");
//! assert_eq!(datetime::format_compact(t, CST), "20150506183420");
//! assert_eq!(datetime::parse_compact("20150506183420", CST), Some(t));
//! assert_eq!(datetime::parse_rfc3339("2015-05-06T18:34:20+08:00"), Some(t));
//! ```

/// UTC+08:00, the offset every provider here uses for local times.
pub const CST: i32 = 8 * 3600;

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
    /// Second, 0–59.
    pub second: u32,
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl Civil {
    /// The civil time at `unix` seconds, seen from `offset` seconds east of UTC.
    pub fn from_unix(unix: i64, offset: i32) -> Self {
        let local = unix.saturating_add(i64::from(offset));
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Self {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }

    /// Seconds since the Unix epoch of this civil time at `offset`, or `None` if a field is
    /// out of range (years outside ±1 000 000 included).
    pub fn to_unix(&self, offset: i32) -> Option<i64> {
        if !(-1_000_000..=1_000_000).contains(&self.year)
            || !(1..=12).contains(&self.month)
            || self.day == 0
            || self.day > days_in_month(self.year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 59
        {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        Some(
            days * 86_400 + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
                - i64::from(offset),
        )
    }
}

/// RFC 1123 / IMF-fixdate in GMT: `Wed, 06 May 2015 10:34:20 GMT` (HTTP `Date`).
pub fn format_http_date(unix: i64) -> String {
    let c = Civil::from_unix(unix, 0);
    let weekday = WEEKDAYS
        .get(unix.div_euclid(86_400).rem_euclid(7) as usize)
        .copied()
        .unwrap_or("Thu");
    let month = MONTHS.get(c.month as usize - 1).copied().unwrap_or("Jan");
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

/// Parses an RFC 1123 date in GMT (`Wed, 06 May 2015 10:34:20 GMT`). A one-digit day
/// (`Wed, 6 May 2015 …`, as Java's `EEE, d MMM yyyy` writes it) is accepted; the weekday
/// must be a valid name but is not cross-checked.
pub fn parse_http_date(s: &str) -> Option<i64> {
    let rest = s.trim();
    let (weekday, rest) = rest.split_once(", ")?;
    if !WEEKDAYS.contains(&weekday) {
        return None;
    }
    let mut parts = rest.split(' ');
    let day = parse_digits(parts.next()?, 1, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
    let year = parse_digits(parts.next()?, 4, 4)?;
    let time = parts.next()?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    let (hour, minute, second) = parse_hms(time)?;
    Civil {
        year: i64::from(year),
        month,
        day,
        hour,
        minute,
        second,
    }
    .to_unix(0)
}

/// `yyyyMMddHHmmss` at `offset` (WeChat Pay time ranges, LeShua `pay_time`).
pub fn format_compact(unix: i64, offset: i32) -> String {
    let c = Civil::from_unix(unix, offset);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `yyyyMMdd` at `offset`.
pub fn format_compact_date(unix: i64, offset: i32) -> String {
    let c = Civil::from_unix(unix, offset);
    format!("{:04}{:02}{:02}", c.year, c.month, c.day)
}

/// Parses `yyyyMMddHHmmss` (14 digits) or `yyyyMMdd` (8 digits, midnight) at `offset`.
pub fn parse_compact(s: &str, offset: i32) -> Option<i64> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> { s.get(range)?.parse().ok() };
    let (hour, minute, second) = match s.len() {
        14 => (num(8..10)?, num(10..12)?, num(12..14)?),
        8 => (0, 0, 0),
        _ => return None,
    };
    Civil {
        year: i64::from(num(0..4)?),
        month: num(4..6)?,
        day: num(6..8)?,
        hour,
        minute,
        second,
    }
    .to_unix(offset)
}

/// `yyyy-MM-dd HH:mm:ss` at `offset` (LeShua notifications, Lianhe product times).
pub fn format_local(unix: i64, offset: i32) -> String {
    let c = Civil::from_unix(unix, offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// Parses `yyyy-MM-dd HH:mm:ss` at `offset`.
pub fn parse_local(s: &str, offset: i32) -> Option<i64> {
    let (date, time) = s.split_once(' ')?;
    let (year, month, day) = parse_ymd(date)?;
    let (hour, minute, second) = parse_hms(time)?;
    Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    }
    .to_unix(offset)
}

/// Parses a date `yyyy-MM-dd` into (year, month, day), checking that the day exists.
pub fn parse_ymd(s: &str) -> Option<(i64, u32, u32)> {
    let mut parts = s.split('-');
    let year = parse_digits(parts.next()?, 4, 4)?;
    let month = parse_digits(parts.next()?, 2, 2)?;
    let day = parse_digits(parts.next()?, 2, 2)?;
    if parts.next().is_some()
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(i64::from(year), month)
    {
        return None;
    }
    Some((i64::from(year), month, day))
}

/// RFC 3339 with the given offset: `2015-05-20T13:29:35+08:00`.
pub fn format_rfc3339(unix: i64, offset: i32) -> String {
    let c = Civil::from_unix(unix, offset);
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        off / 3600,
        off / 60 % 60
    )
}

/// Parses RFC 3339 (`2015-05-20T13:29:35.120+08:00`, `…Z`); fractions of a second are
/// dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let (year, month, day) = parse_ymd(date)?;
    let time = rest.get(..8)?;
    let (hour, minute, second) = parse_hms(time)?;
    let mut tail = rest.get(8..)?;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        tail = frac.get(digits..)?;
    }
    let offset: i32 = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            let (h, m) = tail.get(1..)?.split_once(':')?;
            let h = parse_digits(h, 2, 2)?;
            let m = parse_digits(m, 2, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60) as i32
        }
    };
    Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    }
    .to_unix(offset)
}

fn parse_digits(s: &str, min: usize, max: usize) -> Option<u32> {
    if s.len() < min || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(':');
    let h = parse_digits(parts.next()?, 2, 2)?;
    let m = parse_digits(parts.next()?, 2, 2)?;
    let sec = parse_digits(parts.next()?, 2, 2)?;
    if parts.next().is_some() {
        return None;
    }
    Some((h, m, sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_round_trip() {
        // Vector J1's date.
        assert_eq!(
            parse_http_date("Wed, 06 May 2015 10:34:20 GMT"),
            Some(1_430_908_460)
        );
        assert_eq!(
            format_http_date(1_430_908_460),
            "Wed, 06 May 2015 10:34:20 GMT"
        );
        // The Java test's date.
        assert_eq!(
            format_http_date(parse_http_date("Mon, 11 Dec 2017 15:27:10 GMT").unwrap_or(0)),
            "Mon, 11 Dec 2017 15:27:10 GMT"
        );
        assert_eq!(
            parse_http_date("Wed, 6 May 2015 10:34:20 GMT"),
            Some(1_430_908_460)
        );
        assert_eq!(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn http_date_rejects_garbage() {
        for bad in [
            "",
            "Wed, 06 May 2015 10:34:20",
            "Wed, 06 May 2015 10:34:20 UTC",
            "Wed, 32 May 2015 10:34:20 GMT",
            "Wed, 06 Foo 2015 10:34:20 GMT",
            "Xyz, 06 May 2015 10:34:20 GMT",
            "Wed, 06 May 2015 24:00:00 GMT",
            "Wed, 06 May 2015 10:34:20 GMT extra",
            "Wed, 29 Feb 2015 10:34:20 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
        assert!(parse_http_date("Tue, 29 Feb 2028 00:00:00 GMT").is_some());
    }

    #[test]
    fn compact_formats() {
        let t = parse_rfc3339("2009-12-25T09:10:10+08:00").unwrap_or(0);
        assert_eq!(format_compact(t, CST), "20091225091010");
        assert_eq!(parse_compact("20091225091010", CST), Some(t));
        assert_eq!(format_compact_date(t, CST), "20091225");
        assert_eq!(
            parse_compact("20091225", CST),
            parse_rfc3339("2009-12-25T00:00:00+08:00")
        );
        for bad in [
            "2009122509101",
            "20091325091010",
            "2009122509101a",
            "",
            "+0091225",
        ] {
            assert_eq!(parse_compact(bad, CST), None, "{bad}");
        }
    }

    #[test]
    fn local_and_rfc3339() {
        let t = parse_local("2018-12-07 22:42:39", CST).unwrap_or(0);
        assert_eq!(format_local(t, CST), "2018-12-07 22:42:39");
        assert_eq!(parse_compact("20181207224239", CST), Some(t));
        assert_eq!(
            parse_rfc3339("2015-05-20T13:29:35.120+08:00"),
            parse_local("2015-05-20 13:29:35", CST)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_rfc3339(0, CST), "1970-01-01T08:00:00+08:00");
        assert_eq!(format_rfc3339(0, -3600), "1969-12-31T23:00:00-01:00");
        for bad in [
            "2015-05-20T13:29:35",
            "2015-05-20T13:29:35.+08:00",
            "2015-05-20T13:29:35+8:00",
            "2015-02-30T13:29:35Z",
            "2015-05-20",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let far = Civil::from_unix(i64::MAX, 0);
        assert_eq!(far.to_unix(-3600), None);
        let c = Civil {
            year: i64::MAX / 100,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
        };
        assert_eq!(c.to_unix(0), None);
        let _ = Civil::from_unix(i64::MIN, i32::MIN);
        let _ = format_http_date(i64::MIN);
        let _ = format_rfc3339(i64::MAX, i32::MAX);
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        let mut t = -2_208_988_800_i64; // 1900-01-01
        while t < 4_102_444_800 {
            let c = Civil::from_unix(t, CST);
            assert_eq!(c.to_unix(CST), Some(t));
            t += 86_400 * 37 + 3_661;
        }
    }
}
