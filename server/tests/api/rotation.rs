//! Master-key rotation (SECURITY E5, issue 19): `sealpost keys rotate` re-wraps every key to a
//! new master key while the server runs; killed with SIGKILL part-way, again and again, a rerun
//! carries on with the same new key and everything opens throughout; `keys retire` then drops
//! the old key, and only once nothing needs it.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli::sealpost;
use crate::staff::{message, people, send_ok};
use crate::test_app::{TestApp, body, spawn_app};

/// The identities in the master key file.
fn identities(app: &TestApp) -> usize {
    std::fs::read_to_string(app.dir.path().join("keys/master.key"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .count()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_rotation_killed_three_times_carries_on_and_every_message_opens_throughout() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let mut ids = vec![];
    for n in 0..30 {
        let sent = send_ok(
            &app,
            &p.ann,
            message(&["bob@testshire.gov.uk"], &format!("Case {n}"), &format!("Body {n}")),
            &[("f.txt", format!("file {n}").into_bytes())],
        )
        .await;
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    app.new_draft(
        &p.ann,
        serde_json::json!({ "subject": "Unsent", "body": "A draft's key is wrapped too" }),
    )
    .await;
    assert_eq!(identities(&app), 1);
    let opens_all = async || {
        for (n, id) in ids.iter().enumerate() {
            let detail = body(app.read(&p.bob, id).await).await;
            assert_eq!(detail["body"], format!("Body {n}"), "message {n} opens: {detail}");
        }
    };

    // Killed at three points; each time the key file is whole and everything opens.
    // Each run re-wraps a key every 25 ms; 31 keys take longer than all three runs together.
    for wait in [150, 250, 350] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sealpost"))
            .args(["keys", "rotate", "--pace-ms", "25"])
            .env("SEALPOST_DATABASE_URL", &app.db.url)
            .env("SEALPOST_DATA_DIR", app.dir.path().join("data"))
            .env("SEALPOST_KEY_DIR", app.dir.path().join("keys"))
            .env_remove("SEALPOST_CONFIG")
            .current_dir(app.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!((1..=2).contains(&identities(&app)), "one new key at most, never a broken file");
        opens_all().await;
    }

    // The rerun finishes with the key the first run made: no third identity.
    let out = sealpost(&app, &["keys", "rotate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Carrying on a rotation") && said.contains("; 0 left."),
        "the kills left work, and it is done: {said}"
    );
    assert_eq!(identities(&app), 2);
    opens_all().await;
    let draft = body(app.get("/api/v1/drafts").header("cookie", &p.ann).send().await.unwrap()).await;
    let draft = body(
        app.get(&format!("/api/v1/drafts/{}", draft[0]["id"].as_str().unwrap()))
            .header("cookie", &p.ann)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(draft["content"]["body"], "A draft's key is wrapped too");

    // Retired: the old key is gone, and what the server opens still opens (it reads the file again).
    let out = sealpost(&app, &["keys", "retire"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(identities(&app), 1);
    opens_all().await;
    let sent = send_ok(&app, &p.ann, message(&["bob@testshire.gov.uk"], "After", "After the rotation"), &[]).await;
    assert_eq!(
        body(app.read(&p.bob, sent["id"].as_str().unwrap()).await).await["body"],
        "After the rotation"
    );
    let actions: Vec<String> = app
        .state
        .store
        .audit_chain_page(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    assert_eq!(
        actions.iter().filter(|a| *a == "keys.rotated").count(),
        1,
        "one rotation on the record"
    );
    assert_eq!(actions.iter().filter(|a| *a == "keys.retired").count(), 1);
}

#[tokio::test]
async fn retire_refuses_while_a_key_still_needs_the_old_master_key() {
    let app = spawn_app().await;
    let p = people(&app).await;
    send_ok(
        &app,
        &p.ann,
        message(&["bob@testshire.gov.uk"], "Old", "Wrapped to the first key"),
        &[],
    )
    .await;
    let out = sealpost(&app, &["keys", "retire"], None);
    assert!(
        out.status.success() && text(&out.stdout).contains("nothing to retire"),
        "{}",
        text(&out.stdout)
    );
    // A new key made active by hand in front of the old one, nothing re-wrapped yet.
    let path = app.dir.path().join("keys/master.key");
    let old = std::fs::read_to_string(&path).unwrap();
    let fresh = sealpost_crypto::generate_key_pair();
    std::fs::write(
        &path,
        format!("{}\n{old}", sealpost_crypto::ExposeSecret::expose_secret(&fresh.identity)),
    )
    .unwrap();
    let out = sealpost(&app, &["keys", "retire"], None);
    assert!(!out.status.success(), "refused");
    assert!(
        text(&out.stderr).contains("still need an older master key"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(identities(&app), 2, "nothing dropped");
}

/// The escrow identity the test server's `keys init` wrote (to be moved offline in real life).
fn escrow_file(app: &TestApp) -> String {
    app.dir
        .path()
        .join("keys")
        .join(sealpost_server::keyfiles::ESCROW_SECRET)
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_escrow_identity_alone_opens_every_message_and_brings_back_a_lost_master_key() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let mut ids = vec![];
    for n in 0..3 {
        let sent = send_ok(
            &app,
            &p.ann,
            message(&["bob@testshire.gov.uk"], &format!("Escrow {n}"), &format!("Kept {n}")),
            &[],
        )
        .await;
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    let escrow = escrow_file(&app);
    let out = sealpost(&app, &["keys", "recover", "--escrow-identity", &escrow], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("3 messages open with the escrow identity alone; 0 do not."),
        "{}",
        text(&out.stdout)
    );

    // A file that is not the escrow identity is refused, saying so.
    let other = app.dir.path().join("other.txt");
    std::fs::write(
        &other,
        sealpost_crypto::ExposeSecret::expose_secret(&sealpost_crypto::generate_key_pair().identity),
    )
    .unwrap();
    let out = sealpost(&app, &["keys", "recover", "--escrow-identity", other.to_str().unwrap()], None);
    assert!(
        !out.status.success() && text(&out.stderr).contains("is not the identity of the escrow recipient"),
        "{}",
        text(&out.stderr)
    );

    // The master key is lost: --rewrap makes a new one and wraps every key to it.
    let master = app.dir.path().join("keys/master.key");
    let lost = std::fs::read_to_string(&master).unwrap();
    std::fs::remove_file(&master).unwrap();
    let out = sealpost(&app, &["keys", "recover", "--escrow-identity", &escrow, "--rewrap"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Re-wrapped 3 keys"), "{}", text(&out.stdout));
    let new = std::fs::read_to_string(&master).unwrap();
    assert_ne!(new, lost);
    assert_eq!(identities(&app), 1);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(
            body(app.read(&p.bob, id).await).await["body"],
            format!("Kept {n}"),
            "the server opens it with the new key"
        );
    }
}

/// The manual path in the README, with Debian's reference `age` command and nothing of
/// Sealpost's: the escrow identity opens a message's wrapped key, and the key inside is the
/// passphrase that opens its subject and its files (typed at age's prompt, as by hand).
#[tokio::test]
async fn the_reference_age_command_opens_a_message_and_its_file_with_the_escrow_identity() {
    let app = spawn_app().await;
    let p = people(&app).await;
    let sent = send_ok(
        &app,
        &p.ann,
        message(&["bob@testshire.gov.uk"], "Opened by hand", "x"),
        &[("minutes.txt", b"Minutes of the panel".to_vec())],
    )
    .await;
    let id = sent["id"].as_str().unwrap();
    let one = |sql: String| {
        let store = app.state.store.clone();
        async move { store.fetch_bytes(&sql).await.unwrap().remove(0) }
    };
    let dir = app.dir.path();
    std::fs::write(
        dir.join("wrapped.age"),
        one(format!("SELECT wrapped FROM message_keys WHERE message_id = '{id}'")).await,
    )
    .unwrap();
    std::fs::write(
        dir.join("subject.age"),
        one(format!("SELECT subject FROM messages WHERE id = '{id}'")).await,
    )
    .unwrap();
    let blob_key = app
        .state
        .store
        .fetch_texts(&format!("SELECT blob_key FROM attachments WHERE message_id = '{id}'"))
        .await
        .unwrap()
        .remove(0);
    let blob = dir.join("data/blobs").join(blob_key);
    let out = Command::new("age")
        .args(["-d", "-i", &escrow_file(&app), "wrapped.age"])
        .current_dir(dir)
        .output()
        .expect("Debian's age command");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = text(&out.stdout);
    let mut lines = key.lines();
    assert_eq!(
        lines.next(),
        Some(format!("sealpost/v1 message-key {id}").as_str()),
        "the binding line first"
    );
    let passphrase = lines.next().unwrap().to_owned();
    // age reads a passphrase from the terminal only: `script` gives it one, fed from stdin.
    let by_hand = |file: &std::path::Path, out: &str| {
        let mut child = Command::new("script")
            .args(["-qec", &format!("age -d -o {out} {}", file.display()), "/dev/null"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script (util-linux)");
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), format!("{passphrase}\n").as_bytes()).unwrap();
        let done = child.wait_with_output().unwrap();
        assert!(done.status.success(), "{}", text(&done.stdout));
        std::fs::read_to_string(dir.join(out)).unwrap()
    };
    assert_eq!(
        by_hand(&dir.join("subject.age"), "subject.txt"),
        format!("sealpost/v1 subject {id}\nOpened by hand")
    );
    let file = by_hand(&blob, "minutes.txt");
    assert!(
        file.starts_with("sealpost/v1 attachment ") && file.ends_with("\nMinutes of the panel"),
        "{file}"
    );
}

/// Envelope v2 (issue 19): messages sealed before it (an X25519 identity per message) keep
/// opening, and `sealpost keys upgrade`, run while the server serves them, re-seals their
/// fields with a symmetric key: the subject, body, file names, a partner's reply and an unsent
/// notification's link; the files keep their sealing and still download. A key cached before
/// the upgrade is not used for the re-sealed fields.
#[tokio::test]
async fn messages_sealed_before_envelope_v2_are_upgraded_while_the_server_runs() {
    let (app, sink) = crate::test_app::spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    sealpost_crypto::generate_legacy_keys_on_this_thread(true);
    let (to_partner, token) = app.send_file_to_partner(&sink, "pc.jones@police.example.uk", b"referral").await;
    let mut ids = vec![];
    for n in 0..2 {
        let sent = send_ok(
            &app,
            &p.ann,
            message(&["bob@testshire.gov.uk"], &format!("Old case {n}"), &format!("Old body {n}")),
            &[("old.txt", format!("old file {n}").into_bytes())],
        )
        .await;
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    // A notification not yet sent: its link is sealed with the message key.
    send_ok(
        &app,
        &p.ann,
        message(&["sam@school.example.org"], "Old, not yet notified", "x"),
        &[],
    )
    .await;
    sealpost_crypto::generate_legacy_keys_on_this_thread(false);
    let portal = app.portal_sign_in(&sink, &token, None).await;
    app.portal_reply_ok(&portal, &to_partner, "A reply before the upgrade", &[]).await;
    let key_of = |id: &str| {
        let (store, id) = (app.state.store.clone(), id.to_owned());
        async move {
            store
                .fetch_bytes(&format!("SELECT wrapped FROM message_keys WHERE message_id = '{id}'"))
                .await
                .unwrap()
                .remove(0)
        }
    };
    for id in ids.iter().chain([&to_partner]) {
        let wrapped = key_of(id).await;
        let key = app.state.keyring.unwrap(&wrapped, id.parse().unwrap()).unwrap();
        assert!(key.is_legacy(), "made as before envelope v2");
    }
    // Read once, so the server holds the old keys in its cache.
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(body(app.read(&p.bob, id).await).await["body"], format!("Old body {n}"));
    }

    let out = sealpost(&app, &["keys", "upgrade"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Upgraded 4 message keys"), "{}", text(&out.stdout));
    let subjects = app.state.store.fetch_bytes("SELECT subject FROM messages").await.unwrap();
    assert!(
        subjects.iter().all(|s| s.windows(9).any(|w| w == b"-> scrypt")),
        "every subject is sealed with a symmetric key now"
    );
    let replies = app.state.store.fetch_bytes("SELECT body FROM replies").await.unwrap();
    assert!(replies.iter().all(|s| s.windows(9).any(|w| w == b"-> scrypt")));

    // Everything opens at once, with the files sealed before.
    for (n, id) in ids.iter().enumerate() {
        let detail = body(app.read(&p.bob, id).await).await;
        assert_eq!(detail["body"], format!("Old body {n}"), "{detail}");
        assert_eq!(detail["attachments"][0]["name"], "old.txt");
        let file = detail["attachments"][0]["id"].as_str().unwrap().to_owned();
        let download = app.download(&p.bob, id, &file).await;
        assert_eq!(download.bytes().await.unwrap().as_ref(), format!("old file {n}").as_bytes());
    }
    let thread = body(app.read(&p.ann, &to_partner).await).await;
    assert!(thread.to_string().contains("A reply before the upgrade"), "{thread}");
    let partner_view = body(app.portal_message(&portal, &to_partner).await).await;
    assert_eq!(partner_view["body"], "Details inside");
    // The unsent notification goes out with its re-sealed link, which opens the message.
    app.deliver_due().await;
    let link = app.link_sent_to(&sink, "sam@school.example.org");
    app.portal_redeem(&link).await;

    // A second run finds nothing to do.
    let out = sealpost(&app, &["keys", "upgrade"], None);
    assert!(text(&out.stdout).contains("Upgraded 0 message keys"), "{}", text(&out.stdout));
}
