//! Slugs: the URL-safe names of environments and providers.

use std::fmt;

use super::Error;

/// A lowercase ASCII name: letters, digits and hyphens, 1–63 characters, starting with a letter
/// and not ending with a hyphen. Safe in URLs, file names and log lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Parses a slug; `field` names the input in the error.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let valid = (1..=63).contains(&value.len())
            && value.starts_with(|c: char| c.is_ascii_lowercase())
            && !value.ends_with('-')
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                format!(
                    "`{field}` must be 1-63 lowercase letters, digits or hyphens, starting with a letter"
                ),
            ))
        }
    }

    /// The slug's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_slugs_and_rejects_the_rest() {
        for ok in ["dev", "prod-eu", "a", "staging2"] {
            assert!(Slug::parse("slug", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Dev",
            "2dev",
            "dev-",
            "dev_env",
            "dév",
            &"a".repeat(64),
            "a b",
        ] {
            assert!(Slug::parse("slug", bad).is_err(), "{bad}");
        }
    }
}
