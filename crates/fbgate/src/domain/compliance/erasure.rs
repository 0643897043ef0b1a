//! Carrying out a data-deletion request: everything fbgate holds that came from Facebook for one
//! app-scoped user at one provider goes, then the request is marked completed.
//!
//! What goes: the identity (with its raw `/me` profile and scopes), every credential of that
//! Facebook user at that provider (tokens), the user's re-hosted avatars (rows and, unless
//! another user of the environment has the same picture, bytes), and the user's synced profile
//! fields. The user row itself goes when this identity was its only one, the user was created
//! by a Facebook sign-in (`created_via = 'facebook'`; nothing would be left of it but an id) and
//! the provider's `delete_user_on_data_deletion` is on (the default). Any other user stays,
//! stripped of what Facebook sent.
//!
//! The job may run twice (a crash after the commit, before the job is marked done): the request's
//! status is checked first and the completing transaction only runs on a `pending` request.
//! Avatar bytes are removed before the transaction, so a failure in between leaves rows that the
//! next run finds and finishes; never bytes without a row that would name them.

use std::collections::HashSet;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::api_time;
use crate::domain::avatars::AvatarKey;
use crate::domain::providers;
use crate::domain::webhooks::{self, EventType};
use crate::domain::{Context, Error};
use crate::ids;
use crate::store::{AuditRow, AvatarRow, ErasureWrite, IdentityRow, UserFate, UserRow};

/// Carries out the deletion request with this confirmation code; does nothing when it is unknown
/// (its environment was deleted) or already completed.
pub async fn carry_out(ctx: &Context, confirmation_code: &str) -> Result<(), Error> {
    let Some(request) = ctx.store.get_deletion_request(confirmation_code).await? else {
        return Ok(());
    };
    let Some(provider_user_id) = request.provider_user_id.as_deref() else {
        return Ok(());
    };
    if request.status != "pending" {
        return Ok(());
    }
    let environment_id = request.environment_id.as_str();
    let identity = ctx
        .store
        .find_identity(&request.provider_id, provider_user_id)
        .await?
        .filter(|i| i.environment_id == environment_id);
    let now = ctx.clock.now();
    // Connections the person made for the app's tenants go entirely: their tokens, and the
    // record that ties their Facebook id to the tenant's user.
    let connections = ctx
        .store
        .delete_connections_of_facebook_user(environment_id, &request.provider_id, provider_user_id)
        .await?;
    if connections > 0 {
        ctx.credential_cache.clear();
    }

    let mut avatars = Vec::new();
    let mut fate = UserFate::Untouched;
    if let Some(identity) = &identity
        && let Some(user) = ctx
            .store
            .get_user(environment_id, &identity.user_id)
            .await?
    {
        avatars = ctx
            .store
            .list_avatars_of_user(environment_id, &user.id)
            .await?;
        remove_avatar_bytes(ctx, &user, &avatars).await?;
        let others = ctx
            .store
            .list_identities_of_user(environment_id, &user.id)
            .await?
            .into_iter()
            .filter(|i| i.id != identity.id)
            .count();
        fate = if others == 0
            && user.created_via == "facebook"
            && deletes_users(ctx, &request.provider_id).await?
        {
            UserFate::Delete {
                user_id: user.id.clone(),
            }
        } else {
            UserFate::Keep(Box::new(strip_facebook_fields(
                user, identity, &avatars, now,
            )))
        };
    }

    let avatar_ids: Vec<String> = avatars.iter().map(|a| a.id.clone()).collect();
    let audit = AuditRow {
        id: ids::new_id("aud"),
        environment_id: environment_id.to_owned(),
        actor: "system".to_owned(),
        action: "data_deletion.completed".to_owned(),
        subject: identity
            .as_ref()
            .map_or_else(|| request.provider_id.clone(), |i| i.id.clone()),
        detail: json!({
            "provider_id": request.provider_id,
            "identity_deleted": identity.is_some(),
            "connections_deleted": connections,
            "user": match &fate {
                UserFate::Untouched => Value::Null,
                UserFate::Keep(user) => json!({ "id": user.id, "outcome": "stripped" }),
                UserFate::Delete { user_id } => json!({ "id": user_id, "outcome": "deleted" }),
            },
            "avatars_deleted": avatar_ids.len(),
        })
        .to_string(),
        created_at: now,
    };
    let event = webhooks::new_event(
        ctx,
        environment_id,
        EventType::DataDeletionCompleted,
        json!({
            "data_deletion": {
                "confirmation_code": request.confirmation_code,
                "status": "completed",
                "requested_at": api_time(request.requested_at),
                "completed_at": api_time(now),
            },
            "provider_id": request.provider_id,
            "identity_id": identity.as_ref().map(|i| i.id.as_str()),
            "user_id": identity.as_ref().map(|i| i.user_id.as_str()),
            "user_deleted": matches!(fate, UserFate::Delete { .. }),
        }),
    )
    .await?
    .into_row(environment_id);
    let erase_events_about: Vec<String> = identity
        .iter()
        .flat_map(|i| [i.id.clone(), i.user_id.clone()])
        .collect();
    let completed = ctx
        .store
        .complete_erasure(&ErasureWrite {
            confirmation_code,
            environment_id,
            provider_id: &request.provider_id,
            provider_user_id,
            identity_id: identity.as_ref().map(|i| i.id.as_str()),
            avatar_ids: &avatar_ids,
            user: &fate,
            audit: &audit,
            event: &event,
            erase_events_about: &erase_events_about,
            now,
        })
        .await?;
    ctx.credential_cache.clear();
    if completed {
        tracing::info!(
            identity_found = identity.is_some(),
            avatars = avatar_ids.len(),
            "data-deletion request completed"
        );
    }
    Ok(())
}

/// The provider's `delete_user_on_data_deletion` (true, the default, when the provider is gone).
async fn deletes_users(ctx: &Context, provider_id: &str) -> Result<bool, Error> {
    match providers::find_by_id(ctx, provider_id).await {
        Ok(provider) => Ok(provider.settings.delete_user_on_data_deletion),
        Err(Error::NotFound { .. }) => Ok(true),
        Err(other) => Err(other),
    }
}

/// Removes the bytes of the user's avatars that no other user of the environment shares.
async fn remove_avatar_bytes(
    ctx: &Context,
    user: &UserRow,
    avatars: &[AvatarRow],
) -> Result<(), Error> {
    for avatar in avatars {
        if ctx
            .store
            .avatar_bytes_shared(&avatar.environment_id, &avatar.sha256, &user.id)
            .await?
        {
            continue;
        }
        let key = AvatarKey::new(&avatar.environment_id, &avatar.sha256)
            .map_err(|e| Error::Internal(format!("avatar {}: {e}", avatar.id)))?;
        ctx.avatars
            .delete(&key)
            .await
            .map_err(|e| Error::Internal(format!("avatar {}: {e}", avatar.id)))?;
    }
    Ok(())
}

/// The user without what came from Facebook through `identity`.
///
/// A user created by a Facebook sign-in got every profile field from Facebook, so all of them
/// are cleared. A user created by the app keeps the values the app gave it: only fields equal to
/// a value of the identity's raw profile, and a picture URL that names one of the deleted avatars,
/// are cleared.
pub fn strip_facebook_fields(
    mut user: UserRow,
    identity: &IdentityRow,
    avatars: &[AvatarRow],
    now: OffsetDateTime,
) -> UserRow {
    let from_facebook = user.created_via == "facebook";
    let profile_values = match serde_json::from_str::<Value>(&identity.raw_profile) {
        Ok(profile) => {
            let mut values = HashSet::new();
            collect_strings(&profile, &mut values);
            values
        }
        Err(_) => HashSet::new(),
    };
    let came_from_facebook = |value: &Option<String>| {
        from_facebook || value.as_ref().is_some_and(|v| profile_values.contains(v))
    };
    for field in [
        &mut user.email,
        &mut user.first_name,
        &mut user.last_name,
        &mut user.name,
    ] {
        if came_from_facebook(field) {
            *field = None;
        }
    }
    let names_deleted_avatar = user.profile_image_url.as_ref().is_some_and(|url| {
        avatars
            .iter()
            .any(|a| url.ends_with(&format!("/v1/avatars/{}", a.id)))
    });
    if names_deleted_avatar || came_from_facebook(&user.profile_image_url) {
        user.profile_image_url = None;
    }
    user.updated_at = now;
    user
}

fn collect_strings(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(created_via: &str) -> UserRow {
        let at = OffsetDateTime::UNIX_EPOCH;
        UserRow {
            id: "usr_1".to_owned(),
            environment_id: "env_1".to_owned(),
            email: Some("ada@example.com".to_owned()),
            first_name: Some("Augusta".to_owned()),
            last_name: Some("Lovelace".to_owned()),
            name: Some("Ada Lovelace".to_owned()),
            profile_image_url: Some("https://fbgate.example/v1/avatars/ava_1".to_owned()),
            created_via: created_via.to_owned(),
            created_at: at,
            updated_at: at,
            last_sign_in_at: None,
        }
    }

    fn identity() -> IdentityRow {
        let at = OffsetDateTime::UNIX_EPOCH;
        IdentityRow {
            id: "idn_1".to_owned(),
            environment_id: "env_1".to_owned(),
            user_id: "usr_1".to_owned(),
            provider_id: "prv_1".to_owned(),
            provider_user_id: "1234".to_owned(),
            raw_profile: r#"{"id":"1234","email":"ada@example.com","last_name":"Lovelace",
                "name":"Ada Lovelace","picture":{"data":{"url":"https://cdn/ada.png"}}}"#
                .to_owned(),
            granted_scopes: "[]".to_owned(),
            declined_scopes: "[]".to_owned(),
            linked_at: at,
            synced_at: at,
        }
    }

    fn avatar() -> AvatarRow {
        AvatarRow {
            id: "ava_1".to_owned(),
            environment_id: "env_1".to_owned(),
            user_id: "usr_1".to_owned(),
            content_type: "image/png".to_owned(),
            sha256: "0".repeat(64),
            size_bytes: 1,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_user_made_by_facebook_keeps_no_profile_field() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let stripped = strip_facebook_fields(user("facebook"), &identity(), &[], now);
        assert_eq!(
            (stripped.email, stripped.first_name, stripped.last_name),
            (None, None, None)
        );
        assert_eq!((stripped.name, stripped.profile_image_url), (None, None));
        assert_eq!(stripped.updated_at, now);
    }

    #[test]
    fn a_user_made_by_the_app_keeps_what_facebook_did_not_send() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let stripped = strip_facebook_fields(user("api"), &identity(), &[avatar()], now);
        assert_eq!(stripped.first_name.as_deref(), Some("Augusta"));
        assert_eq!(stripped.email, None);
        assert_eq!(stripped.last_name, None);
        assert_eq!(stripped.name, None);
        assert_eq!(
            stripped.profile_image_url, None,
            "it named a deleted avatar"
        );
    }
}
