//! The word index behind a member of staff's search of their own mail, held in memory only.
//!
//! Content is sealed at rest, so a search cannot ask the database for a word. Opening every
//! message of a 10,000-message mailbox on each search would cost one key unwrap per message
//! (about a second here). Instead each person's index is built the first time they search,
//! from their messages opened once, and brought up to date on each later search with only the
//! messages that arrived since. It never holds a word: only a keyed hash of each word (SipHash,
//! with a key drawn at random when the process starts and never stored), mapped to the
//! messages it appears in, and each message's date. Nothing of it is written anywhere; a
//! restart forgets it, and the next search builds it again. At most [`MAX_PEOPLE`] people's
//! indexes are kept, the least recently used going first, and one unused for
//! [`IDLE_MS`] goes at the next search.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use sealpost_domain::{MessageId, UserId};

/// The most people whose indexes are kept at once.
pub const MAX_PEOPLE: usize = 200;

/// An index unused this long is dropped.
pub const IDLE_MS: i64 = 30 * 60 * 1000;

/// Where a word was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The subject or the body.
    Content,
    /// A correspondent's name or address.
    Correspondent,
}

/// Every person's index.
pub struct SearchIndexes {
    key: RandomState,
    people: Mutex<HashMap<UserId, Arc<tokio::sync::Mutex<Index>>>>,
}

/// One person's index.
#[derive(Default)]
pub struct Index {
    /// Each indexed message, by its number in the postings.
    docs: Vec<MessageId>,
    numbers: HashMap<MessageId, u32>,
    postings: HashMap<u64, Vec<u32>>,
    last_used_ms: i64,
}

impl Default for SearchIndexes {
    fn default() -> Self {
        Self {
            key: RandomState::new(),
            people: Mutex::new(HashMap::new()),
        }
    }
}

impl SearchIndexes {
    /// `user`'s index (new and empty the first time), locked for one search at a time.
    pub async fn of(&self, user: UserId, now_ms: i64) -> tokio::sync::OwnedMutexGuard<Index> {
        let index = {
            let mut people = self.people.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            people.retain(|_, i| i.try_lock().map_or(true, |i| now_ms - i.last_used_ms < IDLE_MS));
            if !people.contains_key(&user) && people.len() >= MAX_PEOPLE {
                let oldest = people
                    .iter()
                    .filter_map(|(u, i)| i.try_lock().ok().map(|i| (*u, i.last_used_ms)))
                    .min_by_key(|(_, at)| *at)
                    .map(|(u, _)| u);
                if let Some(u) = oldest {
                    people.remove(&u);
                }
            }
            people.entry(user).or_default().clone()
        };
        let mut guard = index.lock_owned().await;
        guard.last_used_ms = now_ms;
        guard
    }

    /// The keyed hash of `word` found in `field`.
    pub fn hash(&self, field: Field, word: &str) -> u64 {
        self.key.hash_one((field, word))
    }

    /// How many people's indexes are held (for tests).
    pub fn people(&self) -> usize {
        self.people.lock().map_or(0, |p| p.len())
    }
}

impl Index {
    /// Whether message `id` is indexed.
    pub fn has(&self, id: MessageId) -> bool {
        self.numbers.contains_key(&id)
    }

    /// Indexes message `id` under the hashed words `hashes`.
    pub fn add(&mut self, id: MessageId, hashes: HashSet<u64>) {
        if self.has(id) {
            return;
        }
        let number = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
        self.docs.push(id);
        self.numbers.insert(id, number);
        for h in hashes {
            self.postings.entry(h).or_default().push(number);
        }
    }

    /// The messages in which each of `wanted` is found: every entry of `wanted` is a set of
    /// hashes of which at least one must be there (a word of the query, in any field it may be
    /// in). Everything indexed when `wanted` is empty.
    pub fn matching(&self, wanted: &[Vec<u64>]) -> HashSet<MessageId> {
        let mut result: Option<HashSet<u32>> = None;
        for any_of in wanted {
            let docs: HashSet<u32> = any_of.iter().filter_map(|h| self.postings.get(h)).flatten().copied().collect();
            result = Some(match result {
                None => docs,
                Some(before) => before.intersection(&docs).copied().collect(),
            });
        }
        match result {
            None => self.docs.iter().copied().collect(),
            Some(found) => found.into_iter().filter_map(|n| self.docs.get(n as usize).copied()).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> MessageId {
        MessageId(uuid::Uuid::from_u128(n))
    }

    #[tokio::test]
    async fn every_word_must_be_found_in_a_field_it_may_be_in() {
        let indexes = SearchIndexes::default();
        let user = UserId(uuid::Uuid::from_u128(9));
        let mut index = indexes.of(user, 0).await;
        let words = |ws: &[(Field, &str)]| ws.iter().map(|(f, w)| indexes.hash(*f, w)).collect::<HashSet<u64>>();
        index.add(
            id(1),
            words(&[(Field::Content, "visit"), (Field::Content, "friday"), (Field::Correspondent, "bob")]),
        );
        index.add(id(2), words(&[(Field::Content, "visit"), (Field::Correspondent, "cy")]));
        let q = |w: &str| vec![indexes.hash(Field::Content, w), indexes.hash(Field::Correspondent, w)];
        assert_eq!(index.matching(&[q("visit")]), HashSet::from([id(1), id(2)]));
        assert_eq!(index.matching(&[q("visit"), q("bob")]), HashSet::from([id(1)]));
        assert_eq!(
            index.matching(&[vec![indexes.hash(Field::Correspondent, "friday")]]),
            HashSet::new(),
            "a content word is not a correspondent"
        );
        assert_eq!(index.matching(&[q("nothing")]), HashSet::new());
        assert_eq!(index.matching(&[]).len(), 2);
        assert_ne!(
            indexes.hash(Field::Content, "visit"),
            SearchIndexes::default().hash(Field::Content, "visit"),
            "the key is per process"
        );
    }

    #[tokio::test]
    async fn idle_and_least_recently_used_indexes_are_dropped() {
        let indexes = SearchIndexes::default();
        for n in 0..MAX_PEOPLE as u128 + 5 {
            drop(indexes.of(UserId(uuid::Uuid::from_u128(n)), i64::try_from(n).unwrap()).await);
        }
        assert_eq!(indexes.people(), MAX_PEOPLE);
        drop(indexes.of(UserId(uuid::Uuid::from_u128(1000)), IDLE_MS + 500).await);
        assert!(indexes.people() < MAX_PEOPLE, "those idle for half an hour went");
    }
}
