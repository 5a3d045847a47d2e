//! The notification outbox (SECURITY G3). A worker claims due rows (PostgreSQL: `FOR UPDATE
//! SKIP LOCKED`, so several instances share the work; SQLite: its single writer), sends, then
//! marks each row sent, due again later, or failed. A claimed row is leased: if the worker dies,
//! it becomes due again when the lease ends.

use std::collections::BTreeMap;

use sealpost_domain::{EmailAddress, Marking, MessageId, PhoneNumber, RecipientId, Reference};
use uuid::Uuid;

use crate::decode::{self, Ciphertext};
use crate::{Pool, StorageError, Store, with_pool};

/// Sent notifications recorded by one statement (well inside both databases' limits on
/// parameters).
const SENT_PER_STATEMENT: usize = 200;

/// A notification to send now.
#[derive(Debug, Clone)]
pub struct DueNotification {
    /// This claim's id: every later update of the row checks it, so a worker whose lease ran
    /// out cannot overwrite another's result.
    pub claim: String,
    /// The outbox row (its id makes the Message-ID, so retries are recognisable).
    pub outbox_id: Uuid,
    /// The recipient row.
    pub recipient_id: RecipientId,
    /// The message.
    pub message_id: MessageId,
    /// Where to send.
    pub address: EmailAddress,
    /// The link token, sealed with the message key, for a partner's notification; `None` for
    /// a colleague's notice, which links to the message in Sealpost instead.
    pub sealed_link: Option<Ciphertext>,
    /// The message key, wrapped.
    pub key: Ciphertext,
    /// Attempts before this one.
    pub attempts: i64,
    /// When first queued (for the 72-hour give-up).
    pub first_queued_at_ms: i64,
    /// The message's reference.
    pub reference: Reference,
    /// The message's marking.
    pub marking: Marking,
    /// The sender's name.
    pub sender_name: String,
    /// The sender's address, for the recipient to contact them.
    pub sender_email: EmailAddress,
    /// The sender's telephone number, if IT has set one.
    pub sender_phone: Option<PhoneNumber>,
    /// When the link expires.
    pub expires_at_ms: i64,
}

/// What became of one claimed notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The relay accepted it: forget the sealed link, show the recipient as notified.
    Sent,
    /// A permanent failure, with the reason the sender sees.
    Failed(String),
    /// A transient failure: try again at `at_ms`.
    Retry {
        /// When to try again.
        at_ms: i64,
        /// Why it failed this time.
        reason: String,
    },
}

#[derive(sqlx::FromRow)]
struct DueRow {
    outbox_id: String,
    recipient_id: String,
    message_id: String,
    address: String,
    sealed_link: Option<Vec<u8>>,
    wrapped: Vec<u8>,
    attempts: i64,
    first_queued_at: i64,
    reference: String,
    marking: String,
    sender_name: String,
    sender_email: String,
    sender_phone: Option<String>,
    expires_at: i64,
}

impl Store {
    /// Claims up to `limit` due notifications, leasing them for `lease_ms`. One UPDATE takes
    /// the rows (SQLite never upgrades a read lock; PostgreSQL skips rows another instance
    /// holds), tagging them with a fresh claim id that the SELECT then reads back.
    pub async fn claim_due_notifications(&self, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<DueNotification>, StorageError> {
        // Never a message still in its sender's undo window (released by the same worker
        // first): the messages row decides between a release and a recall.
        let filter = "(sealed_link IS NOT NULL OR kind = 'colleague') AND NOT EXISTS (SELECT 1 FROM recipients hr \
             JOIN messages hm ON hm.id = hr.message_id WHERE hr.id = outbox.recipient_id AND hm.held_until IS NOT NULL)";
        let claim = self.claim_due("outbox", filter, now_ms, lease_ms, limit).await?;
        let select = "SELECT o.id AS outbox_id, r.id AS recipient_id, m.id AS message_id, r.address, o.sealed_link, k.wrapped, o.attempts, o.first_queued_at, \
             m.reference, m.marking, u.display_name AS sender_name, u.email AS sender_email, u.phone AS sender_phone, m.expires_at \
             FROM outbox o JOIN recipients r ON r.id = o.recipient_id JOIN messages m ON m.id = r.message_id \
             JOIN message_keys k ON k.message_id = m.id JOIN users u ON u.id = m.sender_id \
             WHERE o.claim = $1 AND o.state = 'pending' AND (o.sealed_link IS NOT NULL OR o.kind = 'colleague')";
        let rows: Vec<DueRow> = with_pool!(self, |pool| sqlx::query_as(select).bind(&claim).fetch_all(pool).await)?;
        rows.into_iter().map(|r| due_from_row(r, &claim)).collect()
    }

    /// Claims up to `limit` pending rows of `table` (an outbox: `id`, `state`, `claim`,
    /// `next_attempt_at`) that are due and match `filter`, leasing them for `lease_ms`, and
    /// returns the claim id to read them back by. One UPDATE takes the rows (SQLite never
    /// upgrades a read lock; PostgreSQL skips rows another instance holds).
    pub(crate) async fn claim_due(
        &self,
        table: &str,
        filter: &str,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<String, StorageError> {
        let lock = match self.pool {
            Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Pool::Sqlite(_) => "",
        };
        let claim = Uuid::new_v4().to_string();
        let update = format!(
            "UPDATE {table} SET next_attempt_at = $1, claim = $2 WHERE id IN \
             (SELECT id FROM {table} WHERE state = 'pending' AND next_attempt_at <= $3 AND {filter} ORDER BY next_attempt_at LIMIT $4{lock})"
        );
        with_pool!(self, |pool| sqlx::query(&update)
            .bind(now_ms + lease_ms)
            .bind(&claim)
            .bind(now_ms)
            .bind(limit)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(claim)
    }

    /// True while the row is still ours to send: claimed by `n` and neither sent, failed nor
    /// cancelled by a revoke since. Checked just before sending.
    pub async fn notification_still_live(&self, n: &DueNotification) -> Result<bool, StorageError> {
        let row: Option<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id FROM outbox WHERE id = $1 AND claim = $2 AND state = 'pending'")
                .bind(n.outbox_id.to_string())
                .bind(&n.claim)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.is_some())
    }

    /// The relay accepted it: forget the sealed link, show the recipient as notified.
    pub async fn mark_notification_sent(&self, n: &DueNotification) -> Result<(), StorageError> {
        self.finish_notifications(&[(n.clone(), Delivery::Sent)]).await
    }

    /// A permanent failure: show the sender why.
    pub async fn mark_notification_failed(&self, n: &DueNotification, reason: &str) -> Result<(), StorageError> {
        self.finish_notifications(&[(n.clone(), Delivery::Failed(reason.to_owned()))]).await
    }

    /// A transient failure: try again at `next_at_ms`.
    pub async fn retry_notification(&self, n: &DueNotification, next_at_ms: i64, reason: &str) -> Result<(), StorageError> {
        self.finish_notifications(&[(
            n.clone(),
            Delivery::Retry {
                at_ms: next_at_ms,
                reason: reason.to_owned(),
            },
        )])
        .await
    }

    /// Records what became of each notification of a batch, in one transaction (one commit,
    /// one fsync on SQLite, for the whole batch); the sent ones, nearly all, in two statements
    /// per claim. Only the current claim may change a pending row: a revoke's `cancelled`, or a
    /// later claim's result, stands.
    pub async fn finish_notifications(&self, done: &[(DueNotification, Delivery)]) -> Result<(), StorageError> {
        if done.is_empty() {
            return Ok(());
        }
        let mut sent: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (n, _) in done.iter().filter(|(_, d)| *d == Delivery::Sent) {
            sent.entry(n.claim.as_str()).or_default().push(n.outbox_id.to_string());
        }
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for (claim, ids) in &sent {
                for ids in ids.chunks(SENT_PER_STATEMENT) {
                    let list = (2..ids.len() + 2).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
                    // The recipients first, while their rows are still pending under this claim.
                    let recipients = format!(
                        "UPDATE recipients SET status = 'sent', status_detail = NULL WHERE status = 'queued' AND id IN \
                         (SELECT recipient_id FROM outbox WHERE claim = $1 AND state = 'pending' AND id IN ({list}))"
                    );
                    let outbox = format!(
                        "UPDATE outbox SET state = 'sent', sealed_link = NULL, attempts = attempts + 1, last_error = NULL \
                         WHERE claim = $1 AND state = 'pending' AND id IN ({list})"
                    );
                    for statement in [recipients, outbox] {
                        let mut query = sqlx::query(&statement).bind(*claim);
                        for id in ids {
                            query = query.bind(id);
                        }
                        query.execute(&mut *tx).await?;
                    }
                }
            }
            for (n, delivery) in done {
                let outbox_id = n.outbox_id.to_string();
                let reason = match delivery {
                    Delivery::Sent => continue,
                    Delivery::Retry { at_ms, reason } => {
                        sqlx::query(
                            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                             WHERE id = $3 AND claim = $4 AND state = 'pending'",
                        )
                        .bind(at_ms)
                        .bind(reason)
                        .bind(&outbox_id)
                        .bind(&n.claim)
                        .execute(&mut *tx)
                        .await?;
                        continue;
                    }
                    Delivery::Failed(reason) => reason,
                };
                // Recipients first, then the outbox, as a revoke takes them (no deadlock
                // between the two on PostgreSQL); both only while the row is this claim's.
                sqlx::query(
                    "UPDATE recipients SET status = 'failed', status_detail = $1 WHERE status = 'queued' AND id IN \
                     (SELECT recipient_id FROM outbox WHERE id = $2 AND claim = $3 AND state = 'pending')",
                )
                .bind(reason)
                .bind(&outbox_id)
                .bind(&n.claim)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE outbox SET state = 'failed', sealed_link = NULL, attempts = attempts + 1, last_error = $1 \
                     WHERE id = $2 AND claim = $3 AND state = 'pending'",
                )
                .bind(reason)
                .bind(&outbox_id)
                .bind(&n.claim)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })
    }

    /// When the next pending notification is due, if any (lets the worker sleep exactly).
    pub async fn next_notification_due(&self) -> Result<Option<i64>, StorageError> {
        let (next,): (Option<i64>,) = with_pool!(self, |pool| sqlx::query_as(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
        )
        .fetch_one(pool)
        .await)?;
        Ok(next)
    }

    /// How many notifications wait to be sent, and when the oldest was first queued (ms).
    pub async fn outbox_depth(&self) -> Result<(i64, Option<i64>), StorageError> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT COUNT(*), MIN(first_queued_at) FROM outbox WHERE state = 'pending'"
        )
        .fetch_one(pool)
        .await)?)
    }
}

/// A notification a delivery report says bounced, as [`Store::mark_notification_bounced`]
/// found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounced {
    /// The message.
    pub message_id: MessageId,
    /// The recipient's address.
    pub address: EmailAddress,
    /// The message's reference.
    pub reference: Reference,
    /// Its sender's address, to tell them.
    pub sender_email: EmailAddress,
    /// False when the recipient was already past being notified (they have opened it, it was
    /// revoked, or it had already failed): nothing changed.
    pub changed: bool,
}

impl Store {
    /// Marks the recipient of notification `outbox_id` failed with `detail`, on a delivery
    /// report that it bounced; `None` if there is no such notification. Only a recipient still
    /// `sent` (or `queued`) changes: one who has opened the message got it.
    pub async fn mark_notification_bounced(&self, outbox_id: Uuid, detail: &str) -> Result<Option<Bounced>, StorageError> {
        let found: Option<(BouncedRow, bool)> = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row: Option<BouncedRow> = sqlx::query_as(
                "SELECT r.id AS recipient_id, m.id AS message_id, r.address, m.reference, u.email AS sender_email \
                 FROM outbox o JOIN recipients r ON r.id = o.recipient_id \
                 JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id WHERE o.id = $1",
            )
            .bind(outbox_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Ok::<_, StorageError>(None);
            };
            let changed =
                sqlx::query("UPDATE recipients SET status = 'failed', status_detail = $1 WHERE id = $2 AND status IN ('sent', 'queued')")
                    .bind(detail)
                    .bind(&row.recipient_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            Ok::<_, StorageError>(Some((row, changed == 1)))
        })?;
        let Some((row, changed)) = found else {
            return Ok(None);
        };
        Ok(Some(Bounced {
            message_id: MessageId(decode::id(&row.message_id, "messages.id")?),
            address: decode::address(&row.address, "recipients.address")?,
            reference: Reference::from_stored(row.reference),
            sender_email: decode::address(&row.sender_email, "users.email")?,
            changed,
        }))
    }
}

#[derive(sqlx::FromRow)]
struct BouncedRow {
    recipient_id: String,
    message_id: String,
    address: String,
    reference: String,
    sender_email: String,
}

fn due_from_row(r: DueRow, claim: &str) -> Result<DueNotification, StorageError> {
    Ok(DueNotification {
        claim: claim.to_owned(),
        outbox_id: decode::id(&r.outbox_id, "outbox.id")?,
        recipient_id: RecipientId(decode::id(&r.recipient_id, "recipients.id")?),
        message_id: MessageId(decode::id(&r.message_id, "messages.id")?),
        address: decode::address(&r.address, "recipients.address")?,
        sealed_link: r.sealed_link.map(Ciphertext::from_stored),
        key: Ciphertext::from_stored(r.wrapped),
        attempts: r.attempts,
        first_queued_at_ms: r.first_queued_at,
        reference: Reference::from_stored(r.reference),
        marking: Marking::parse(&r.marking).ok_or(StorageError::Corrupt("messages.marking"))?,
        sender_name: r.sender_name,
        sender_email: decode::address(&r.sender_email, "users.email")?,
        // Only shown to the partner: a number that no longer reads is left out, rather than
        // holding up the whole batch it was claimed with.
        sender_phone: r.sender_phone.and_then(|p| PhoneNumber::parse(&p).ok()),
        expires_at_ms: r.expires_at,
    })
}
