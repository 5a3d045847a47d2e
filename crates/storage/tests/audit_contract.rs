//! Storage contract for the audit chain (SECURITY F3, F5), on SQLite and PostgreSQL: concurrent
//! writers leave one contiguous chain that verifies; the table refuses UPDATE, DELETE and
//! unchained rows; events from before the chain are chained once at start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod backends;

use sealpost_audit::chain::{ChainedEvent, verify};
use sealpost_audit::{AuditEvent, Origin};
use sealpost_storage::Store;

fn event(writer: usize, i: usize) -> AuditEvent {
    AuditEvent {
        at_ms: 1_700_000_000_000 + i as i64,
        actor: format!("user:writer-{writer}"),
        action: "message.read".into(),
        object: Some(format!("message:{writer}-{i}")),
        outcome: "success".into(),
        origin: Origin {
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            request_id: Some(format!("r-{writer}-{i}")),
        },
    }
}

async fn whole_chain(store: &Store) -> Vec<ChainedEvent> {
    let mut all = vec![];
    loop {
        let page = store
            .audit_chain_page(all.last().map_or(0, |e: &ChainedEvent| e.seq), 3000)
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Runs `sql` directly, as someone with database access would; returns whether it succeeded.
async fn raw(store: &Store, sql: &str) -> bool {
    let result = store.execute_raw(sql).await;
    if let Err(e) = &result {
        eprintln!("{sql}: {e}");
    }
    result.is_ok()
}

contract!(
    eight_concurrent_writers_of_a_thousand_events_leave_one_contiguous_verifying_chain,
    |store: Store| async move {
        let writers: Vec<_> = (0..8)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    // In groups of ten, as the server's group commit does under load.
                    for chunk in (0..1000).collect::<Vec<_>>().chunks(10) {
                        let batch: Vec<AuditEvent> = chunk.iter().map(|&i| event(w, i)).collect();
                        store.append_audit_batch(&batch).await.unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let chain = whole_chain(&store).await;
        assert_eq!(chain.len(), 8000);
        assert!(chain.iter().enumerate().all(|(i, e)| e.seq == i as i64 + 1), "contiguous");
        let head = verify(&chain, None).unwrap();
        assert_eq!(head, store.audit_head().await.unwrap());
        for w in 0..8 {
            let mine: Vec<&ChainedEvent> = chain.iter().filter(|e| e.event.actor == format!("user:writer-{w}")).collect();
            assert_eq!(mine.len(), 1000);
            assert!(
                mine.windows(2).all(|p| p[0].event.at_ms < p[1].event.at_ms),
                "each writer's order kept"
            );
        }
    }
);

contract!(
    the_audit_table_refuses_updates_deletions_and_unchained_rows,
    |store: Store| async move {
        store.append_audit(&event(0, 0)).await.unwrap();
        store.append_audit(&event(0, 1)).await.unwrap();
        assert!(!raw(&store, "UPDATE audit_events SET actor = 'user:someone-else' WHERE seq = 1").await);
        assert!(!raw(&store, "DELETE FROM audit_events WHERE seq = 2").await);
        assert!(!raw(&store, "DELETE FROM audit_events").await);
        let unchained = "INSERT INTO audit_events (seq, at, actor, action, outcome) VALUES (3, 0, 'x', 'y', 'success')";
        assert!(!raw(&store, unchained).await);
        if store.backend() == "postgres" {
            assert!(!raw(&store, "TRUNCATE audit_events").await);
        }
        let chain = whole_chain(&store).await;
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].event.actor, "user:writer-0");
        verify(&chain, None).unwrap();
    }
);

contract!(events_from_before_the_chain_are_chained_once_at_start, |store: Store| async move {
    // Write two rows as the old schema did, with no hash, by lifting the guard for a moment.
    let (off, on) = match store.backend() {
        "sqlite" => (
            "DROP TRIGGER audit_events_chained",
            "CREATE TRIGGER audit_events_chained BEFORE INSERT ON audit_events WHEN NEW.hash IS NULL OR NEW.prev_hash IS NULL \
                 BEGIN SELECT RAISE(ABORT, 'audit events must be chained'); END",
        ),
        _ => (
            "ALTER TABLE audit_events DISABLE TRIGGER audit_events_chained",
            "ALTER TABLE audit_events ENABLE TRIGGER audit_events_chained",
        ),
    };
    // One script, so it runs on one connection and no other sees the guard lifted.
    let mut script = format!("{off};");
    for seq in [1, 4] {
        script += &format!(
            "INSERT INTO audit_events (seq, at, actor, action, outcome) VALUES ({seq}, {seq}, 'system', 'message.send', 'success');"
        );
    }
    script += on;
    assert!(raw(&store, &script).await);
    store.migrate(0).await.unwrap();
    let chain = whole_chain(&store).await;
    assert_eq!(chain.iter().map(|e| (e.seq, e.event.at_ms)).collect::<Vec<_>>(), [(1, 1), (2, 4)]);
    verify(&chain, None).unwrap();
    store.append_audit(&event(0, 0)).await.unwrap();
    verify(&whole_chain(&store).await, None).unwrap();
    assert!(
        !raw(&store, "UPDATE audit_events SET actor = 'x' WHERE seq = 1").await,
        "chained rows are fixed"
    );
});

contract!(
    signed_checkpoints_are_kept_once_per_position_and_never_change,
    |store: Store| async move {
        use sealpost_audit::chain::Head;
        use sealpost_audit::checkpoint::{Checkpoint, SignedCheckpoint};
        let at = |seq: i64| SignedCheckpoint {
            checkpoint: Checkpoint {
                head: Head {
                    seq,
                    hash: [seq as u8; 32],
                },
                at_ms: seq * 10,
            },
            key: [1; 32],
            signature: [2; 64],
        };
        assert_eq!(store.latest_audit_checkpoint_by(&[1; 32]).await.unwrap(), None);
        assert!(store.insert_audit_checkpoint(&at(5)).await.unwrap());
        assert!(store.insert_audit_checkpoint(&at(2)).await.unwrap());
        let mut again = at(5);
        again.checkpoint.at_ms = 999;
        assert!(!store.insert_audit_checkpoint(&again).await.unwrap(), "one per position");
        assert_eq!(store.audit_checkpoints().await.unwrap(), vec![at(2), at(5)]);
        assert_eq!(store.latest_audit_checkpoint_by(&[1; 32]).await.unwrap(), Some(at(5)));
        assert!(!raw(&store, "UPDATE audit_checkpoints SET at = 0").await);
        assert!(!raw(&store, "DELETE FROM audit_checkpoints").await);
        if store.backend() == "postgres" {
            assert!(!raw(&store, "TRUNCATE audit_checkpoints").await);
        }
        assert_eq!(store.audit_checkpoints().await.unwrap().len(), 2);
    }
);

contract!(restore_records_are_kept_in_order_and_never_change, |store: Store| async move {
    use sealpost_audit::chain::Head;
    use sealpost_audit::checkpoint::{Restore, SignedRestore};
    let at = |at_ms: i64| SignedRestore {
        restore: Restore {
            restored: Head { seq: 10, hash: [3; 32] },
            last_signed: Head { seq: 25, hash: [4; 32] },
            at_ms,
        },
        key: [1; 32],
        signature: [2; 64],
    };
    assert!(store.audit_restores().await.unwrap().is_empty());
    store.insert_audit_restore(&at(900)).await.unwrap();
    store.insert_audit_restore(&at(100)).await.unwrap();
    assert_eq!(store.audit_restores().await.unwrap(), vec![at(100), at(900)]);
    assert!(!raw(&store, "UPDATE audit_restores SET restored_seq = 0").await);
    assert!(!raw(&store, "DELETE FROM audit_restores").await);
    if store.backend() == "postgres" {
        assert!(!raw(&store, "TRUNCATE audit_restores").await);
    }
    assert_eq!(store.audit_restores().await.unwrap().len(), 2);
});

contract!(
    a_break_glass_grant_is_the_officers_own_ends_on_time_and_never_changes,
    |store: Store| async move {
        use sealpost_domain::{DisplayName, EmailAddress, MessageId, Role};
        use sealpost_storage::NewUser;
        let officer = |who: &str| NewUser {
            email: EmailAddress::parse(&format!("{who}@testshire.gov.uk")).unwrap(),
            display_name: DisplayName::parse(who).unwrap(),
            role: Role::Ig,
            password_hash: None,
        };
        let ida = store.create_user(&officer("ida"), 0).await.unwrap();
        let ian = store.create_user(&officer("ian"), 0).await.unwrap();
        let message = MessageId(uuid::Uuid::new_v4());
        let before = store.audit_head().await.unwrap().seq;
        let grant = store
            .grant_break_glass(ida, message, "Subject access request 1", 1_000, 61_000, &event(0, 0))
            .await
            .unwrap();
        assert_eq!(
            store.audit_head().await.unwrap().seq,
            before + 1,
            "the grant's event commits with it"
        );
        assert_eq!(store.active_break_glass(ida, message, 60_999).await.unwrap(), Some(grant.clone()));
        assert_eq!(store.active_break_glass(ida, message, 61_000).await.unwrap(), None, "ended");
        assert_eq!(store.active_break_glass(ian, message, 2_000).await.unwrap(), None, "not his");
        let other = MessageId(uuid::Uuid::new_v4());
        assert_eq!(store.active_break_glass(ida, other, 2_000).await.unwrap(), None, "not that message");
        assert!(!raw(&store, "UPDATE break_glass_grants SET expires_at = 999999999").await);
        assert!(!raw(&store, "DELETE FROM break_glass_grants").await);
        if store.backend() == "postgres" {
            assert!(!raw(&store, "TRUNCATE break_glass_grants").await);
        }
        assert_eq!(
            store
                .active_break_glass(ida, message, 60_999)
                .await
                .unwrap()
                .map(|g| g.expires_at_ms),
            Some(61_000)
        );
    }
);

/// The audit log's secondary index names, sorted.
async fn audit_indexes(store: &Store) -> Vec<String> {
    let sql = match store.backend() {
        "sqlite" => "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_events' AND sql IS NOT NULL ORDER BY name",
        _ => {
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'audit_events' AND indexname <> 'audit_events_pkey' ORDER BY indexname"
        }
    };
    store.fetch_texts(sql).await.unwrap()
}

contract!(
    a_bulk_load_without_the_indexes_leaves_one_verifying_chain_and_every_index_back,
    |store: Store| async move {
        use sealpost_storage::AuditQuery;
        store.append_audit(&event(0, 0)).await.unwrap();
        let indexes = audit_indexes(&store).await;
        assert!(indexes.len() >= 5, "{indexes:?}");
        let dropped = store.drop_audit_indexes().await.unwrap();
        assert_eq!(audit_indexes(&store).await, Vec::<String>::new());
        let events: Vec<AuditEvent> = (0..2500).map(|i| event(1 + i % 3, i)).collect();
        store.append_audit_batch(&events).await.unwrap();
        store.restore_audit_indexes(dropped).await.unwrap();
        assert_eq!(audit_indexes(&store).await, indexes);
        let chain = whole_chain(&store).await;
        assert_eq!(chain.len(), 2501);
        assert_eq!(verify(&chain, None).unwrap(), store.audit_head().await.unwrap());
        let by_writer_two = AuditQuery {
            actors: vec!["user:writer-2".into()],
            limit: 1000,
            ..AuditQuery::default()
        };
        let found = store.search_audit(&by_writer_two).await.unwrap();
        assert_eq!(found.len(), 833);
        assert!(found.windows(2).all(|p| p[0].seq > p[1].seq), "newest first");
    }
);
