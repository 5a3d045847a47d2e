//! Group commit for the audit log (ARCHITECTURE "Audit log"): one task takes every event that
//! `record` is asked to append, gathers those waiting into one transaction, and acknowledges
//! each caller once it has committed. Under load many reads share one commit (one fsync on
//! SQLite) instead of queueing for the write lock one by one; alone, an event commits at once.
//! If a batch fails, each of its events is tried again on its own; a caller whose event still
//! cannot be written fails, and reveals no content (SECURITY F1).

use sealpost_audit::AuditEvent;
use sealpost_storage::Store;
use tokio::sync::{mpsc, oneshot};

/// The most events one transaction takes.
const MAX_BATCH: usize = 256;
/// Callers that may wait for the writer before `append` itself waits for room.
const QUEUE: usize = 4096;

type Ack = oneshot::Sender<Result<i64, String>>;

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<(AuditEvent, Ack)>,
}

/// The event was not committed; the reason is for the server's log.
#[derive(Debug, thiserror::Error)]
#[error("the audit event was not committed: {0}")]
pub struct NotRecorded(String);

impl AuditWriter {
    /// Starts the writer task on the current runtime. It stops when every handle is dropped,
    /// after committing what it holds.
    pub fn start(store: Store) -> Self {
        let (queue, incoming) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, incoming));
        Self { queue }
    }

    /// Appends `event` and waits until it is committed; returns its position in the chain.
    pub async fn append(&self, event: AuditEvent) -> Result<i64, NotRecorded> {
        let (ack, done) = oneshot::channel();
        self.queue
            .send((event, ack))
            .await
            .map_err(|_| NotRecorded("the audit writer has stopped".into()))?;
        done.await
            .map_err(|_| NotRecorded("the audit writer stopped before committing".into()))?
            .map_err(NotRecorded)
    }
}

async fn run(store: Store, mut incoming: mpsc::Receiver<(AuditEvent, Ack)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while incoming.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (events, acks): (Vec<AuditEvent>, Vec<Ack>) = batch.drain(..).unzip();
        let started = std::time::Instant::now();
        match store.append_audit_batch(&events).await {
            Ok(seqs) => {
                crate::metrics::audit_batch(seqs.len(), started.elapsed());
                for (ack, seq) in acks.into_iter().zip(seqs) {
                    let _ = ack.send(Ok(seq));
                }
            }
            // One bad event must not fail its neighbours: retry each on its own, so only the
            // callers whose own event cannot be written are refused.
            Err(_) if events.len() > 1 => {
                for (event, ack) in events.iter().zip(acks) {
                    let _ = ack.send(store.append_audit(event).await.map_err(|e| e.to_string()));
                }
            }
            Err(e) => {
                for ack in acks {
                    let _ = ack.send(Err(e.to_string()));
                }
            }
        }
    }
}
