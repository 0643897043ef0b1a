//! The health job: every stored credential is checked with `debug_token` on a schedule, so its
//! status follows what Facebook knows, and the app hears of a change by webhook before a call
//! fails.
//!
//! **Scheduling.** Each credential carries `next_check_at`: one check period after its last
//! check, or sooner when it becomes `expiring` or expires before that. Every fbgate process runs
//! a [`Checker`]; each round it *claims* due credentials by writing a lease on their rows
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL, SQLite has one writer), so two processes never check
//! the same credential in a period, and a credential claimed by a process that died is claimed
//! again when its lease runs out. The rows are the jobs: no separate queue can drift from them.
//!
//! **Budget.** Facebook counts every operation of a batch as a call against the app's rate
//! limit. A round may spend `max(1, calls_per_hour × interval / 1 hour)` calls: one per
//! `debug_token`. A `/me/permissions` read, made only when a token's granted scopes changed,
//! is not counted: it is rare, and a round never makes more of them than `debug_token` calls. With the defaults (3,600 calls per hour, a round every 60 s) that is 60 calls per
//! round, so at most 86,400 credentials a day are checked; when more are due, the oldest due go
//! first and the rest wait for the next round. Several processes share the work, not the budget:
//! divide `FBGATE_HEALTH_CALLS_PER_HOUR` by the number of processes.
//!
//! **Verdicts.** A valid token refreshes its expiry, data-access expiry and scopes; its status
//! then follows from the times (`active`, `expiring`, `expired`). An invalid one takes the status
//! and reason of its 190 subcode (API.md's table). A credential whose expiry has passed is marked
//! `expired` without asking Facebook. When Facebook cannot be asked (unreachable, 5xx,
//! throttled, an error about the app's own token), nothing changes and the credential is due
//! again after [`RETRY_AFTER`]. `expired`, `revoked` and `invalid` are final for a token: only a
//! new sign-in or connect flow replaces it, and such credentials are not checked again.
//! Each change of status is announced once, in the transaction that records it:
//! `credential.expiring`, `credential.expired`, `credential.revoked`, `credential.invalid`.

use std::collections::BTreeMap;
use std::time::Duration;

use fbgate_facebook::{AccessToken, DebugToken, FacebookError};
use time::OffsetDateTime;

use super::{CredentialRow, Timing, next_check_after, open_token, status_at};
use crate::domain::flows::sign_in::facebook_for;
use crate::domain::providers::{self, Provider};
use crate::domain::webhooks::{self, EventType};
use crate::domain::{Context, Error};
use crate::ids;
use crate::store::CheckWrite;

/// How long a claimed credential is reserved for the process checking it.
pub const LEASE: Duration = Duration::from_secs(5 * 60);

/// When Facebook could not be asked, the credential is due again after this.
pub const RETRY_AFTER: Duration = Duration::from_secs(10 * 60);

/// Operations per Graph batch (Facebook's maximum).
pub const BATCH_SIZE: usize = 50;

/// The health job's pace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthSettings {
    /// Time between rounds (`FBGATE_HEALTH_INTERVAL_MS`, default 60 s).
    pub interval: Duration,
    /// Facebook calls per hour the job may make (`FBGATE_HEALTH_CALLS_PER_HOUR`, default 3600).
    pub calls_per_hour: u32,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            calls_per_hour: 3600,
        }
    }
}

impl HealthSettings {
    /// The calls one round may spend: the hourly budget spread over the rounds of an hour.
    pub fn calls_per_round(&self) -> u32 {
        let per_round = u128::from(self.calls_per_hour) * self.interval.as_millis() / 3_600_000;
        u32::try_from(per_round).unwrap_or(u32::MAX).max(1)
    }
}

/// What a check found for one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The credential.
    pub credential_id: String,
    /// Its status now.
    pub status: String,
    /// Why, for `expired`, `revoked` and `invalid`.
    pub reason: Option<String>,
    /// When it was last checked (`None` if never).
    pub checked_at: Option<OffsetDateTime>,
    /// Whether Facebook could be asked this time (false: postponed, or not checkable).
    pub checked: bool,
}

/// The status and reason API.md gives an invalid token, from its 190 subcode.
pub fn invalid_token_status(subcode: Option<i64>) -> (&'static str, &'static str) {
    match subcode {
        Some(458) => ("revoked", "user_removed_app"),
        Some(460) => ("revoked", "password_changed"),
        Some(463) => ("expired", "session_expired"),
        Some(459) => ("invalid", "checkpoint"),
        Some(464) => ("invalid", "unconfirmed_user"),
        _ => ("invalid", "invalid_token"),
    }
}

/// What the answers say about one credential.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// Facebook answered: the new state.
    Known {
        status: &'static str,
        reason: Option<&'static str>,
        expires_at: Option<OffsetDateTime>,
        data_access_expires_at: Option<OffsetDateTime>,
        scopes: Option<Vec<String>>,
    },
    /// Facebook could not be asked; try later.
    Postpone,
}

fn judge(
    row: &CredentialRow,
    answer: Result<DebugToken, FacebookError>,
    app_id: &str,
    now: OffsetDateTime,
    timing: &Timing,
) -> Verdict {
    let debug = match answer {
        Ok(debug) => debug,
        Err(error) => {
            tracing::info!(credential = %row.id, %error, "debug_token failed; check postponed");
            return Verdict::Postpone;
        }
    };
    if debug.is_valid && !debug.is_for_app(app_id) {
        // Never expected (fbgate stores only tokens it confirmed as its app's), but a token of
        // another app is of no use to this one.
        return Verdict::Known {
            status: "invalid",
            reason: Some("invalid_token"),
            expires_at: row.expires_at,
            data_access_expires_at: row.data_access_expires_at,
            scopes: None,
        };
    }
    if debug.is_valid {
        let expires_at = debug.expires_at();
        let data_access_expires_at = debug
            .data_access_expires_at()
            .or(row.data_access_expires_at);
        let (status, reason) = status_at(
            expires_at,
            data_access_expires_at,
            now,
            timing.expiring_threshold,
        );
        return Verdict::Known {
            status,
            reason,
            expires_at,
            data_access_expires_at,
            scopes: (!debug.scopes.is_empty()).then_some(debug.scopes),
        };
    }
    let (status, reason) = match &debug.error {
        Some(error) => invalid_token_status(error.subcode),
        None if row.expires_at.is_some_and(|e| e <= now) => ("expired", "session_expired"),
        None => ("invalid", "invalid_token"),
    };
    Verdict::Known {
        status,
        reason: Some(reason),
        expires_at: row.expires_at,
        data_access_expires_at: row.data_access_expires_at,
        scopes: None,
    }
}

/// The event a change of stored status announces, if any.
fn event_for(from: &str, to: &str) -> Option<EventType> {
    match to {
        _ if from == to => None,
        "expiring" if from == "active" => Some(EventType::CredentialExpiring),
        "expired" => Some(EventType::CredentialExpired),
        "revoked" => Some(EventType::CredentialRevoked),
        "invalid" => Some(EventType::CredentialInvalid),
        _ => None,
    }
}

fn scope_set(json: &str) -> Vec<String> {
    let mut scopes: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// Checks credentials now (already claimed, or asked for by an operator) and records what was
/// found. Returns one result per credential, in the order given.
pub async fn check(ctx: &Context, rows: Vec<CredentialRow>) -> Result<Vec<CheckResult>, Error> {
    let now = ctx.clock.now();
    let timing = ctx.settings.credentials;
    let mut verdicts: BTreeMap<String, Verdict> = BTreeMap::new();
    let mut by_provider: BTreeMap<String, Vec<&CredentialRow>> = BTreeMap::new();
    for row in &rows {
        let final_status = matches!(row.status.as_str(), "expired" | "revoked" | "invalid");
        if final_status || row.token_ciphertext.is_empty() {
            continue;
        }
        if row.expires_at.is_some_and(|e| e <= now) {
            verdicts.insert(
                row.id.clone(),
                Verdict::Known {
                    status: "expired",
                    reason: Some("session_expired"),
                    expires_at: row.expires_at,
                    data_access_expires_at: row.data_access_expires_at,
                    scopes: None,
                },
            );
            continue;
        }
        by_provider
            .entry(row.provider_id.clone())
            .or_default()
            .push(row);
    }
    for (provider_id, group) in by_provider {
        let provider = providers::find_by_id(ctx, &provider_id).await?;
        ask_facebook(ctx, &provider, &group, now, &timing, &mut verdicts).await?;
    }
    let mut results = Vec::with_capacity(rows.len());
    for row in rows {
        let result = match verdicts.remove(&row.id) {
            Some(verdict) => record(ctx, &row, verdict, now, &timing).await?,
            None => {
                let (status, reason) = super::current_status(&row, now, timing.expiring_threshold);
                CheckResult {
                    credential_id: row.id,
                    status,
                    reason,
                    checked_at: row.last_checked_at,
                    checked: false,
                }
            }
        };
        results.push(result);
    }
    Ok(results)
}

/// `debug_token` for a provider's credentials in batches of 50, then `/me/permissions` for the
/// user tokens whose scopes changed.
async fn ask_facebook(
    ctx: &Context,
    provider: &Provider,
    group: &[&CredentialRow],
    now: OffsetDateTime,
    timing: &Timing,
    verdicts: &mut BTreeMap<String, Verdict>,
) -> Result<(), Error> {
    let facebook = facebook_for(ctx, provider).await?;
    for chunk in group.chunks(BATCH_SIZE) {
        let mut openable = Vec::with_capacity(chunk.len());
        let mut tokens = Vec::with_capacity(chunk.len());
        for row in chunk {
            match open_token(ctx, row).await {
                Ok(token) => {
                    openable.push(*row);
                    tokens.push(AccessToken::new(token.expose().as_str()));
                }
                Err(error) => {
                    // One unreadable row (its tenant's key shredded meanwhile) must not stall
                    // the others.
                    tracing::warn!(credential = %row.id, %error, "cannot open a token to check it");
                    verdicts.insert(row.id.clone(), Verdict::Postpone);
                }
            }
        }
        let chunk = openable.as_slice();
        if chunk.is_empty() {
            continue;
        }
        let answers = match facebook.debug_tokens(&tokens).await {
            Ok(answers) => answers,
            Err(error) => {
                tracing::warn!(provider = %provider.id, %error,
                    "Facebook could not be asked to check tokens; checks postponed");
                for row in chunk {
                    verdicts.insert(row.id.clone(), Verdict::Postpone);
                }
                continue;
            }
        };
        let app_id = provider.settings.client_id.as_str();
        for ((row, token), answer) in chunk.iter().zip(&tokens).zip(answers) {
            let mut verdict = judge(row, answer, app_id, now, timing);
            if let Verdict::Known {
                scopes: Some(scopes),
                ..
            } = &mut verdict
            {
                let mut sorted = scopes.clone();
                sorted.sort();
                sorted.dedup();
                if row.token_type == "user" && sorted != scope_set(&row.scopes) {
                    // The person changed what they grant: read it exactly.
                    match facebook.permissions(token).await {
                        Ok(permissions) => {
                            *scopes = permissions
                                .granted()
                                .into_iter()
                                .map(str::to_owned)
                                .collect();
                        }
                        Err(error) => {
                            tracing::info!(credential = %row.id, %error,
                                "cannot read permissions; debug_token's scopes kept");
                        }
                    }
                }
            }
            verdicts.insert(row.id.clone(), verdict);
        }
    }
    Ok(())
}

/// Writes one verdict with its event.
async fn record(
    ctx: &Context,
    row: &CredentialRow,
    verdict: Verdict,
    now: OffsetDateTime,
    timing: &Timing,
) -> Result<CheckResult, Error> {
    let Verdict::Known {
        status,
        reason,
        expires_at,
        data_access_expires_at,
        scopes,
    } = verdict
    else {
        ctx.store
            .postpone_check(&row.id, row.version, now + RETRY_AFTER)
            .await?;
        let (status, reason) = super::current_status(row, now, timing.expiring_threshold);
        return Ok(CheckResult {
            credential_id: row.id.clone(),
            status,
            reason,
            checked_at: row.last_checked_at,
            checked: false,
        });
    };
    let scopes = scopes.map_or_else(
        || row.scopes.clone(),
        |list| serde_json::Value::from(list).to_string(),
    );
    let mut updated = row.clone();
    updated.status = status.to_owned();
    updated.status_reason = reason.map(str::to_owned);
    updated.expires_at = expires_at;
    updated.data_access_expires_at = data_access_expires_at;
    updated.scopes = scopes;
    updated.last_checked_at = Some(now);
    let mut events = Vec::new();
    if let Some(event_type) = event_for(&row.status, status) {
        let provider = providers::find_by_id(ctx, &row.provider_id).await?;
        let data = super::data(&updated, provider.settings.slug.as_str(), now, timing);
        let mut event = webhooks::new_event(
            ctx,
            &row.environment_id,
            event_type,
            serde_json::json!({ "credential": data }),
        )
        .await?;
        if let Some(user_id) = &row.user_id {
            event = event.about(user_id.clone());
        }
        events.push(event.into_row(&row.environment_id));
    }
    let written = ctx
        .store
        .record_check(&CheckWrite {
            id: &row.id,
            version: row.version,
            previous_status: &row.status,
            status,
            status_reason: reason,
            expires_at,
            data_access_expires_at,
            scopes: &updated.scopes,
            checked_at: now,
            next_check_at: next_check_after(now, expires_at, timing),
            events,
        })
        .await?;
    ctx.credential_cache.clear();
    if written && status != row.status {
        tracing::info!(credential = %row.id, from = %row.status, to = %status,
            reason = reason.unwrap_or("-"), "credential status changed");
    }
    Ok(CheckResult {
        credential_id: row.id.clone(),
        status: status.to_owned(),
        reason: reason.map(str::to_owned),
        checked_at: Some(now),
        checked: written,
    })
}

/// One round of the scheduled job: claims what is due within the round's budget and checks
/// it. Returns how many credentials were claimed.
pub async fn run_round(ctx: &Context, owner: &str) -> Result<usize, Error> {
    let limit = ctx.settings.health.calls_per_round();
    let rows = ctx
        .store
        .claim_due_credentials(owner, ctx.clock.now(), LEASE, limit)
        .await?;
    let claimed = rows.len();
    if claimed > 0 {
        check(ctx, rows).await?;
    }
    Ok(claimed)
}

/// Checks one credential of an environment now.
pub async fn check_one(
    ctx: &Context,
    environment_id: &str,
    credential_id: &str,
) -> Result<CheckResult, Error> {
    let row = ctx
        .store
        .get_credential(environment_id, credential_id)
        .await?
        .ok_or_else(|| Error::not_found("credential_not_found", "no such credential"))?;
    check(ctx, vec![row])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("a check returned no result".to_owned()))
}

/// Checks every credential of an environment now, a batch at a time; `progress` hears
/// `(done, total)` after each batch.
pub async fn check_all(
    ctx: &Context,
    environment_id: &str,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<CheckResult>, Error> {
    let total = usize::try_from(ctx.store.count_credentials(environment_id).await?).unwrap_or(0);
    let mut results = Vec::with_capacity(total);
    let mut after: Option<String> = None;
    loop {
        let rows = ctx
            .store
            .list_credentials(environment_id, after.as_deref(), BATCH_SIZE as u32)
            .await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.id.clone());
        results.extend(check(ctx, rows).await?);
        progress(results.len(), total.max(results.len()));
    }
    Ok(results)
}

/// Runs rounds forever in one process; spawn it and abort the task to stop.
#[derive(Debug)]
pub struct Checker {
    ctx: Context,
    owner: String,
}

impl Checker {
    /// A checker with a fresh lease owner id.
    pub fn new(ctx: Context) -> Self {
        Self {
            ctx,
            owner: ids::new_id("hck"),
        }
    }

    /// Polls forever.
    pub async fn run(self) {
        let mut interval = tokio::time::interval(self.ctx.settings.health.interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(error) = run_round(&self.ctx, &self.owner).await {
                tracing::warn!(%error, "credential health round failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcodes_map_to_the_contract_table() {
        assert_eq!(
            invalid_token_status(Some(458)),
            ("revoked", "user_removed_app")
        );
        assert_eq!(
            invalid_token_status(Some(460)),
            ("revoked", "password_changed")
        );
        assert_eq!(
            invalid_token_status(Some(463)),
            ("expired", "session_expired")
        );
        assert_eq!(invalid_token_status(Some(459)), ("invalid", "checkpoint"));
        assert_eq!(
            invalid_token_status(Some(464)),
            ("invalid", "unconfirmed_user")
        );
        assert_eq!(
            invalid_token_status(Some(467)),
            ("invalid", "invalid_token")
        );
        assert_eq!(invalid_token_status(None), ("invalid", "invalid_token"));
    }

    #[test]
    fn each_change_of_status_has_one_event() {
        assert_eq!(
            event_for("active", "expiring"),
            Some(EventType::CredentialExpiring)
        );
        assert_eq!(event_for("expiring", "expiring"), None);
        assert_eq!(event_for("active", "active"), None);
        assert_eq!(
            event_for("expiring", "expired"),
            Some(EventType::CredentialExpired)
        );
        assert_eq!(
            event_for("active", "revoked"),
            Some(EventType::CredentialRevoked)
        );
        assert_eq!(
            event_for("active", "invalid"),
            Some(EventType::CredentialInvalid)
        );
        assert_eq!(event_for("expiring", "active"), None);
    }

    #[test]
    fn the_budget_spreads_over_the_rounds_of_an_hour() {
        let settings = |calls_per_hour, secs| HealthSettings {
            interval: Duration::from_secs(secs),
            calls_per_hour,
        };
        assert_eq!(settings(3600, 60).calls_per_round(), 60);
        assert_eq!(settings(200, 60).calls_per_round(), 3);
        assert_eq!(settings(10, 1).calls_per_round(), 1, "never less than one");
        assert_eq!(settings(u32::MAX, 3600).calls_per_round(), u32::MAX);
    }
}
