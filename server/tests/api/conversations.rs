//! Conversations (issue 16, a first slice): whoever may read a message may answer it in the
//! same conversation. An answer is a message like any other (its own key, recipients, links
//! and notifications, audited as a send); the conversation only links the parts. Each reader
//! sees the parts sent by them or to them, as metadata, and opens each part on its own page,
//! where the read is recorded (SECURITY C1, F1).

use reqwest::StatusCode;
use serde_json::Value;

use crate::staff::{message, people, send_ok};
use crate::test_app::{body, spawn_app_with_smtp};

const PC: &str = "pc.jones@police.example.uk";
const BOB: &str = "bob@testshire.gov.uk";
const ANN: &str = "ann@testshire.gov.uk";

fn ids(thread: &Value) -> Vec<String> {
    thread.as_array().map_or_else(Vec::new, |parts| {
        parts.iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    })
}

#[tokio::test]
async fn staff_answer_a_partners_reply_in_the_same_conversation_and_the_partner_gets_a_new_link() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let first = send_ok(&app, &p.ann, message(&[PC, BOB], "Case 88", "Please call the school."), &[]).await;
    let id = first["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let token = app.link_sent_to(&sink, PC);
    let pc = app.portal_sign_in(&sink, &token, None).await;
    app.portal_reply_ok(&pc, &id, "Called them; notes to follow.", &[]).await;

    let answer = app
        .answer(
            &p.ann,
            &id,
            message(&[PC], "Re: Case 88", "Thank you. The next steps are attached."),
            &[("steps.txt", b"1. visit".to_vec())],
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer = body(answer).await;
    let aid = answer["id"].as_str().unwrap().to_owned();
    assert_ne!(answer["reference"], first["reference"], "an answer is a message of its own");

    // The partner is told as for any new message: a fresh link, a new code.
    app.deliver_due().await;
    let second = app.link_sent_to(&sink, PC);
    assert_ne!(second, token);
    let mail = sink.received().into_iter().rev().find(|m| m.contains(&second)).unwrap();
    assert!(
        !mail.contains("next steps") && !mail.contains("Re: Case 88"),
        "link only, never content"
    );
    let pc = app.portal_sign_in(&sink, &second, None).await;
    let theirs = body(app.portal_message(&pc, &aid).await).await;
    assert_eq!(theirs["body"], "Thank you. The next steps are attached.");
    assert_eq!(theirs["attachments"][0]["name"], "steps.txt");
    // Their portal shows the conversation they are part of: the first message and the answer.
    assert_eq!(ids(&theirs["thread"]), [id.clone(), aid.clone()]);

    // The sender sees the whole conversation from either part, oldest first, without content.
    for part in [&id, &aid] {
        let seen = body(app.read(&p.ann, part).await).await;
        assert_eq!(ids(&seen["thread"]), [id.clone(), aid.clone()], "from {part}");
        assert_eq!(seen["thread"][1]["in_reply_to"], id.as_str());
        assert_eq!(seen["thread"][1]["reference"], answer["reference"]);
        let listed = seen["thread"].to_string();
        assert!(
            !listed.contains("Case 88") && !listed.contains("next steps"),
            "metadata only: {listed}"
        );
    }
    // Bob was on the first message only: the answer is not his to see, or to know of.
    let bobs = body(app.read(&p.bob, &id).await).await;
    assert!(bobs.get("thread").is_none(), "{bobs}");
    assert_eq!(app.read(&p.bob, &aid).await.status(), StatusCode::NOT_FOUND);
    assert!(app.audit_actions(&aid).await.contains(&"message.send".to_owned()));
}

#[tokio::test]
async fn a_colleague_answers_internally_and_the_partner_never_learns_of_it() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let first = send_ok(&app, &p.ann, message(&[PC, BOB], "Case 91", "For both of you."), &[]).await;
    let id = first["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let pc = app.portal_sign_in(&sink, &app.link_sent_to(&sink, PC), None).await;

    // Bob answers Ann alone (an internal note on the case).
    let note = app
        .answer(&p.bob, &id, message(&[ANN], "Re: Case 91", "Internal: I know this family."), &[])
        .await;
    assert_eq!(note.status(), StatusCode::OK);
    let nid = body(note).await["id"].as_str().unwrap().to_owned();
    let inbox = body(app.list(&p.ann, "inbox").await).await;
    assert!(
        inbox.as_array().unwrap().iter().any(|m| m["id"] == nid.as_str()),
        "in Ann's inbox: {inbox}"
    );
    assert_eq!(ids(&body(app.read(&p.ann, &id).await).await["thread"]), [id.clone(), nid.clone()]);
    assert_eq!(ids(&body(app.read(&p.bob, &nid).await).await["thread"]), [id.clone(), nid.clone()]);

    // The partner's portal lists the first message only, and the note answers 404 there.
    let listed = body(app.portal_list(&pc).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(app.portal_message(&pc, &nid).await.status(), StatusCode::NOT_FOUND);
    assert!(body(app.portal_message(&pc, &id).await).await.get("thread").is_none());
    let to_pc = |sink: &sealpost_mail::testing::SmtpSink| sink.received().iter().filter(|m| m.contains(&format!("To: {PC}"))).count();
    let before = to_pc(&sink);
    app.deliver_due().await;
    assert_eq!(to_pc(&sink), before, "nothing about the internal answer reaches the partner");

    // When Ann then answers the partner, their conversation is the first message and her
    // answer: Bob's note, in the same thread, is not part of it.
    let answer = app.answer(&p.ann, &id, message(&[PC], "Re: Case 91", "Thanks."), &[]).await;
    let aid = body(answer).await["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let pc = app.portal_sign_in(&sink, &app.link_sent_to(&sink, PC), None).await;
    let theirs = body(app.portal_message(&pc, &aid).await).await;
    assert_eq!(ids(&theirs["thread"]), [id.clone(), aid.clone()]);
    let mut all = ids(&body(app.read(&p.ann, &aid).await).await["thread"]);
    all[1..].sort();
    let mut want = [id, nid, aid];
    want[1..].sort();
    assert_eq!(all, want, "Ann sees every part (the two answers may share a millisecond)");
}

#[tokio::test]
async fn only_someone_who_may_read_a_message_may_answer_it_and_a_refused_answer_stores_nothing() {
    let (app, _sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    let first = send_ok(&app, &p.ann, message(&[BOB], "Case 93", "Text"), &[]).await;
    let id = first["id"].as_str().unwrap().to_owned();
    let files_before = app.blob_files().len();
    let refused = app
        .answer(
            &p.cat,
            &id,
            message(&[ANN], "Re: Case 93", "Let me in"),
            &[("x.txt", b"x".to_vec())],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let missing = app
        .answer(&p.ann, "00000000-0000-4000-8000-000000000000", message(&[BOB], "Re", "x"), &[])
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(app.list(&p.ann, "inbox").await).await.as_array().unwrap().len(), 0);
    assert_eq!(body(app.list(&p.cat, "sent").await).await.as_array().unwrap().len(), 0);
    assert_eq!(app.blob_files().len(), files_before, "no file kept for a refused answer");
    // An answer is checked like any message.
    let empty = app.answer(&p.bob, &id, message(&[], "Re: Case 93", "to nobody"), &[]).await;
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(empty).await["code"], "no_recipients");
}

#[tokio::test]
async fn a_forward_seals_the_kept_files_again_for_a_new_partner_who_sees_nothing_else_of_the_thread() {
    let (app, sink) = spawn_app_with_smtp(&[]).await;
    let p = people(&app).await;
    const GP: &str = "gp@nhs.example.uk";
    let first = send_ok(
        &app,
        &p.ann,
        message(&[PC, BOB], "Case 95", "Plan attached."),
        &[("plan.txt", b"the plan".to_vec())],
    )
    .await;
    let id = first["id"].as_str().unwrap().to_owned();
    app.deliver_due().await;
    let pc = app.portal_sign_in(&sink, &app.link_sent_to(&sink, PC), None).await;
    app.portal_reply_ok(&pc, &id, "Statement attached.", &[("statement.txt", b"what I saw".to_vec())])
        .await;
    let mine = body(app.read(&p.ann, &id).await).await;
    let plan = mine["attachments"][0]["id"].as_str().unwrap().to_owned();
    let statement = mine["replies"][0]["attachments"][0]["id"].as_str().unwrap().to_owned();

    // Ann forwards both files, and adds one of her own, to the GP.
    let mut m = message(&[GP], "Fwd: Case 95", "For your records.\n\n> Plan attached.");
    m["keep_attachments"] = serde_json::json!([plan, statement]);
    let sent = app.forward(&p.ann, &id, m, &[("note.txt", b"from Ann".to_vec())]).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let fid = body(sent).await["id"].as_str().unwrap().to_owned();
    let forwarded = body(app.read(&p.ann, &fid).await).await;
    assert!(
        forwarded.get("thread").is_none(),
        "a forward starts its own conversation: {forwarded}"
    );

    app.deliver_due().await;
    let gp = app.portal_sign_in(&sink, &app.link_sent_to(&sink, GP), None).await;
    let theirs = body(app.portal_message(&gp, &fid).await).await;
    let names: Vec<&str> = theirs["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["plan.txt", "statement.txt", "note.txt"]);
    let mut contents = vec![];
    for a in theirs["attachments"].as_array().unwrap() {
        let r = app.portal_download(&gp, &fid, a["id"].as_str().unwrap()).await;
        assert_eq!(r.status(), StatusCode::OK);
        contents.push(r.bytes().await.unwrap().to_vec());
    }
    assert_eq!(contents, [b"the plan".to_vec(), b"what I saw".to_vec(), b"from Ann".to_vec()]);
    // The GP reaches nothing of the original conversation.
    assert_eq!(app.portal_message(&gp, &id).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.portal_download(&gp, &id, &plan).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(app.portal_list(&gp).await).await.as_array().unwrap().len(), 1);
    // Each file sent on is on record, against the original, as forwarded by Ann.
    let forwards: Vec<_> = app
        .audit_events(&id)
        .await
        .into_iter()
        .filter(|e| e.action == "attachment.forward")
        .collect();
    assert_eq!(forwards.len(), 2);
    // Sealed again: the new message's files are blobs of its own.
    let blobs: Vec<String> = app.blob_files().iter().map(|f| f.display().to_string()).collect();
    assert_eq!(blobs.iter().filter(|b| b.contains(&fid)).count(), 3, "{blobs:?}");

    // Bob may forward the message but not the partner's reply, which was never his to see.
    let mut m = message(&[GP], "Fwd: Case 95", "x");
    m["keep_attachments"] = serde_json::json!([statement]);
    let refused = app.forward(&p.bob, &id, m, &[]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(refused).await["code"], "unknown_attachment");
    // Cat may not forward what she cannot read; a plain send keeps no files.
    assert_eq!(
        app.forward(&p.cat, &id, message(&[GP], "Fwd", "x"), &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let mut m = message(&[GP], "New", "x");
    m["keep_attachments"] = serde_json::json!([plan]);
    let plain = app.send(&p.ann, m, &[]).await;
    assert_eq!(body(plain).await["code"], "nothing_to_keep");
}
