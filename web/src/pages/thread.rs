//! The secure replies under a message, oldest first, each with its files: shown to the sender
//! on the message page and to a partner (their own replies) in the portal.

use leptos::prelude::*;
use sealpost_domain::AttachmentId;
use sealpost_domain::api_messages::ReplyDetail;

use crate::components::{LinkedText, format_size, format_time, visible_text};

/// The replies to message `message_id`; `file_url(message_id, attachment_id)` is where a
/// reply's file downloads from for this viewer.
#[component]
pub fn Replies(replies: Vec<ReplyDetail>, file_url: impl Fn(AttachmentId) -> String + 'static) -> impl IntoView {
    let count = replies.len();
    (count > 0).then(|| {
        view! {
            <section class="thread" aria-labelledby="replies-title">
                <h2 id="replies-title">{if count == 1 { "1 secure reply".to_owned() } else { format!("{count} secure replies") }}</h2>
                <ol class="replies">
                    {replies.into_iter().map(|r| {
                        let heading = format!("Reply from {}", r.from);
                        let files: Vec<_> = r.attachments.iter().map(|a| (file_url(a.id), a.clone())).collect();
                        view! {
                            <li class="card reply">
                                <h3>{heading}</h3>
                                <p class="muted">{format_time(r.sent_at)}</p>
                                <LinkedText text=r.body/>
                                {(!files.is_empty()).then(|| view! {
                                    <ul class="reply-files" aria-label="Files in this reply">
                                        {files.into_iter().map(|(url, a)| view! {
                                            <li><a href=url download=a.name.clone()>{visible_text(&a.name)}</a>
                                                " "<span class="muted">"("{format_size(a.size)}")"</span></li>
                                        }).collect_view()}
                                    </ul>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        }
    })
}
