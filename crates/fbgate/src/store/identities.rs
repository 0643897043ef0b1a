//! Queries on `identities`.

use time::OffsetDateTime;

use super::{Store, StoreError, with_pool};

/// A row of `identities`: one Facebook account joined to one user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IdentityRow {
    /// `idn_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The user it belongs to.
    pub user_id: String,
    /// The provider (Facebook app) it came through.
    pub provider_id: String,
    /// Facebook's app-scoped user id.
    pub provider_user_id: String,
    /// The raw `/me` answer (JSON text).
    pub raw_profile: String,
    /// Granted permissions (JSON array).
    pub granted_scopes: String,
    /// Declined permissions (JSON array).
    pub declined_scopes: String,
    /// When it was linked.
    pub linked_at: OffsetDateTime,
    /// Last profile sync.
    pub synced_at: OffsetDateTime,
}

/// The columns of an [`IdentityRow`] in field order, each after `$t`: a table alias with its dot
/// (`"u."`), or `""`. The one list behind every SELECT of the table and [`identity_at!`].
macro_rules! columns {
    ($t:literal) => {
        concat!(
            $t,
            "id, ",
            $t,
            "environment_id, ",
            $t,
            "user_id, ",
            $t,
            "provider_id, ",
            $t,
            "provider_user_id, ",
            $t,
            "raw_profile, ",
            $t,
            "granted_scopes, ",
            $t,
            "declined_scopes, ",
            $t,
            "linked_at, ",
            $t,
            "synced_at"
        )
    };
}
pub(crate) use columns;

/// How many [`columns!`] there are.
pub(crate) const COLUMNS: usize = 10;

/// Reads an [`IdentityRow`] from `$row` (any engine's row), whose columns from index `$at` on are
/// [`columns!`]'s: for reads that join it with other tables.
macro_rules! identity_at {
    ($row:expr, $at:expr) => {{
        use sqlx::Row as _;
        let at: usize = $at;
        $crate::store::IdentityRow {
            id: $row.try_get(at)?,
            environment_id: $row.try_get(at + 1)?,
            user_id: $row.try_get(at + 2)?,
            provider_id: $row.try_get(at + 3)?,
            provider_user_id: $row.try_get(at + 4)?,
            raw_profile: $row.try_get(at + 5)?,
            granted_scopes: $row.try_get(at + 6)?,
            declined_scopes: $row.try_get(at + 7)?,
            linked_at: $row.try_get(at + 8)?,
            synced_at: $row.try_get(at + 9)?,
        }
    }};
}
pub(crate) use identity_at;

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT ",
            $crate::store::identities::columns!(""),
            " FROM identities ",
            $rest
        )
    };
}

pub(super) use select;

/// The query reading one identity of an environment by id.
macro_rules! identity_by_id {
    ($environment_id:expr, $id:expr) => {
        sqlx::query_as::<_, $crate::store::IdentityRow>($crate::store::identities::select!(
            "WHERE environment_id = $1 AND id = $2"
        ))
        .bind($environment_id)
        .bind($id)
    };
}

/// The query finding the identity of a Facebook user (app-scoped id) at a provider.
macro_rules! identity_at_provider {
    ($provider_id:expr, $provider_user_id:expr) => {
        sqlx::query_as::<_, $crate::store::IdentityRow>($crate::store::identities::select!(
            "WHERE provider_id = $1 AND provider_user_id = $2"
        ))
        .bind($provider_id)
        .bind($provider_user_id)
    };
}

impl Store {
    /// The identity of a Facebook user at a provider, if any.
    pub async fn find_identity(
        &self,
        provider_id: &str,
        provider_user_id: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            identity_at_provider!(provider_id, provider_user_id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Reads one identity of an environment.
    pub async fn get_identity(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            identity_by_id!(environment_id, id).fetch_optional(pool).await?
        }))
    }

    /// The identities of a user, oldest first.
    pub async fn list_identities_of_user(
        &self,
        environment_id: &str,
        user_id: &str,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND user_id = $2 ORDER BY linked_at, id"))
                .bind(environment_id)
                .bind(user_id)
                .fetch_all(pool)
                .await?
        }))
    }

    /// Deletes an identity (its credentials go with it).
    pub async fn delete_identity(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM identities WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Deletes an identity (its credentials go with it) and records `events` in the same
    /// transaction.
    pub async fn delete_identity_with_events(
        &self,
        environment_id: &str,
        id: &str,
        events: &[super::OutboxEventRow],
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let affected = sqlx::query("DELETE FROM identities WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if affected == 1 {
                for event in events {
                    super::outbox::record_event!(tx, event);
                }
            }
            tx.commit().await?;
            affected
        });
        Ok(affected == 1)
    }
}
