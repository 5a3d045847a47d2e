//! Portal fixtures: an outside partner who gets a link by email, redeems it, verifies with the
//! emailed code (and passphrase) and replies, as their browser would.

use reqwest::{Response, StatusCode};
use sealpost_mail::testing::SmtpSink;
use serde_json::{Value, json};

use crate::test_app::{PASSWORD, TestApp, body, link_token, multipart};

/// The portal cookie's `name=value`, after checking its flags.
pub fn portal_cookie(r: &Response) -> String {
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-sealpost_portal="))
        .unwrap();
    assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Strict"));
    set.split(';').next().unwrap().to_owned()
}

impl TestApp {
    /// Ann (who must exist) sends `to` a message with one file and the notification is
    /// delivered; returns (message id, the link token in `to`'s email).
    pub async fn send_file_to_partner(&self, sink: &SmtpSink, to: &str, file: &[u8]) -> (String, String) {
        let cookie = self.sign_in("ann@testshire.gov.uk", PASSWORD).await;
        let m = json!({"recipients": [to], "subject": "Referral", "body": "Details inside", "marking": "official"});
        let sent = body(self.send(&cookie, m, &[("referral.pdf", file.to_vec())]).await).await;
        self.deliver_due().await;
        (sent["id"].as_str().unwrap().to_owned(), self.link_sent_to(sink, to))
    }

    /// The link token in the newest notification to `to`.
    pub fn link_sent_to(&self, sink: &SmtpSink, to: &str) -> String {
        let mail = sink
            .received()
            .into_iter()
            .rev()
            .find(|m| m.contains(&format!("To: {to}")) && m.contains("/s/"))
            .expect("a notification");
        link_token(&mail)
    }

    /// "Send me a code": redeems `token`; returns the (unverified) portal cookie.
    pub async fn portal_redeem(&self, token: &str) -> String {
        let r = self
            .post("/api/v1/portal/redeem")
            .json(&json!({ "token": token }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        portal_cookie(&r)
    }

    /// Redeems `token` and enters the newest code from the sink (and `passphrase`); returns
    /// the verified portal cookie.
    pub async fn portal_sign_in(&self, sink: &SmtpSink, token: &str, passphrase: Option<&str>) -> String {
        let cookie = self.portal_redeem(token).await;
        let mail = sink
            .received()
            .into_iter()
            .rev()
            .find(|m| m.contains("confirmation code is"))
            .unwrap();
        let code: String = mail.split("code is:").nth(1).unwrap().trim_start().chars().take(6).collect();
        let ok = self
            .post("/api/v1/portal/verify")
            .header("cookie", &cookie)
            .json(&json!({ "code": code, "passphrase": passphrase }))
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        cookie
    }

    /// `GET /api/v1/portal/messages`
    pub async fn portal_list(&self, cookie: &str) -> Response {
        self.get("/api/v1/portal/messages").header("cookie", cookie).send().await.unwrap()
    }

    /// `GET /api/v1/portal/messages/{id}`
    pub async fn portal_message(&self, cookie: &str, id: &str) -> Response {
        self.get(&format!("/api/v1/portal/messages/{id}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/portal/messages/{id}/attachments/{aid}`
    pub async fn portal_download(&self, cookie: &str, id: &str, attachment: &str) -> Response {
        self.get(&format!("/api/v1/portal/messages/{id}/attachments/{attachment}"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/portal/messages/{id}/reply` with the `reply` part and `(file name, bytes)`
    /// attachments.
    pub async fn portal_reply(&self, cookie: &str, id: &str, text: &str, files: &[(&str, Vec<u8>)]) -> Response {
        self.post(&format!("/api/v1/portal/messages/{id}/reply"))
            .header("cookie", cookie)
            .multipart(multipart("reply", &json!({ "body": text }), files))
            .send()
            .await
            .unwrap()
    }

    /// Replies and expects 200; returns the answer.
    pub async fn portal_reply_ok(&self, cookie: &str, id: &str, text: &str, files: &[(&str, Vec<u8>)]) -> Value {
        let r = self.portal_reply(cookie, id, text, files).await;
        let status = r.status();
        let b = body(r).await;
        assert_eq!(status, StatusCode::OK, "{b}");
        b
    }
}
