//! Where a credential lives, as `credentials/get` and the proxy name it.
//!
//! Every credential row carries its address as one string, `owner_key`, unique per environment
//! and provider, so that any kind of lookup is a single indexed read. The parts are joined by the
//! ASCII unit separator (0x1F), which the ids given by apps may not contain (they may not contain
//! any control character), so two different addresses never share a key.

use super::Error;

/// The separator of the parts of an owner key.
const SEPARATOR: char = '\u{1f}';

/// The longest tenant, user or page id accepted.
pub const MAX_ID_LEN: usize = 255;

/// Whose credential.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An fbgate user (signed in through fbgate): `user_id` is fbgate's `usr_…`.
    FbgateUser {
        /// The fbgate user.
        user_id: String,
    },
    /// A user of the app's own tenant, connected through a connect session.
    TenantUser {
        /// The app's tenant id.
        tenant_id: String,
        /// The app's user id.
        user_id: String,
    },
    /// A tenant's installation (Facebook Login for Business, system user).
    Installation {
        /// The app's tenant id.
        tenant_id: String,
    },
}

impl Owner {
    /// The tenant, if any.
    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            Owner::FbgateUser { .. } => None,
            Owner::TenantUser { tenant_id, .. } | Owner::Installation { tenant_id } => {
                Some(tenant_id)
            }
        }
    }

    /// The app's own user id, for a tenant's user.
    pub fn external_user_id(&self) -> Option<&str> {
        match self {
            Owner::TenantUser { user_id, .. } => Some(user_id),
            Owner::FbgateUser { .. } | Owner::Installation { .. } => None,
        }
    }

    fn key(&self) -> String {
        let s = SEPARATOR;
        match self {
            Owner::FbgateUser { user_id } => format!("u{s}{user_id}"),
            Owner::TenantUser { tenant_id, user_id } => format!("t{s}{tenant_id}{s}u{s}{user_id}"),
            Owner::Installation { tenant_id } => format!("t{s}{tenant_id}{s}i"),
        }
    }
}

/// A credential's full address: an owner, or one of the owner's pages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// The owner.
    pub owner: Owner,
    /// A page managed by the owner, for page tokens.
    pub page_id: Option<String>,
}

impl Address {
    /// The owner's own credential.
    pub fn of(owner: Owner) -> Self {
        Self {
            owner,
            page_id: None,
        }
    }

    /// The credential of one of the owner's pages.
    pub fn page(owner: Owner, page_id: impl Into<String>) -> Self {
        Self {
            owner,
            page_id: Some(page_id.into()),
        }
    }

    /// The stored `owner_key`.
    pub fn key(&self) -> String {
        match &self.page_id {
            None => self.owner.key(),
            Some(page) => format!("{}{SEPARATOR}p{SEPARATOR}{page}", self.owner.key()),
        }
    }

    /// The `owner_kind` column of the credential at this address.
    pub fn kind(&self) -> &'static str {
        match (&self.page_id, &self.owner) {
            (Some(_), _) => "page",
            (None, Owner::FbgateUser { .. }) => "user",
            (None, Owner::TenantUser { .. }) => "tenant_user",
            (None, Owner::Installation { .. }) => "installation",
        }
    }
}

impl Address {
    /// The address named by a request (`credentials/get`, the proxy's headers), checked:
    /// `user` takes `user_id` (an fbgate user) or `tenant_id` and `user_id` (a tenant's user);
    /// `installation` takes `tenant_id` alone; `page` takes a user's address and `page_id`.
    pub fn from_request(
        credential_for: &str,
        tenant_id: Option<&str>,
        user_id: Option<&str>,
        page_id: Option<&str>,
    ) -> Result<Self, Error> {
        let invalid = |field: &str, message: &str| Error::invalid(field, message);
        for (field, value) in [
            ("tenant_id", tenant_id),
            ("user_id", user_id),
            ("page_id", page_id),
        ] {
            if let Some(value) = value {
                check_id(field, value)?;
            }
        }
        let user_owner = || match (tenant_id, user_id) {
            (_, None) => Err(invalid(
                "user_id",
                "`user_id` is required to address a user's credential",
            )),
            (None, Some(user)) => Ok(Owner::FbgateUser {
                user_id: user.to_owned(),
            }),
            (Some(tenant), Some(user)) => Ok(Owner::TenantUser {
                tenant_id: tenant.to_owned(),
                user_id: user.to_owned(),
            }),
        };
        match credential_for {
            "user" if page_id.is_some() => Err(invalid(
                "page_id",
                "`page_id` goes with `credential_for: page`",
            )),
            "user" => Ok(Address::of(user_owner()?)),
            "page" => {
                let page = page_id.ok_or_else(|| {
                    invalid(
                        "page_id",
                        "`page_id` is required with `credential_for: page`",
                    )
                })?;
                Ok(Address::page(user_owner()?, page))
            }
            "installation" => match (tenant_id, user_id, page_id) {
                (Some(tenant), None, None) => Ok(Address::of(Owner::Installation {
                    tenant_id: tenant.to_owned(),
                })),
                (None, _, _) => Err(invalid(
                    "tenant_id",
                    "`tenant_id` is required with `credential_for: installation`",
                )),
                _ => Err(invalid(
                    "user_id",
                    "an installation is addressed by `tenant_id` alone",
                )),
            },
            _ => Err(invalid(
                "credential_for",
                "`credential_for` must be `user`, `installation` or `page`",
            )),
        }
    }
}

/// Checks an id an app gives (tenant, user or page): 1 to 255 characters, no control character.
pub fn check_id(field: &str, value: &str) -> Result<(), Error> {
    let invalid = |message: String| Error::Invalid {
        field: field.to_owned(),
        code: "invalid_id",
        message,
    };
    if value.is_empty() || value.chars().count() > MAX_ID_LEN {
        return Err(invalid(format!(
            "`{field}` must be 1 to {MAX_ID_LEN} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!(
            "`{field}` may not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_user(tenant: &str, user: &str) -> Owner {
        Owner::TenantUser {
            tenant_id: tenant.to_owned(),
            user_id: user.to_owned(),
        }
    }

    #[test]
    fn different_addresses_have_different_keys() {
        let keys = [
            Address::of(Owner::FbgateUser {
                user_id: "usr_1".to_owned(),
            })
            .key(),
            Address::of(tenant_user("a", "b")).key(),
            Address::of(tenant_user("a", "b:c")).key(),
            Address::of(tenant_user("a:b", "c")).key(),
            Address::of(Owner::Installation {
                tenant_id: "a".to_owned(),
            })
            .key(),
            Address::page(tenant_user("a", "b"), "1").key(),
            Address::page(
                Owner::FbgateUser {
                    user_id: "usr_1".to_owned(),
                },
                "1",
            )
            .key(),
        ];
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn ids_with_control_characters_or_no_characters_are_refused() {
        assert!(check_id("tenant_id", "org_acme").is_ok());
        assert!(check_id("user_id", "ada@example.com").is_ok());
        assert!(check_id("tenant_id", "").is_err());
        assert!(check_id("tenant_id", "a\u{1f}u").is_err());
        assert!(check_id("tenant_id", &"x".repeat(256)).is_err());
    }

    #[test]
    fn requests_name_addresses_or_the_field_at_fault() {
        let page = Address::from_request("page", Some("t"), Some("u"), Some("p")).ok();
        assert_eq!(page, Some(Address::page(tenant_user("t", "u"), "p")));
        let fbgate_user = Address::from_request("user", None, Some("usr_1"), None).ok();
        assert_eq!(fbgate_user.map(|a| a.kind()), Some("user"),);
        let field = |result: Result<Address, Error>| match result {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(
            field(Address::from_request("user", Some("t"), None, None)),
            "user_id"
        );
        assert_eq!(
            field(Address::from_request("page", None, Some("u"), None)),
            "page_id"
        );
        assert_eq!(
            field(Address::from_request("installation", None, None, None)),
            "tenant_id"
        );
        assert_eq!(
            field(Address::from_request(
                "installation",
                Some("t"),
                Some("u"),
                None
            )),
            "user_id"
        );
        assert_eq!(
            field(Address::from_request("robot", None, Some("u"), None)),
            "credential_for"
        );
    }

    #[test]
    fn the_fbgate_user_key_matches_the_migration_backfill() {
        let key = Address::of(Owner::FbgateUser {
            user_id: "usr_1".to_owned(),
        })
        .key();
        assert_eq!(key, "u\u{1f}usr_1");
    }
}
