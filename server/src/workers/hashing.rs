//! The password-hashing workers (SECURITY A4, A11): a fixed number of threads, each keeping one
//! argon2id working memory (19 MiB) and reusing it for every password. Hashing on the blocking
//! pool instead left a fresh 19 MiB block in the allocator arena of every thread that ever
//! hashed, so a storm of failed sign-ins grew the server by hundreds of MiB for good. Here the
//! memory is bounded by the number of workers, however many sign-ins arrive.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use sealpost_crypto::{CryptoError, HashMemory, PasswordHasher};
use tokio::sync::{Semaphore, oneshot};

/// At most this many passwords are hashed at once, whatever the cores: each worker holds
/// 19 MiB, and a council's sign-ins never need more.
const MAX_WORKERS: usize = 4;

type Job = Box<dyn FnOnce(&PasswordHasher, &mut HashMemory) + Send>;

/// The workers and the hasher they share.
pub struct HashingPool {
    hasher: Arc<PasswordHasher>,
    jobs: mpsc::Sender<Job>,
    /// One per worker: a caller waits here, not in a queue of jobs that outlive it.
    permits: Semaphore,
}

/// The pool has shut down (a worker thread died).
#[derive(Debug, thiserror::Error)]
#[error("the password hashing workers stopped")]
pub struct PoolStopped;

impl HashingPool {
    /// Starts one worker per core, at most [`MAX_WORKERS`]. Each worker takes its memory on
    /// its first password, so an idle server holds none.
    pub fn start(hasher: PasswordHasher, cores: usize) -> std::io::Result<Self> {
        let workers = cores.clamp(1, MAX_WORKERS);
        let hasher = Arc::new(hasher);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..workers {
            let (queue, hasher) = (queue.clone(), hasher.clone());
            std::thread::Builder::new()
                .name(format!("sealpost-hash-{n}"))
                .spawn(move || work(&queue, &hasher))?;
        }
        Ok(Self {
            hasher,
            jobs,
            permits: Semaphore::new(workers),
        })
    }

    /// Runs `job` on a worker, inside the caller's tracing span, and waits for its answer.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&PasswordHasher, &mut HashMemory) -> Result<T, CryptoError> + Send + 'static,
    ) -> Result<Result<T, CryptoError>, PoolStopped> {
        let _permit = self.permits.acquire().await.map_err(|_| PoolStopped)?;
        let (answer, answered) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |hasher, memory| {
            let _ = answer.send(span.in_scope(|| job(hasher, memory)));
        });
        self.jobs.send(job).map_err(|_| PoolStopped)?;
        answered.await.map_err(|_| PoolStopped)
    }
}

/// Tests and start-up reach the hasher itself (e.g. to hash a password outside a request).
impl std::ops::Deref for HashingPool {
    type Target = PasswordHasher;
    fn deref(&self) -> &PasswordHasher {
        &self.hasher
    }
}

/// One worker: takes jobs until the pool is dropped, always in the same memory.
fn work(queue: &Mutex<mpsc::Receiver<Job>>, hasher: &PasswordHasher) {
    let mut memory: Option<HashMemory> = None;
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let next = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
        let Ok(job) = next else { return };
        job(hasher, memory.get_or_insert_with(HashMemory::new));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sealpost_crypto::{SecretString, Verification};

    #[tokio::test]
    async fn many_callers_share_the_workers_and_each_gets_its_own_answer() {
        let pool = HashingPool::start(PasswordHasher::new().unwrap(), 2).unwrap();
        let hash = pool.hash(&SecretString::from("correct horse battery")).unwrap();
        let checks = (0..8).map(|i| {
            let (pool, hash) = (&pool, hash.clone());
            async move {
                let guess = SecretString::from(if i % 2 == 0 {
                    "correct horse battery"
                } else {
                    "wrong horse battery"
                });
                pool.run(move |h, m| h.verify_in(m, &guess, Some(&hash))).await.unwrap().unwrap()
            }
        });
        let got = futures::future::join_all(checks).await;
        for (i, v) in got.into_iter().enumerate() {
            let right = matches!(v, Verification::Match { .. });
            assert_eq!(right, i % 2 == 0, "caller {i}");
        }
    }
}
