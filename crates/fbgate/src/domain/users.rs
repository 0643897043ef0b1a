//! Users: the people an app signs in, with or without a Facebook identity.

use super::pagination::{Page, paginate};
use super::{Context, Error};
use crate::ids;
use crate::store::UserRow;

/// An email address: trimmed, one `@` with text on both sides, no spaces, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address; `field` names the input in the error.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let value = value.trim();
        let valid = value.len() <= 254
            && !value.chars().any(char::is_whitespace)
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                format!("`{field}` is not an email address"),
            ))
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user created through the API (`POST /v1/users`), parsed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Email, optional.
    pub email: Option<Email>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

fn name_part(field: &str, value: Option<&str>) -> Result<Option<String>, Error> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > 200 => Err(Error::invalid(
            field,
            format!("`{field}` is longer than 200 characters"),
        )),
        Some(v) => Ok(Some(v.to_owned())),
    }
}

impl NewUser {
    /// Parses raw input.
    pub fn parse(
        email: Option<&str>,
        first_name: Option<&str>,
        last_name: Option<&str>,
    ) -> Result<Self, Error> {
        Ok(Self {
            email: email.map(|e| Email::parse("email", e)).transpose()?,
            first_name: name_part("first_name", first_name)?,
            last_name: name_part("last_name", last_name)?,
        })
    }
}

/// Joins given and family name into a display name.
pub fn display_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

/// Creates a user without identity, for apps that sign users in themselves.
pub async fn create(ctx: &Context, environment_id: &str, new: NewUser) -> Result<UserRow, Error> {
    let now = ctx.clock.now();
    let user = UserRow {
        id: ids::new_id("usr"),
        environment_id: environment_id.to_owned(),
        email: new.email.map(|e| e.0),
        name: display_name(new.first_name.as_deref(), new.last_name.as_deref()),
        first_name: new.first_name,
        last_name: new.last_name,
        profile_image_url: None,
        created_via: "api".to_owned(),
        created_at: now,
        updated_at: now,
        last_sign_in_at: None,
    };
    let slug = super::webhooks::environment_slug(ctx, environment_id).await?;
    let created = super::webhooks::user_created(&slug, &user, now).into_row(environment_id);
    ctx.store.insert_user_with_events(&user, &[created]).await?;
    Ok(user)
}

/// Reads a user; 404 `user_not_found` when absent from this environment.
pub async fn get(ctx: &Context, environment_id: &str, id: &str) -> Result<UserRow, Error> {
    ctx.store
        .get_user(environment_id, id)
        .await?
        .ok_or_else(|| Error::not_found("user_not_found", "no user with this id"))
}

/// One page of users, optionally filtered by exact email.
pub async fn list(
    ctx: &Context,
    environment_id: &str,
    email: Option<&str>,
    page: Page,
) -> Result<(Vec<UserRow>, Option<String>), Error> {
    let rows = ctx
        .store
        .list_users(environment_id, email, page.after.as_deref(), page.limit + 1)
        .await?;
    Ok(paginate(rows, page.limit, |u| u.id.clone()))
}

/// Deletes a user with identities and sessions.
pub async fn delete(ctx: &Context, environment_id: &str, id: &str) -> Result<UserRow, Error> {
    let user = get(ctx, environment_id, id).await?;
    ctx.store.delete_user(environment_id, id).await?;
    ctx.credential_cache.clear();
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked() {
        for ok in ["ada@example.com", " a.b+c@d.co "] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }
}
