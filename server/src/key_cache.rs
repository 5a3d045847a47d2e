//! Unwrapped message keys, kept for a short while (issue 6). Unwrapping a message key is an
//! X25519 operation with the master key; a partner opening a message, then its files, or a
//! member of staff listing fifty messages, would otherwise repeat it for every request. Keys
//! live here for at most [`TTL_MS`] after they were unwrapped (they zeroize when dropped), and
//! the cache never holds more than [`MAX_KEYS`]: content stays as safe as the master key that
//! sits in the same memory. A shredded message never reaches here (it has no wrapped key to
//! unwrap, and that is checked first), and shredding drops its key from here as well. A key is
//! given out only for the wrapped bytes it was unwrapped from: once `sealpost keys upgrade`
//! (or a rotation) has replaced them, the next read unwraps the key afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sealpost_crypto::MessageKey;
use sealpost_domain::MessageId;

/// How long an unwrapped key is kept.
pub const TTL_MS: i64 = 60_000;
/// The most keys kept at once; when full, the cache starts again empty.
const MAX_KEYS: usize = 10_000;

/// A kept key: the key, the time it was unwrapped, and the wrapped bytes it came from.
type Entry = (Arc<MessageKey>, i64, Box<[u8]>);

/// A map from message to its unwrapped key.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<MessageId, Entry>>);

impl KeyCache {
    /// The key of `message` if it was unwrapped from `wrapped` less than [`TTL_MS`] before
    /// `now_ms`.
    pub fn get(&self, message: MessageId, now_ms: i64, wrapped: &[u8]) -> Option<Arc<MessageKey>> {
        let map = self.0.lock().ok()?;
        let (key, at, from) = map.get(&message)?;
        (now_ms - at < TTL_MS && now_ms >= *at && **from == *wrapped).then(|| key.clone())
    }

    /// Drops the key of `message` (shredded).
    pub fn forget(&self, message: MessageId) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(&message);
        }
    }

    /// The key of `message` as unwrapped from `wrapped` less than [`TTL_MS`] before `now_ms`,
    /// else the one `unwrap` returns (kept from now).
    pub fn get_or<E>(
        &self,
        message: MessageId,
        now_ms: i64,
        wrapped: &[u8],
        unwrap: impl FnOnce() -> Result<MessageKey, E>,
    ) -> Result<Arc<MessageKey>, E> {
        if let Some(key) = self.get(message, now_ms, wrapped) {
            return Ok(key);
        }
        let key = Arc::new(unwrap()?);
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= MAX_KEYS {
                map.clear();
            }
            map.retain(|_, (_, at, _)| now_ms - *at < TTL_MS);
            map.insert(message, (key.clone(), now_ms, wrapped.into()));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> MessageId {
        MessageId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_key_is_unwrapped_once_per_ttl_and_again_after_it() {
        let cache = KeyCache::default();
        let unwraps = std::cell::Cell::new(0);
        let get = |now: i64| {
            cache
                .get_or(id(1), now, b"wrapped", || {
                    unwraps.set(unwraps.get() + 1);
                    Ok::<_, ()>(MessageKey::generate())
                })
                .unwrap()
        };
        let first = get(0);
        let again = get(TTL_MS - 1);
        assert!(Arc::ptr_eq(&first, &again));
        let later = get(TTL_MS);
        assert!(!Arc::ptr_eq(&first, &later));
        assert_eq!(unwraps.get(), 2);
    }

    #[test]
    fn a_key_whose_wrapped_bytes_changed_is_unwrapped_again() {
        let cache = KeyCache::default();
        let first = cache.get_or(id(3), 0, b"before", || Ok::<_, ()>(MessageKey::generate())).unwrap();
        assert!(cache.get(id(3), 1, b"before").is_some_and(|k| Arc::ptr_eq(&k, &first)));
        assert!(cache.get(id(3), 1, b"upgraded").is_none(), "re-wrapped: not the kept key");
        let second = cache.get_or(id(3), 2, b"upgraded", || Ok::<_, ()>(MessageKey::generate())).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn a_failed_unwrap_is_not_kept() {
        let cache = KeyCache::default();
        assert!(cache.get_or(id(2), 0, b"w", || Err::<MessageKey, _>("bad")).is_err());
        let mut called = false;
        cache
            .get_or(id(2), 1, b"w", || {
                called = true;
                Ok::<_, ()>(MessageKey::generate())
            })
            .unwrap();
        assert!(called, "the failure was not cached");
    }
}
