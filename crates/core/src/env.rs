//! Settings from environment variables, for each provider's `Config::from_env`.
//!
//! [`Vars`] reads through a lookup function: [`Vars::system`] uses the process environment,
//! and tests pass their own map, so nothing needs to change the process's environment.
//! Values are trimmed; an empty value counts as unset. Errors name the variable and never
//! contain its value.
//!
//! ```
//! use std::collections::HashMap;
//! use tixpay_core::env::Vars;
//!
//! let map = HashMap::from([("SHOP_ID", " 42 "), ("SHOP_KEY", "k")]);
//! let vars = Vars::new(|name| map.get(name).map(|v| v.to_string()));
//! assert_eq!(vars.required("SHOP_ID")?, "42");
//! assert_eq!(vars.parsed::<u32>("SHOP_ID")?, 42);
//! assert_eq!(vars.optional("SHOP_URL"), None);
//! assert_eq!(format!("{:?}", vars.secret("SHOP_KEY")?), "Secret([redacted])");
//! let err = vars.required("SHOP_URL").unwrap_err();
//! assert_eq!(err.to_string(), "invalid configuration: environment variable SHOP_URL is not set");
//! # Ok::<(), tixpay_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::secret::Secret;

/// A source of settings by name.
pub struct Vars<F> {
    lookup: F,
}

impl<F> fmt::Debug for Vars<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vars")
    }
}

/// Reads the process environment (a value that is not UTF-8 counts as unset).
pub type SystemLookup = fn(&str) -> Option<String>;

fn system_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Vars<SystemLookup> {
    /// The process environment.
    pub fn system() -> Self {
        Self::new(system_lookup as SystemLookup)
    }
}

/// A lookup owned by [`Vars`], as [`Vars::from_pairs`] builds.
pub type BoxedLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl Vars<BoxedLookup> {
    /// Settings from a list of `(name, value)` pairs, as a test or a settings file gives them.
    ///
    /// ```
    /// use tixpay_core::env::Vars;
    ///
    /// let vars = Vars::from_pairs([("SHOP_ID", "42")]);
    /// assert_eq!(vars.parsed::<u32>("SHOP_ID")?, 42);
    /// # Ok::<(), tixpay_core::Error>(())
    /// ```
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self::new(Box::new(move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }))
    }
}

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    /// Settings read through `lookup`.
    pub fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The trimmed value, or a configuration error naming `name`.
    pub fn required(&self, name: &str) -> Result<String, Error> {
        self.optional(name)
            .ok_or_else(|| Error::config(format!("environment variable {name} is not set")))
    }

    /// A required value kept as a [`Secret`].
    pub fn secret(&self, name: &str) -> Result<Secret, Error> {
        self.required(name).map(Secret::new)
    }

    /// An optional value kept as a [`Secret`].
    pub fn optional_secret(&self, name: &str) -> Option<Secret> {
        self.optional(name).map(Secret::new)
    }

    /// A required value parsed as `T`; the error names `name` but does not repeat the value.
    pub fn parsed<T: FromStr>(&self, name: &str) -> Result<T, Error> {
        self.required(name)?.parse().map_err(|_| {
            Error::config(format!(
                "environment variable {name} is not a valid {}",
                short_type_name::<T>()
            ))
        })
    }

    /// The contents of the file named by the variable `name` (a key or certificate in PEM).
    pub fn file(&self, name: &str) -> Result<String, Error> {
        let path = self.required(name)?;
        std::fs::read_to_string(&path).map_err(|e| {
            Error::config(format!(
                "cannot read the file named by {name} ({path}): {}",
                e.kind()
            ))
        })
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&'static str, &'static str)]) -> Vars<BoxedLookup> {
        Vars::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let v = vars(&[("A", "  x \n"), ("B", "   ")]);
        assert_eq!(v.optional("A").as_deref(), Some("x"));
        assert_eq!(v.optional("B"), None);
        assert!(v.required("B").is_err());
    }

    #[test]
    fn errors_name_the_variable_and_hide_the_value() {
        let v = vars(&[("PORT", "s3cr3t-not-a-number")]);
        let err = v.parsed::<u16>("PORT").unwrap_err().to_string();
        assert!(err.contains("PORT"), "{err}");
        assert!(err.contains("u16"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
        let err = v.file("MISSING").unwrap_err().to_string();
        assert!(err.contains("MISSING is not set"), "{err}");
    }

    #[test]
    fn files_are_read_and_missing_files_reported() {
        let dir = std::env::temp_dir().join(format!("tixpay-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.pem");
        std::fs::write(&path, "PEM").unwrap();
        let path_text = path.to_string_lossy().into_owned();
        let v = Vars::new(move |name| (name == "KEY_PATH").then(|| path_text.clone()));
        assert_eq!(v.file("KEY_PATH").unwrap(), "PEM");
        std::fs::remove_file(&path).unwrap();
        let err = v.file("KEY_PATH").unwrap_err().to_string();
        assert!(
            err.contains("cannot read the file named by KEY_PATH"),
            "{err}"
        );
    }

    #[test]
    fn the_system_environment_is_read() {
        // PATH is set on every machine that runs cargo.
        assert!(Vars::system().optional("PATH").is_some());
        assert!(
            Vars::system()
                .optional("TIXPAY_SURELY_UNSET_VARIABLE_1234")
                .is_none()
        );
    }
}
