//! Master-key rotation (SECURITY E5, issue 19). `sealpost keys rotate` makes a new master
//! identity active in the key file (the old ones stay) and re-wraps every message key, draft
//! key and TOTP secret to it and the escrow key; content is never re-encrypted. A rerun after
//! a crash carries on where it stopped (a fresh identity is made only when everything already
//! opens with the active one). `sealpost keys retire` drops the old identities once nothing
//! needs them. Both are audited.

use std::time::Duration;

use sealpost_crypto::{Binding, Keyring, ObjectKind};
use sealpost_storage::{Store, Wrapped};

use crate::error::AppError;

/// Rows read at a time.
const PAGE: i64 = 500;

/// The binding a value of `kind` in row `id` was sealed under.
fn binding(kind: Wrapped, id: &str) -> Result<Binding, AppError> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| AppError::Internal(anyhow::anyhow!("a wrapped value's row id is not a UUID")))?;
    Ok(match kind {
        Wrapped::MessageKey | Wrapped::DraftKey => Binding::new(ObjectKind::MessageKey, id),
        Wrapped::TotpSecret | Wrapped::TotpPending => Binding::new(ObjectKind::TotpSecret, id),
    })
}

/// How many wrapped values do not open with `keyring`'s active identity alone.
pub async fn not_on_active(store: &Store, keyring: &Keyring) -> Result<usize, AppError> {
    let mut count = 0;
    for kind in Wrapped::ALL {
        let mut after = String::new();
        loop {
            let page = store.wrapped_page(kind, &after, PAGE).await?;
            for (id, bytes) in &page {
                if !keyring.opens_with_active(binding(kind, id)?, bytes) {
                    count += 1;
                }
            }
            match page.last() {
                Some((id, _)) if page.len() as i64 == PAGE => after.clone_from(id),
                _ => break,
            }
        }
    }
    Ok(count)
}

/// Re-wraps to `keyring`'s active identity every value not already under it, pausing `pace`
/// after each (to spare a busy server); how many were re-wrapped. A value changed meanwhile
/// (shredded, or a new TOTP secret) is left as it now is.
pub async fn rewrap_all(store: &Store, keyring: &Keyring, pace: Duration) -> Result<usize, AppError> {
    let mut rewrapped = 0;
    for kind in Wrapped::ALL {
        let mut after = String::new();
        loop {
            let page = store.wrapped_page(kind, &after, PAGE).await?;
            for (id, bytes) in &page {
                let binding = binding(kind, id)?;
                if keyring.opens_with_active(binding, bytes) {
                    continue;
                }
                let new = keyring.rewrap(binding, bytes)?;
                if store.swap_wrapped(kind, id, bytes, &new).await? {
                    rewrapped += 1;
                }
                if !pace.is_zero() {
                    tokio::time::sleep(pace).await;
                }
            }
            match page.last() {
                Some((id, _)) if page.len() as i64 == PAGE => after.clone_from(id),
                _ => break,
            }
        }
    }
    Ok(rewrapped)
}

/// Upgrades every message key of the envelope before v2 (an X25519 identity per message,
/// each field costing an X25519 operation to open): a symmetric key is added beside the
/// identity, and the message's subject, body, file names, replies and unsent links are
/// re-sealed with it, all in one transaction with the key's new wrapping, each only if
/// unchanged since read (else it is read again). Files keep their sealing and open with the
/// identity the key still holds. Safe while the server runs, resumable after a crash, and
/// pausing `pace` after each message. Returns how many were upgraded.
pub async fn upgrade_all(store: &Store, keyring: &Keyring, pace: Duration) -> Result<usize, AppError> {
    let mut upgraded = 0;
    let mut after = String::new();
    loop {
        let page = store.wrapped_page(Wrapped::MessageKey, &after, PAGE).await?;
        for (id, _) in &page {
            // A few tries: a reply or a sent notification between the read and the write
            // sends it round again.
            for _ in 0..5 {
                match upgrade_one(store, keyring, id).await? {
                    Upgrade::Done => upgraded += 1,
                    Upgrade::NotNeeded => {}
                    Upgrade::Changed => continue,
                }
                break;
            }
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
        }
        match page.last() {
            Some((id, _)) if page.len() as i64 == PAGE => after.clone_from(id),
            _ => break,
        }
    }
    Ok(upgraded)
}

enum Upgrade {
    Done,
    NotNeeded,
    Changed,
}

async fn upgrade_one(store: &Store, keyring: &Keyring, id: &str) -> Result<Upgrade, AppError> {
    let message = uuid::Uuid::parse_str(id).map_err(|_| AppError::Internal(anyhow::anyhow!("a message id is not a UUID")))?;
    // The key as it is now (the page was read a while ago).
    let Some(wrapped) = store.wrapped_value(Wrapped::MessageKey, id).await? else {
        return Ok(Upgrade::NotNeeded); // shredded meanwhile
    };
    let old = keyring.unwrap(&wrapped, message)?;
    let Some(new) = old.upgraded() else {
        return Ok(Upgrade::NotNeeded);
    };
    let values = store.sealed_values(id).await?;
    let resealed = values
        .into_iter()
        .map(|v| crate::app::disclosure::resealed(&old, &new, &v).map(|bytes| (v, bytes)))
        .collect::<Result<Vec<_>, _>>()?;
    let new_wrapped = keyring.wrap(&new, message)?;
    Ok(if store.reseal(id, (&wrapped, new_wrapped.as_bytes()), &resealed).await? {
        Upgrade::Done
    } else {
        Upgrade::Changed
    })
}

/// How many messages open, and which do not (by id), with `keyring` alone: for
/// `sealpost keys recover`, with the escrow identity.
pub async fn messages_opening(store: &Store, keyring: &Keyring) -> Result<(usize, Vec<String>), AppError> {
    let (mut opened, mut failed) = (0, vec![]);
    let mut after = String::new();
    loop {
        let page = store.wrapped_page(Wrapped::MessageKey, &after, PAGE).await?;
        let ids: Vec<sealpost_domain::MessageId> = page
            .iter()
            .filter_map(|(id, _)| uuid::Uuid::parse_str(id).ok().map(sealpost_domain::MessageId))
            .collect();
        for t in store.sealed_texts(&ids).await? {
            if crate::app::disclosure::opens_with(keyring, &t) {
                opened += 1;
            } else {
                failed.push(t.id.to_string());
            }
        }
        match page.last() {
            Some((id, _)) if page.len() as i64 == PAGE => after.clone_from(id),
            _ => break,
        }
    }
    Ok((opened, failed))
}
