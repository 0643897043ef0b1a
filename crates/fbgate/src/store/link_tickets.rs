//! Queries on `link_tickets`.

use time::OffsetDateTime;

use super::{Store, StoreError, with_pool};

/// A row of `link_tickets`: permission for one browser to start linking an identity to a user.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkTicketRow {
    /// SHA-256 of the ticket.
    pub ticket_hash: Vec<u8>,
    /// Owning environment.
    pub environment_id: String,
    /// The user the identity will join.
    pub user_id: String,
    /// The provider to link.
    pub provider_id: String,
    /// Where the browser returns (validated when the ticket was made).
    pub redirect_to: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Refused after this.
    pub expires_at: OffsetDateTime,
    /// Set on use.
    pub used_at: Option<OffsetDateTime>,
}

impl Store {
    /// Stores a new ticket.
    pub async fn insert_link_ticket(&self, ticket: &LinkTicketRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO link_tickets (ticket_hash, environment_id, user_id, provider_id, redirect_to,
                    created_at, expires_at, used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&ticket.ticket_hash)
            .bind(&ticket.environment_id)
            .bind(&ticket.user_id)
            .bind(&ticket.provider_id)
            .bind(&ticket.redirect_to)
            .bind(ticket.created_at)
            .bind(ticket.expires_at)
            .bind(ticket.used_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Uses a ticket: returns it when it was unused and unexpired, marking it used.
    pub async fn consume_link_ticket(
        &self,
        ticket_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<LinkTicketRow>, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE link_tickets SET used_at = $1
                 WHERE ticket_hash = $2 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(ticket_hash)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if affected != 1 {
            return Ok(None);
        }
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT ticket_hash, environment_id, user_id, provider_id, redirect_to, created_at,
                    expires_at, used_at FROM link_tickets WHERE ticket_hash = $1",
            )
            .bind(ticket_hash)
            .fetch_optional(pool)
            .await?
        }))
    }
}
