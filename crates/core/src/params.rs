//! [`SortedParams`]: the `k1=v1&k2=v2` string that LeShua and WeChat's front-end invoke
//! signatures are computed over.

/// Parameters sorted by name in byte (ASCII) order and joined as `k=v&…`, without any
/// URL-encoding, as the providers' signing rules ask.
///
/// Options decide whether empty values take part and which names are left out (the `sign`
/// field itself, LeShua's `resp_code`…).
///
/// ```
/// use tixpay_core::SortedParams;
///
/// let mut p = SortedParams::new();
/// p.push("service", "unified_refund");
/// p.push("amount", "100");
/// p.push("attach", "");
/// p.push("sign", "ignored");
/// let signed = p.clone().skip_empty(true).exclude(&["sign"]);
/// assert_eq!(signed.to_string(), "amount=100&service=unified_refund");
/// let kept = p.skip_empty(false).exclude(&["sign"]);
/// assert_eq!(kept.to_string(), "amount=100&attach=&service=unified_refund");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedParams {
    pairs: Vec<(String, String)>,
    skip_empty: bool,
    excluded: Vec<String>,
}

impl SortedParams {
    /// An empty set. Empty values are kept unless [`SortedParams::skip_empty`] says otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter. A later value for the same name replaces the earlier one.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let name = name.into();
        let value = value.into();
        match self.pairs.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.pairs.push((name, value)),
        }
        self
    }

    /// Whether parameters with an empty value are left out.
    #[must_use]
    pub fn skip_empty(mut self, skip: bool) -> Self {
        self.skip_empty = skip;
        self
    }

    /// Names left out of the string (compared exactly).
    #[must_use]
    pub fn exclude(mut self, names: &[&str]) -> Self {
        self.excluded.extend(names.iter().map(|n| (*n).to_owned()));
        self
    }

    /// The parameters that take part, sorted by name in byte order.
    pub fn entries(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(n, v)| !(self.excluded.contains(n) || (self.skip_empty && v.is_empty())))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        out.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        out
    }

    /// The value of `name`, if present (whether or not it takes part).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The string with `&{suffix_name}={suffix_value}` appended, as in LeShua's
    /// `…&key=<key>` (the suffix is not sorted with the rest).
    pub fn to_string_with_suffix(&self, suffix_name: &str, suffix_value: &str) -> String {
        let mut s = self.to_string();
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(suffix_name);
        s.push('=');
        s.push_str(suffix_value);
        s
    }
}

impl std::fmt::Display for SortedParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (n, v)) in self.entries().into_iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for SortedParams {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut p = Self::new();
        for (k, v) in iter {
            p.push(k, v);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_not_locale_order() {
        let p: SortedParams = [("b", "1"), ("B", "2"), ("a_b", "3"), ("aB", "4")]
            .into_iter()
            .collect();
        assert_eq!(p.to_string(), "B=2&aB=4&a_b=3&b=1");
    }

    #[test]
    fn later_value_replaces() {
        let mut p = SortedParams::new();
        p.push("a", "1").push("a", "2");
        assert_eq!(p.to_string(), "a=2");
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(p.get("b"), None);
    }

    #[test]
    fn no_encoding_and_suffix() {
        let mut p = SortedParams::new();
        p.push("notify_url", "https://example.com/n?x=1&y=2");
        assert_eq!(
            p.to_string_with_suffix("key", "K"),
            "notify_url=https://example.com/n?x=1&y=2&key=K"
        );
        assert_eq!(
            SortedParams::new().to_string_with_suffix("key", "K"),
            "key=K"
        );
    }

    #[test]
    fn w4_string() {
        let p: SortedParams = [
            ("mch_id", "10000100"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
            ("body", "test"),
            ("device_info", "1000"),
            ("appid", "wxd930ea5d5a258f4f"),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            p.to_string(),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
        );
    }
}
