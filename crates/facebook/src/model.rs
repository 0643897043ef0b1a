//! Typed answers of the Graph reads fbgate makes: `/me`, `/me/permissions`, `/me/accounts`.
//!
//! `Profile` keeps the raw JSON next to its typed fields because attribute mapping addresses
//! arbitrary dot-paths (`picture.data.url`) that a fixed struct cannot foresee.

use serde::Deserialize;
use serde_json::Value;

use crate::de::string_or_number;
use crate::secret::AccessToken;

/// The fields `/me` is asked for when the caller names none.
pub const DEFAULT_PROFILE_FIELDS: &[&str] =
    &["id", "name", "email", "first_name", "last_name", "picture"];

/// A `/me` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// The app-scoped user id.
    pub id: String,
    /// Full name.
    pub name: Option<String>,
    /// Email, absent when not granted or when the account has no valid email.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// `picture.data.url`, which expires after a while.
    pub picture_url: Option<String>,
    /// The whole answer, for attribute mapping.
    pub raw: Value,
}

impl Profile {
    /// Reads a `/me` answer; `None` when it has no usable `id`.
    pub fn from_json(raw: Value) -> Option<Self> {
        let text = |key: &str| {
            raw.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let id = match raw.get("id")? {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let (name, email) = (text("name"), text("email"));
        let (first_name, last_name) = (text("first_name"), text("last_name"));
        let picture_url = raw
            .pointer("/picture/data/url")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Self {
            id,
            name,
            email,
            first_name,
            last_name,
            picture_url,
            raw,
        })
    }

    /// Looks up a dot-path such as `picture.data.url` in the raw answer; returns text for
    /// strings, numbers and booleans.
    pub fn lookup(&self, dot_path: &str) -> Option<String> {
        let mut value = &self.raw;
        for part in dot_path.split('.') {
            value = match value {
                Value::Object(map) => map.get(part)?,
                Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// The status of one permission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionStatus {
    /// The user granted it.
    Granted,
    /// The user declined it.
    Declined,
    /// It was granted but has expired (data access).
    Expired,
    /// A status this client does not know.
    Other(String),
}

impl<'de> Deserialize<'de> for PermissionStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.as_str() {
            "granted" => Self::Granted,
            "declined" => Self::Declined,
            "expired" => Self::Expired,
            _ => Self::Other(text),
        })
    }
}

/// One entry of `/me/permissions`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Permission {
    /// The permission name.
    pub permission: String,
    /// Its status.
    pub status: PermissionStatus,
}

/// The answer of `/me/permissions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Permissions {
    /// Every permission the app asked for, with its status.
    pub data: Vec<Permission>,
}

impl Permissions {
    /// Names of the granted permissions.
    pub fn granted(&self) -> Vec<&str> {
        self.with_status(&PermissionStatus::Granted)
    }

    /// Names of the declined permissions.
    pub fn declined(&self) -> Vec<&str> {
        self.with_status(&PermissionStatus::Declined)
    }

    /// True when `permission` is granted.
    pub fn is_granted(&self, permission: &str) -> bool {
        self.data
            .iter()
            .any(|p| p.permission == permission && p.status == PermissionStatus::Granted)
    }

    fn with_status(&self, status: &PermissionStatus) -> Vec<&str> {
        self.data
            .iter()
            .filter(|p| &p.status == status)
            .map(|p| p.permission.as_str())
            .collect()
    }
}

/// The cursors of a paged answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Cursors {
    /// Cursor of the first item.
    #[serde(default)]
    pub before: Option<String>,
    /// Cursor of the last item; pass as `after` for the next page.
    #[serde(default)]
    pub after: Option<String>,
}

/// The `paging` member of a list answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Paging {
    /// Cursors, for cursor-based paging.
    #[serde(default)]
    pub cursors: Option<Cursors>,
    /// URL of the next page; absent on the last page.
    #[serde(default)]
    pub next: Option<String>,
    /// URL of the previous page.
    #[serde(default)]
    pub previous: Option<String>,
}

/// One page of a list answer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Paged<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where the neighbouring pages are.
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl<T> Paged<T> {
    /// The `after` cursor of the next page, only when Facebook says there is one (`next`).
    pub fn next_cursor(&self) -> Option<&str> {
        let paging = self.paging.as_ref()?;
        paging.next.as_ref()?;
        paging.cursors.as_ref()?.after.as_deref()
    }
}

/// A category of a Page.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct PageCategory {
    /// Category id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Category name.
    pub name: String,
}

/// A Page the user manages, from `/me/accounts`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Page {
    /// Page id.
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Page name.
    #[serde(default)]
    pub name: Option<String>,
    /// The Page access token (non-expiring when derived from a long-lived user token).
    #[serde(default)]
    pub access_token: Option<AccessToken>,
    /// Main category.
    #[serde(default)]
    pub category: Option<String>,
    /// All categories.
    #[serde(default)]
    pub category_list: Vec<PageCategory>,
    /// What the user may do on the Page (`MANAGE`, `CREATE_CONTENT`, …).
    #[serde(default)]
    pub tasks: Vec<String>,
}

/// `/me/accounts` answers one page of these.
pub type Accounts = Paged<Page>;

/// `{"success": true}` (or a bare `true`), the answer of deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Success(pub bool);

impl Success {
    pub(crate) fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(Self(*b)),
            Value::Object(map) => map.get("success").and_then(Value::as_bool).map(Self),
            _ => None,
        }
    }
}

/// An answer that carries just a token (system-user tokens, a Page's `access_token` field).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub(crate) struct TokenOnly {
    pub access_token: AccessToken,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn profile_keeps_typed_fields_and_raw_json() {
        let raw = json!({"id":"10000000000000101","name":"Ada Lovelace","email":"ada@example.com",
            "first_name":"Ada","last_name":"Lovelace",
            "picture":{"data":{"height":50,"is_silhouette":false,"url":"https://img/x.jpg","width":50}}});
        let profile = Profile::from_json(raw).unwrap();
        assert_eq!(profile.first_name.as_deref(), Some("Ada"));
        assert_eq!(profile.picture_url.as_deref(), Some("https://img/x.jpg"));
        assert_eq!(profile.lookup("picture.data.width").as_deref(), Some("50"));
        assert_eq!(
            profile.lookup("picture.data.is_silhouette").as_deref(),
            Some("false")
        );
        assert_eq!(profile.lookup("picture.nope"), None);
    }

    #[test]
    fn profile_without_email_or_id() {
        let profile = Profile::from_json(json!({"id": 5, "name": "Nomail"})).unwrap();
        assert_eq!((profile.id.as_str(), profile.email), ("5", None));
        assert!(Profile::from_json(json!({"name": "x"})).is_none());
    }

    #[test]
    fn permissions_by_status() {
        let permissions: Permissions = serde_json::from_value(json!({"data":[
            {"permission":"public_profile","status":"granted"},
            {"permission":"user_likes","status":"declined"},
            {"permission":"email","status":"expired"}]}))
        .unwrap();
        assert_eq!(permissions.granted(), ["public_profile"]);
        assert_eq!(permissions.declined(), ["user_likes"]);
        assert!(!permissions.is_granted("email"));
    }

    #[test]
    fn accounts_page_and_cursor() {
        let accounts: Accounts = serde_json::from_value(json!({"data":[{"access_token":"EAAp",
            "category":"Brand","category_list":[{"id":"1","name":"Brand"}],"name":"Shop","id":"42",
            "tasks":["ANALYZE","MANAGE"]}],
            "paging":{"cursors":{"before":"b","after":"a"},"next":"https://graph/next"}}))
        .unwrap();
        assert_eq!(accounts.data[0].tasks, ["ANALYZE", "MANAGE"]);
        assert_eq!(accounts.next_cursor(), Some("a"));
        let last: Accounts =
            serde_json::from_value(json!({"data":[],"paging":{"cursors":{"after":"a"}}})).unwrap();
        assert_eq!(last.next_cursor(), None);
    }

    #[test]
    fn success_in_both_shapes() {
        assert_eq!(Success::from_json(&json!(true)), Some(Success(true)));
        assert_eq!(
            Success::from_json(&json!({"success": true})),
            Some(Success(true))
        );
        assert_eq!(Success::from_json(&json!({"ok": 1})), None);
    }
}
