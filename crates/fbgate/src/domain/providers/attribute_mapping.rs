//! Attribute mapping: which field of Facebook's `/me` answer fills which field of a user.
//!
//! A mapping sends each user attribute to a dot-path into the raw `/me` JSON
//! (`picture.data.url`). Paths are checked when the provider is saved, not when a user signs in:
//! a path whose first segment Facebook's User node does not have, or that goes below `picture`
//! anywhere but to `data.url|width|height|is_silhouette`, can never resolve and is refused
//! naming its attribute. The first segments of the paths are also what fbgate asks `/me` for
//! ([`AttributeMapping::graph_fields`]), so a mapping never needs a second Graph call.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::domain::Error;

/// Fields of Facebook's User node that a mapping may start from.
pub const USER_FIELDS: &[&str] = &[
    "id",
    "name",
    "first_name",
    "last_name",
    "middle_name",
    "short_name",
    "name_format",
    "email",
    "picture",
    "birthday",
    "gender",
    "link",
    "locale",
    "timezone",
    "location",
    "hometown",
    "age_range",
    "verified",
];

/// What may follow `picture`: its `data` object's scalar fields.
const PICTURE_PATHS: &[&str] = &[
    "data.url",
    "data.width",
    "data.height",
    "data.is_silhouette",
];

/// Most segments in one path.
const MAX_SEGMENTS: usize = 6;
/// Longest segment.
const MAX_SEGMENT_LEN: usize = 64;

/// A user attribute that a provider fills from Facebook's profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attribute {
    /// The user's email address.
    EmailAddress,
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// Full display name.
    Name,
    /// The app-scoped user id; the identity's key.
    ProviderUserId,
    /// The profile picture's URL.
    ProfileImageUrl,
}

impl Attribute {
    /// Every attribute, in the order the API lists them.
    pub const ALL: [Attribute; 6] = [
        Attribute::EmailAddress,
        Attribute::FirstName,
        Attribute::LastName,
        Attribute::Name,
        Attribute::ProviderUserId,
        Attribute::ProfileImageUrl,
    ];

    /// The attribute's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::EmailAddress => "email_address",
            Attribute::FirstName => "first_name",
            Attribute::LastName => "last_name",
            Attribute::Name => "name",
            Attribute::ProviderUserId => "provider_user_id",
            Attribute::ProfileImageUrl => "profile_image_url",
        }
    }

    fn parse(field: &str, value: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == value)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
                Error::invalid(
                    format!("{field}.{value}"),
                    format!(
                        "unknown attribute `{value}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }
}

/// A checked dot-path into the `/me` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfilePath(Vec<String>);

impl ProfilePath {
    /// Parses a path; `field` names the mapping entry in the error.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let invalid = |why: String| Error::invalid(field, format!("`{value}` {why}"));
        let segments: Vec<&str> = value.split('.').collect();
        if segments.len() > MAX_SEGMENTS {
            return Err(invalid(format!("has more than {MAX_SEGMENTS} segments")));
        }
        let well_formed = |s: &&str| {
            !s.is_empty()
                && s.len() <= MAX_SEGMENT_LEN
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        };
        if !segments.iter().all(well_formed) {
            return Err(invalid(
                "is not a dot-path of letters, digits and underscores (like `picture.data.url`)"
                    .to_owned(),
            ));
        }
        let first = segments[0];
        if !USER_FIELDS.contains(&first) {
            return Err(invalid(format!(
                "can never resolve: Facebook's user has no field `{first}` (it has {})",
                USER_FIELDS.join(", ")
            )));
        }
        if first == "picture" && !PICTURE_PATHS.contains(&segments[1..].join(".").as_str()) {
            return Err(invalid(format!(
                "can never resolve to a value: below `picture` only {} exist",
                PICTURE_PATHS.join(", ")
            )));
        }
        Ok(Self(segments.into_iter().map(str::to_owned).collect()))
    }

    /// The field asked of `/me`.
    pub fn first_segment(&self) -> &str {
        self.0.first().map(String::as_str).unwrap_or_default()
    }

    /// Follows the path into `profile`; strings, numbers and booleans become text, anything
    /// else (absent, null, an object, an empty string) is `None`.
    pub fn resolve(&self, profile: &Value) -> Option<String> {
        let mut at = profile;
        for segment in &self.0 {
            at = at.get(segment)?;
        }
        match at {
            Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        }
    }
}

impl fmt::Display for ProfilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// The profile of one Facebook user as the provider's mapping reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappedProfile {
    /// From `email_address`.
    pub email: Option<String>,
    /// From `first_name`.
    pub first_name: Option<String>,
    /// From `last_name`.
    pub last_name: Option<String>,
    /// From `name`.
    pub name: Option<String>,
    /// From `provider_user_id`.
    pub provider_user_id: Option<String>,
    /// From `profile_image_url`.
    pub profile_image_url: Option<String>,
}

/// The complete mapping of a provider: the defaults of the API, with the provider's own entries
/// laid over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeMapping(BTreeMap<Attribute, ProfilePath>);

impl Default for AttributeMapping {
    /// `email_address←email`, `first_name←first_name`, `last_name←last_name`,
    /// `provider_user_id←id`, `profile_image_url←picture.data.url`.
    fn default() -> Self {
        let defaults = [
            (Attribute::EmailAddress, &["email"][..]),
            (Attribute::FirstName, &["first_name"][..]),
            (Attribute::LastName, &["last_name"][..]),
            (Attribute::ProviderUserId, &["id"][..]),
            (Attribute::ProfileImageUrl, &["picture", "data", "url"][..]),
        ];
        Self(
            defaults
                .into_iter()
                .map(|(attribute, path)| {
                    let path = path.iter().map(|s| (*s).to_owned()).collect();
                    (attribute, ProfilePath(path))
                })
                .collect(),
        )
    }
}

impl AttributeMapping {
    /// The defaults with `entries` laid over them. An entry whose value is `None` removes the
    /// attribute from the mapping, except `provider_user_id`, which every sign-in needs.
    /// Errors name the entry: `attribute_mapping.email_address`.
    pub fn parse(field: &str, entries: &BTreeMap<String, Option<String>>) -> Result<Self, Error> {
        let mut mapping = Self::default();
        for (key, value) in entries {
            let attribute = Attribute::parse(field, key)?;
            let entry_field = format!("{field}.{key}");
            match value {
                Some(path) => {
                    mapping
                        .0
                        .insert(attribute, ProfilePath::parse(&entry_field, path)?);
                }
                None if attribute == Attribute::ProviderUserId => {
                    return Err(Error::invalid(
                        entry_field,
                        "`provider_user_id` cannot be unmapped: it identifies the Facebook user",
                    ));
                }
                None => {
                    mapping.0.remove(&attribute);
                }
            }
        }
        Ok(mapping)
    }

    /// Reads a mapping as stored (every entry explicit, no defaults applied).
    pub fn from_stored(field: &str, entries: &BTreeMap<String, String>) -> Result<Self, Error> {
        let mut mapping = BTreeMap::new();
        for (key, path) in entries {
            let attribute = Attribute::parse(field, key)?;
            mapping.insert(
                attribute,
                ProfilePath::parse(&format!("{field}.{key}"), path)?,
            );
        }
        if !mapping.contains_key(&Attribute::ProviderUserId) {
            return Err(Error::invalid(
                format!("{field}.provider_user_id"),
                "missing",
            ));
        }
        Ok(Self(mapping))
    }

    /// The path an attribute is read from, if it is mapped.
    pub fn path(&self, attribute: Attribute) -> Option<&ProfilePath> {
        self.0.get(&attribute)
    }

    /// Every entry, as the API shows and the store keeps it.
    pub fn entries(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .map(|(attribute, path)| (attribute.as_str().to_owned(), path.to_string()))
            .collect()
    }

    /// The `fields` parameter for `/me`: the first segment of every path, `id` always first,
    /// `picture` asked for in its large size.
    pub fn graph_fields(&self) -> String {
        let mut fields = vec!["id"];
        for path in self.0.values() {
            let first = path.first_segment();
            if !fields.contains(&first) {
                fields.push(first);
            }
        }
        fields
            .into_iter()
            .map(|field| {
                if field == "picture" {
                    "picture.type(large)"
                } else {
                    field
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads a raw `/me` answer through the mapping.
    pub fn apply(&self, profile: &Value) -> MappedProfile {
        let read = |attribute| self.path(attribute).and_then(|p| p.resolve(profile));
        MappedProfile {
            email: read(Attribute::EmailAddress),
            first_name: read(Attribute::FirstName),
            last_name: read(Attribute::LastName),
            name: read(Attribute::Name),
            provider_user_id: read(Attribute::ProviderUserId),
            profile_image_url: read(Attribute::ProfileImageUrl),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entries(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    fn refused_field(pairs: &[(&str, Option<&str>)]) -> String {
        match AttributeMapping::parse("attribute_mapping", &entries(pairs)) {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("{pairs:?} was not refused: {other:?}"),
        }
    }

    fn me() -> Value {
        json!({
            "id": "10203040",
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "name": "Ada Lovelace",
            "timezone": 1,
            "verified": true,
            "location": {"id": "1", "name": "London"},
            "picture": {"data": {"url": "https://cdn.example/ada.jpg", "width": 200,
                                  "height": 200, "is_silhouette": false}}
        })
    }

    #[test]
    fn the_default_mapping_reads_the_usual_fields() {
        let mapping = AttributeMapping::default();
        assert_eq!(
            mapping.apply(&me()),
            MappedProfile {
                email: Some("ada@example.com".into()),
                first_name: Some("Ada".into()),
                last_name: Some("Lovelace".into()),
                name: None,
                provider_user_id: Some("10203040".into()),
                profile_image_url: Some("https://cdn.example/ada.jpg".into()),
            }
        );
        assert_eq!(
            mapping.graph_fields(),
            "id,email,first_name,last_name,picture.type(large)"
        );
    }

    #[test]
    fn given_entries_merge_over_the_defaults() {
        let mapping = AttributeMapping::parse(
            "attribute_mapping",
            &entries(&[
                ("name", Some("name")),
                ("first_name", Some("short_name")),
                ("profile_image_url", None),
            ]),
        )
        .unwrap();
        let entries = mapping.entries();
        assert_eq!(entries["name"], "name");
        assert_eq!(entries["first_name"], "short_name");
        assert_eq!(entries["email_address"], "email");
        assert!(!entries.contains_key("profile_image_url"));
        assert_eq!(mapping.graph_fields(), "id,email,short_name,last_name,name");
        let profile = mapping.apply(&me());
        assert_eq!(profile.name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(profile.first_name, None, "me() has no short_name");
        assert_eq!(profile.profile_image_url, None);
    }

    #[test]
    fn nested_paths_numbers_and_booleans_resolve_as_text() {
        let mapping = AttributeMapping::parse(
            "attribute_mapping",
            &entries(&[
                ("first_name", Some("location.name")),
                ("last_name", Some("timezone")),
                ("name", Some("verified")),
                ("profile_image_url", Some("picture.data.width")),
            ]),
        )
        .unwrap();
        let profile = mapping.apply(&me());
        assert_eq!(profile.first_name.as_deref(), Some("London"));
        assert_eq!(profile.last_name.as_deref(), Some("1"));
        assert_eq!(profile.name.as_deref(), Some("true"));
        assert_eq!(profile.profile_image_url.as_deref(), Some("200"));
        assert!(mapping.graph_fields().starts_with("id,"));
        assert!(mapping.graph_fields().contains("location"));
    }

    #[test]
    fn missing_null_empty_and_object_values_are_none() {
        let mapping =
            AttributeMapping::parse("attribute_mapping", &entries(&[("name", Some("location"))]))
                .unwrap();
        let profile = mapping.apply(&json!({"id": 42, "email": "", "first_name": null,
                                            "location": {"name": "x"}}));
        assert_eq!(profile.provider_user_id.as_deref(), Some("42"));
        assert_eq!(profile.email, None);
        assert_eq!(profile.first_name, None);
        assert_eq!(profile.name, None);
        assert_eq!(profile.profile_image_url, None);
    }

    #[test]
    fn paths_that_can_never_resolve_are_refused_naming_the_attribute() {
        let cases: &[(&str, &str)] = &[
            ("email_address", "mail"),
            ("email_address", "emails.0"),
            ("profile_image_url", "picture.url"),
            ("profile_image_url", "picture"),
            ("profile_image_url", "picture.data"),
            ("profile_image_url", "picture.data.src"),
            ("name", "name..first"),
            ("name", ""),
            ("name", ".name"),
            ("name", "name-full"),
            ("name", "location.a.b.c.d.e.f"),
            ("first_name", "first name"),
        ];
        for (attribute, path) in cases {
            assert_eq!(
                refused_field(&[(attribute, Some(path))]),
                format!("attribute_mapping.{attribute}"),
                "{path}"
            );
        }
        assert_eq!(
            refused_field(&[("nickname", Some("name"))]),
            "attribute_mapping.nickname"
        );
        assert_eq!(
            refused_field(&[("provider_user_id", None)]),
            "attribute_mapping.provider_user_id"
        );
    }

    #[test]
    fn a_stored_mapping_reads_back_unchanged() {
        let mapping = AttributeMapping::parse(
            "attribute_mapping",
            &entries(&[("name", Some("name")), ("email_address", None)]),
        )
        .unwrap();
        let again = AttributeMapping::from_stored("attribute_mapping", &mapping.entries()).unwrap();
        assert_eq!(again, mapping);
        assert_eq!(again.path(Attribute::EmailAddress), None);
    }
}
