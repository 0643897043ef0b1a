//! Cursor pagination: `?cursor=&limit=` in, `{data, next_cursor}` out.

use serde::Deserialize;

use super::Error;

/// Default page size when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 20;

/// A request for one page.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    /// Opaque cursor from a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
}

/// A checked page request.
#[derive(Debug, Clone)]
pub struct Page {
    /// Start after this item.
    pub after: Option<String>,
    /// Number of items to return.
    pub limit: u32,
}

impl PageRequest {
    /// Checks the limit range.
    pub fn parse(self) -> Result<Page, Error> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=100).contains(&limit) {
            return Err(Error::invalid("limit", "`limit` must be between 1 and 100"));
        }
        Ok(Page {
            after: self.cursor.filter(|c| !c.is_empty()),
            limit,
        })
    }
}

/// One page of results: ask the store for `limit + 1` items, then call this.
pub fn paginate<T>(
    mut items: Vec<T>,
    limit: u32,
    cursor_of: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if items.len() > limit {
        items.truncate(limit);
        let next = items.last().map(cursor_of);
        (items, next)
    } else {
        (items, None)
    }
}
