//! Downloading a picture safely: http(s) only, at most three redirects (each target checked
//! again), a size cap enforced while the body streams in, and an image type that both the
//! `Content-Type` header and the file's first bytes agree on.
//!
//! SVG is refused although browsers show it as an image: an SVG document can carry script, and
//! fbgate would serve it from its own origin.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use url::Url;

/// Largest picture fbgate keeps (Facebook's large profile pictures are tens of kilobytes).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// Redirects followed (Graph's `/{id}/picture` answers 302 to the CDN).
pub const MAX_REDIRECTS: usize = 3;

/// Why a picture was not taken.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an http or https URL.
    #[error("not an http(s) URL")]
    Scheme,
    /// A URL or a redirect target that does not parse.
    #[error("bad URL or redirect target")]
    BadUrl,
    /// More than [`MAX_REDIRECTS`] redirects.
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    /// The request failed (connection, timeout, body).
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// A status other than 2xx or a redirect.
    #[error("status {0}")]
    Status(u16),
    /// The `Content-Type` is missing or not an allowed image type.
    #[error("content type {0:?} is not allowed")]
    ContentType(String),
    /// The body is larger than [`MAX_BYTES`].
    #[error("larger than {MAX_BYTES} bytes")]
    TooLarge,
    /// The first bytes are not those of the declared image type.
    #[error("the bytes are not a {0} image")]
    Mismatch(&'static str),
}

impl From<reqwest::Error> for FetchError {
    fn from(error: reqwest::Error) -> Self {
        // The URL is logged once, by host, by the caller; keep it out of the error text.
        FetchError::Transport(error.without_url())
    }
}

/// The image types fbgate re-hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// `image/jpeg`
    Jpeg,
    /// `image/png`
    Png,
    /// `image/gif`
    Gif,
    /// `image/webp`
    Webp,
}

impl ImageKind {
    /// The media type, as served back.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Gif => "image/gif",
            ImageKind::Webp => "image/webp",
        }
    }

    /// Reads a `Content-Type` header value (parameters and case ignored); `None` for anything
    /// outside the allow-list, SVG included.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "image/jpeg" => Some(ImageKind::Jpeg),
            "image/png" => Some(ImageKind::Png),
            "image/gif" => Some(ImageKind::Gif),
            "image/webp" => Some(ImageKind::Webp),
            _ => None,
        }
    }

    /// The type the magic number at the start of `bytes` names, if any.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageKind::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageKind::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(ImageKind::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(ImageKind::Webp)
        } else {
            None
        }
    }
}

/// A picture that passed every check.
#[derive(Debug)]
pub struct Picture {
    /// Its type, agreed by header and bytes.
    pub kind: ImageKind,
    /// The bytes.
    pub bytes: Vec<u8>,
}

fn checked_url(url: Url) -> Result<Url, FetchError> {
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(url)
    } else {
        Err(FetchError::Scheme)
    }
}

/// Downloads the picture at `source`. The caller bounds the total time.
pub async fn download(http: &reqwest::Client, source: &str) -> Result<Picture, FetchError> {
    let mut url = checked_url(Url::parse(source).map_err(|_| FetchError::BadUrl)?)?;
    let mut redirects = 0;
    let mut response = loop {
        let response = http
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "image/jpeg, image/png, image/gif, image/webp",
            )
            .send()
            .await?;
        if !response.status().is_redirection() {
            break response;
        }
        if redirects == MAX_REDIRECTS {
            return Err(FetchError::TooManyRedirects);
        }
        redirects += 1;
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .ok_or(FetchError::BadUrl)?;
        url = checked_url(url.join(location).map_err(|_| FetchError::BadUrl)?)?;
    };
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let declared = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let kind =
        ImageKind::from_content_type(&declared).ok_or_else(|| FetchError::ContentType(declared))?;
    if response
        .content_length()
        .is_some_and(|length| length > MAX_BYTES as u64)
    {
        return Err(FetchError::TooLarge);
    }
    // Read chunk by chunk and stop at the cap: a server that sends no length (or lies about it)
    // cannot make fbgate buffer more than MAX_BYTES.
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(FetchError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    if ImageKind::sniff(&bytes) != Some(kind) {
        return Err(FetchError::Mismatch(kind.content_type()));
    }
    Ok(Picture { kind, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_raster_types_are_allowed() {
        assert_eq!(
            ImageKind::from_content_type("image/PNG; charset=binary"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::from_content_type("image/jpeg"),
            Some(ImageKind::Jpeg)
        );
        for refused in [
            "image/svg+xml",
            "text/html",
            "image/x-icon",
            "",
            "image/png2",
        ] {
            assert_eq!(ImageKind::from_content_type(refused), None, "{refused}");
        }
    }

    #[test]
    fn magic_numbers_name_the_type() {
        assert_eq!(
            ImageKind::sniff(b"\x89PNG\r\n\x1a\n\0\0"),
            Some(ImageKind::Png)
        );
        assert_eq!(
            ImageKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(ImageKind::sniff(b"GIF89a..."), Some(ImageKind::Gif));
        assert_eq!(
            ImageKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Some(ImageKind::Webp)
        );
        assert_eq!(ImageKind::sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(ImageKind::sniff(b"<svg xmlns="), None);
        assert_eq!(ImageKind::sniff(b""), None);
    }
}
