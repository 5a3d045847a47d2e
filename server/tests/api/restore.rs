//! Backup and restore (issue 19): a backup taken while sends and reads run, with the keys
//! sealed to the admin's age recipient, restores into a fresh directory where every message
//! acknowledged before it opens with its files; `audit verify` passes and reports the restore,
//! while the same rollback made by hand (an older database copied in) is still a break.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use sealpost_crypto::ExposeSecret;

use crate::cli::sealpost;
use crate::staff::{message, people, send_ok};
use crate::test_app::{PASSWORD, body, spawn_app, spawn_app_on};

/// `sealpost ARGS` on the data and key directories under `dir`, with the database `url`
/// (the SQLite file in `dir/data` when `None`).
fn sealpost_in(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sealpost"));
    command
        .args(args)
        .env("SEALPOST_DATA_DIR", dir.join("data"))
        .env("SEALPOST_KEY_DIR", dir.join("keys"))
        .env_remove("SEALPOST_DATABASE_URL")
        .env_remove("SEALPOST_CONFIG")
        .current_dir(dir);
    if let Some(url) = url {
        command.env("SEALPOST_DATABASE_URL", url);
    }
    command.output().unwrap()
}

fn said(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[tokio::test]
async fn a_backup_taken_under_load_restores_into_a_fresh_directory_and_the_log_reports_the_restore() {
    let app = spawn_app().await;
    if !app.db.url.starts_with("sqlite://") {
        return; // PostgreSQL restores with pg_restore: see the test below.
    }
    let p = people(&app).await;
    let admin = sealpost_crypto::generate_key_pair();
    let backup = app.dir.path().join("backup");

    // Sends and reads run while the backup is taken.
    let acknowledged = Mutex::new(Vec::<(String, usize)>::new());
    let stop = AtomicBool::new(false);
    let load = async {
        let mut n = 0;
        while !stop.load(Ordering::SeqCst) {
            let file = format!("file {n}").into_bytes();
            let sent = send_ok(
                &app,
                &p.ann,
                message(&["bob@testshire.gov.uk"], &format!("Case {n}"), &format!("Body {n}")),
                &[("notes.txt", file)],
            )
            .await;
            acknowledged.lock().unwrap().push((sent["id"].as_str().unwrap().to_owned(), n));
            let read = app.read(&p.bob, sent["id"].as_str().unwrap()).await;
            assert_eq!(read.status(), 200);
            n += 1;
        }
    };
    let take_backup = async {
        while acknowledged.lock().unwrap().len() < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let before = acknowledged.lock().unwrap().clone();
        let (dir, out, recipient) = (app.dir.path().to_owned(), backup.clone(), admin.recipient.clone());
        let url = app.db.url.clone();
        let output = tokio::task::spawn_blocking(move || {
            sealpost_in(
                &dir,
                Some(&url),
                &["backup", "--out", out.to_str().unwrap(), "--with-keys", &recipient],
            )
        })
        .await
        .unwrap();
        // Some more mail after it, then the load stops.
        let target = acknowledged.lock().unwrap().len() + 3;
        while acknowledged.lock().unwrap().len() < target {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stop.store(true, Ordering::SeqCst);
        (before, output)
    };
    let ((), (before, output)) = tokio::join!(load, take_backup);
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("sealed to the recipient given"), "{}", said(&output));
    let manifest = std::fs::read_to_string(backup.join("manifest.txt")).unwrap();
    assert!(manifest.contains("  keys.age\n"), "{manifest}");
    // The keys in the backup are sealed: no key text in the clear.
    let sealed = std::fs::read(backup.join("keys.age")).unwrap();
    assert!(!sealed.windows(16).any(|w| w == b"AGE-SECRET-KEY-1"));

    // IG keeps a checkpoint signed after the backup: history the restore will abandon.
    let checkpoint = app.dir.path().join("kept-by-ig.txt");
    let out = sealpost(&app, &["audit", "checkpoint", "--out", checkpoint.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", said(&out));

    // A hand-made rollback: the backup's database put in place of the live one, keys as they
    // are. The log no longer reaches the last checkpoint signed: a break.
    let rolled_back = app.dir.path().join("rolled-back.db");
    std::fs::copy(backup.join("sealpost.db"), &rolled_back).unwrap();
    let url = format!("sqlite://{}", rolled_back.display());
    let out = sealpost_in(app.dir.path(), Some(&url), &["audit", "verify"]);
    assert!(!out.status.success(), "a rollback by hand is caught: {}", said(&out));
    assert!(said(&out).contains("NOT intact"), "{}", said(&out));

    // A damaged backup is refused before anything is copied.
    let fresh = tempfile::tempdir().unwrap();
    let identity = fresh.path().join("admin-identity.txt");
    std::fs::write(&identity, admin.identity.expose_secret()).unwrap();
    let blob = manifest
        .lines()
        .find_map(|l| l.split_once("  ").filter(|(_, f)| f.starts_with("blobs/")))
        .map(|(_, f)| backup.join(f))
        .unwrap();
    let original = std::fs::read(&blob).unwrap();
    let mut flipped = original.clone();
    *flipped.last_mut().unwrap() ^= 1;
    std::fs::write(&blob, flipped).unwrap();
    let restore_args = ["restore", backup.to_str().unwrap(), "--identity", identity.to_str().unwrap()];
    let out = sealpost_in(fresh.path(), None, &restore_args);
    assert!(
        !out.status.success() && said(&out).contains("does not match its hash"),
        "{}",
        said(&out)
    );
    assert!(!fresh.path().join("data/sealpost.db").exists() && !fresh.path().join("keys").exists());
    std::fs::write(&blob, original).unwrap();

    // Without the identity the sealed keys cannot be used; with it the restore completes.
    let out = sealpost_in(fresh.path(), None, &restore_args[..2]);
    assert!(!out.status.success() && said(&out).contains("--identity"), "{}", said(&out));
    let out = sealpost_in(fresh.path(), None, &restore_args);
    assert!(out.status.success(), "{}", said(&out));
    assert!(said(&out).contains("Restored from a backup on"), "{}", said(&out));
    // Never over a restored database.
    let again = sealpost_in(fresh.path(), None, &restore_args);
    assert!(
        !again.status.success() && said(&again).contains("empty data directory"),
        "{}",
        said(&again)
    );

    // The log verifies, reports the restore and sets the abandoned checkpoint aside.
    let out = sealpost_in(
        fresh.path(),
        None,
        &["audit", "verify", "--checkpoint-file", checkpoint.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", said(&out));
    let report = said(&out);
    assert!(
        report.contains("The audit log is intact") && report.contains("Restored from a backup on"),
        "{report}"
    );
    assert!(report.contains("1 signed checkpoint given is from before a restore"), "{report}");

    // Every message acknowledged before the backup opens, with its file, on the restored server.
    let restored = spawn_app_on(fresh).await;
    let bob = restored.sign_in("bob@testshire.gov.uk", PASSWORD).await;
    for (id, n) in &before {
        let detail = body(restored.read(&bob, id).await).await;
        assert_eq!(detail["body"], format!("Body {n}"), "{detail}");
        let file = detail["attachments"][0]["id"].as_str().unwrap().to_owned();
        let download = restored.download(&bob, id, &file).await;
        assert_eq!(download.status(), 200);
        assert_eq!(download.bytes().await.unwrap().as_ref(), format!("file {n}").as_bytes());
    }
    let governance = body(
        restored
            .client
            .post(format!("{}/api/v1/audit/verify", restored.address))
            .header("cookie", {
                restored
                    .create_user("ida@testshire.gov.uk", PASSWORD, sealpost_domain::Role::Ig)
                    .await;
                restored.sign_in("ida@testshire.gov.uk", PASSWORD).await
            })
            .header("x-sealpost-csrf", "1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(governance["intact"], true, "{governance}");
    assert!(
        governance["restores"][0].as_str().unwrap().starts_with("Restored from a backup on"),
        "the IG console reports it: {governance}"
    );

    // Rolling the restored server back by hand to the same backup is a break again.
    let url = format!("sqlite://{}", rolled_back.display());
    let out = sealpost_in(restored.dir.path(), Some(&url), &["audit", "verify"]);
    assert!(!out.status.success() && said(&out).contains("NOT intact"), "{}", said(&out));
}

#[tokio::test]
async fn restore_without_a_directory_records_a_database_put_back_by_other_means_and_forged_records_are_caught() {
    let app = spawn_app().await;
    let p = people(&app).await;
    for n in 0..2 {
        send_ok(
            &app,
            &p.ann,
            message(&["bob@testshire.gov.uk"], &format!("Put back {n}"), "Body"),
            &[],
        )
        .await;
    }
    let out = sealpost(&app, &["restore"], None);
    assert!(out.status.success(), "{}", said(&out));
    assert!(
        said(&out).contains("2 messages open") && said(&out).contains("no checkpoint signed after it was on record here"),
        "{}",
        said(&out)
    );
    let events = app.state.store.audit_chain_page(0, 10_000).await.unwrap();
    assert_eq!(events.last().map(|e| e.event.action.as_str()), Some("audit.restored"));
    let out = sealpost(&app, &["audit", "verify"], None);
    assert!(
        out.status.success() && said(&out).contains("Restored from a backup on"),
        "{}",
        said(&out)
    );

    // A restore record not signed by this server's key is a forgery, not an excuse.
    let forged = sealpost_audit::checkpoint::SignedRestore {
        restore: sealpost_audit::checkpoint::Restore {
            restored: sealpost_audit::chain::Head { seq: 1, hash: [0; 32] },
            last_signed: sealpost_audit::chain::Head { seq: 900, hash: [0; 32] },
            at_ms: 1,
        },
        key: app.state.audit_key.verify_key().to_bytes(),
        signature: [7; 64],
    };
    app.state.store.insert_audit_restore(&forged).await.unwrap();
    let out = sealpost(&app, &["audit", "verify"], None);
    assert!(
        !out.status.success() && said(&out).contains("not signed by this server"),
        "{}",
        said(&out)
    );
}
