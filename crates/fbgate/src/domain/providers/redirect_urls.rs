//! Where a sign-in may send the browser back to: the provider's `allowed_redirect_urls`.
//!
//! An entry either names one URL exactly, or ends in `*` and then admits any path below the
//! same scheme, host and port. Nothing else is a wildcard: a `*` anywhere but at the very end is
//! refused, and the part before it must end with `/`, so `https://app.example.com*` cannot be
//! used to admit `https://app.example.com.evil.com`. Both sides are compared after URL parsing
//! (lowercased host, default port made explicit, `..` segments resolved), so two spellings of one
//! place agree and a path cannot climb out of its prefix.

use std::fmt;

use url::Url;

use crate::domain::Error;

/// Longest accepted entry, in bytes.
const MAX_LEN: usize = 2048;
/// Most entries a provider may hold.
pub const MAX_ENTRIES: usize = 100;

/// One entry of `allowed_redirect_urls`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectUrlPattern {
    /// Admits exactly this URL (query included).
    Exact(Url),
    /// Admits any URL with the same scheme, host and port whose path starts with this URL's
    /// path (which ends with `/`).
    Prefix(Url),
}

impl RedirectUrlPattern {
    /// Parses an entry; `field` names it in the error.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let invalid = |why: &str| Error::invalid(field, format!("`{value}` {why}"));
        if value.len() > MAX_LEN {
            return Err(Error::invalid(
                field,
                format!("a redirect URL is at most {MAX_LEN} characters"),
            ));
        }
        let (text, wildcard) = match value.strip_suffix('*') {
            Some(prefix) => (prefix, true),
            None => (value, false),
        };
        if text.contains('*') {
            return Err(invalid(
                "may contain `*` only as its last character (no wildcard hosts)",
            ));
        }
        let url = Url::parse(text).map_err(|_| invalid("is not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("must be an http or https URL"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not contain a user name or password"));
        }
        if value.contains('#') {
            return Err(invalid("must not contain a fragment"));
        }
        if !wildcard {
            return Ok(RedirectUrlPattern::Exact(url));
        }
        if url.query().is_some() {
            return Err(invalid("must not have a query before its `*`"));
        }
        if !text.ends_with('/') {
            return Err(invalid(
                "must have `/` right before its `*` (it admits the paths below a folder)",
            ));
        }
        Ok(RedirectUrlPattern::Prefix(url))
    }

    /// Whether `candidate` is admitted by this entry.
    pub fn matches(&self, candidate: &Url) -> bool {
        if candidate.fragment().is_some()
            || !candidate.username().is_empty()
            || candidate.password().is_some()
        {
            return false;
        }
        match self {
            RedirectUrlPattern::Exact(url) => url == candidate,
            RedirectUrlPattern::Prefix(url) => {
                url.scheme() == candidate.scheme()
                    && url.host() == candidate.host()
                    && url.port_or_known_default() == candidate.port_or_known_default()
                    && candidate.path().starts_with(url.path())
            }
        }
    }
}

impl fmt::Display for RedirectUrlPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectUrlPattern::Exact(url) => f.write_str(url.as_str()),
            RedirectUrlPattern::Prefix(url) => write!(f, "{url}*"),
        }
    }
}

/// The whole `allowed_redirect_urls` list: deduplicated, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowedRedirectUrls(Vec<RedirectUrlPattern>);

impl AllowedRedirectUrls {
    /// Parses the list; an error names the entry (`allowed_redirect_urls[2]`).
    pub fn parse(field: &str, values: &[String]) -> Result<Self, Error> {
        if values.len() > MAX_ENTRIES {
            return Err(Error::invalid(
                field,
                format!("`{field}` holds at most {MAX_ENTRIES} entries"),
            ));
        }
        let mut patterns: Vec<RedirectUrlPattern> = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let pattern = RedirectUrlPattern::parse(&format!("{field}[{index}]"), value)?;
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        Ok(Self(patterns))
    }

    /// Whether any entry admits `candidate`.
    pub fn allows(&self, candidate: &Url) -> bool {
        self.0.iter().any(|pattern| pattern.matches(candidate))
    }

    /// The entries.
    pub fn patterns(&self) -> &[RedirectUrlPattern] {
        &self.0
    }

    /// The entries as text, as stored and shown.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> RedirectUrlPattern {
        RedirectUrlPattern::parse("allowed_redirect_urls[0]", text).unwrap()
    }

    fn admits(pattern_text: &str, candidate: &str) -> bool {
        pattern(pattern_text).matches(&Url::parse(candidate).unwrap())
    }

    #[test]
    fn a_trailing_star_admits_every_path_of_the_same_origin() {
        let p = "https://app.example.com/*";
        assert!(admits(p, "https://app.example.com/"));
        assert!(admits(p, "https://app.example.com/signed-in?next=%2Fhome"));
        assert!(admits(p, "https://APP.example.com:443/a/b"));
    }

    #[test]
    fn a_trailing_star_does_not_reach_other_origins() {
        let p = "https://app.example.com/*";
        assert!(!admits(p, "https://app.example.com.evil.com/"));
        assert!(!admits(p, "http://app.example.com/"));
        assert!(!admits(p, "https://app.example.com:8443/"));
        assert!(!admits(p, "https://evil.com/app.example.com/"));
        assert!(!admits(p, "https://sub.app.example.com/"));
        assert!(!admits(p, "https://user@app.example.com/"));
        assert!(!admits(p, "https://app.example.com/#fragment"));
    }

    #[test]
    fn a_folder_prefix_admits_only_paths_below_it() {
        let p = "https://example.com/app/*";
        assert!(admits(p, "https://example.com/app/"));
        assert!(admits(p, "https://example.com/app/callback"));
        assert!(!admits(p, "https://example.com/app"));
        assert!(!admits(p, "https://example.com/apple"));
        assert!(!admits(p, "https://example.com/app/../admin"));
        assert!(!admits(p, "https://example.com/app/%2e%2e/admin"));
        assert!(!admits(p, "https://example.com/other/app/"));
    }

    #[test]
    fn an_exact_entry_admits_only_that_url() {
        let p = "https://app.example.com/callback";
        assert!(admits(p, "https://app.example.com/callback"));
        assert!(admits(p, "https://app.example.com:443/callback"));
        assert!(!admits(p, "https://app.example.com/callback/"));
        assert!(!admits(p, "https://app.example.com/callback?x=1"));
        assert!(!admits(p, "https://app.example.com/callback2"));
        assert!(!admits(p, "http://app.example.com/callback"));
    }

    #[test]
    fn loopback_development_urls_work_with_their_port() {
        let p = "http://127.0.0.1:3000/*";
        assert!(admits(p, "http://127.0.0.1:3000/demo"));
        assert!(!admits(p, "http://127.0.0.1:3001/demo"));
        assert!(!admits(p, "http://127.0.0.1/demo"));
    }

    #[test]
    fn bad_entries_are_refused_with_the_field_named() {
        for bad in [
            "app.example.com/*",
            "/relative/*",
            "ftp://example.com/",
            "javascript:alert(1)",
            "https://*.example.com/*",
            "https://app.example.com*",
            "https://app.example.com/a*b",
            "https://app.example.com/a*",
            "https://app.example.com/*/x",
            "https://app.example.com/cb#frag",
            "https://app.example.com/#*",
            "https://app.example.com/?a=1*",
            "https://user:pw@app.example.com/",
            "https://",
            "",
            "*",
        ] {
            match RedirectUrlPattern::parse("allowed_redirect_urls[3]", bad) {
                Err(Error::Invalid { field, .. }) => {
                    assert_eq!(field, "allowed_redirect_urls[3]", "{bad}")
                }
                other => panic!("{bad:?} was not refused: {other:?}"),
            }
        }
    }

    #[test]
    fn the_list_is_deduplicated_and_shown_normalised() {
        let list = AllowedRedirectUrls::parse(
            "allowed_redirect_urls",
            &[
                "https://APP.example.com/*".to_owned(),
                "https://app.example.com/*".to_owned(),
                "http://localhost:3000/cb".to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(
            list.to_strings(),
            ["https://app.example.com/*", "http://localhost:3000/cb"]
        );
        assert!(list.allows(&Url::parse("http://localhost:3000/cb").unwrap()));
        assert!(!list.allows(&Url::parse("http://localhost:3000/other").unwrap()));
        match AllowedRedirectUrls::parse(
            "allowed_redirect_urls",
            &["https://ok.example.com/".to_owned(), "nope".to_owned()],
        ) {
            Err(Error::Invalid { field, .. }) => assert_eq!(field, "allowed_redirect_urls[1]"),
            other => panic!("not refused: {other:?}"),
        }
    }
}
