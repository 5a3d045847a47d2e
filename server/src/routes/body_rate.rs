//! A minimum rate for request bodies (SECURITY D8): every window (30 s by default) must bring
//! at least [`MIN_BYTES_PER_WINDOW`] bytes, or the request is answered 408 and the connection
//! closed. A body sent a byte every few seconds can no longer hold a connection and a worker
//! for ever, while a slow but real upload (a phone on a poor signal) goes on: 8 KiB in 30 s is
//! about 2 kbit/s.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::error::AppError;
use crate::state::AppState;

/// The least a body must deliver in each window.
pub const MIN_BYTES_PER_WINDOW: u64 = 8 * 1024;

/// Wraps the request body in the rate check; answers 408 if it tripped.
pub async fn min_rate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let window = Duration::from_secs(state.settings.request_read_timeout_secs.into());
    let tripped = Arc::new(AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let body = Body::new(MinRate {
        inner: body,
        window,
        deadline: Box::pin(tokio::time::sleep(window)),
        bytes_in_window: 0,
        tripped: tripped.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if tripped.load(Ordering::Relaxed) {
        tracing::warn!("request body too slow: answered 408");
        let mut slow = AppError::SlowRequest.into_response();
        slow.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return slow;
    }
    response
}

/// The body was slower than the minimum rate.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived too slowly")]
struct TooSlow;

struct MinRate {
    inner: Body,
    window: Duration,
    deadline: Pin<Box<Sleep>>,
    bytes_in_window: u64,
    tripped: Arc<AtomicBool>,
}

impl http_body::Body for MinRate {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes_in_window += data.len() as u64;
                }
                this.next_window_if_due();
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_ready() {
                    if !this.next_window_if_due() {
                        this.tripped.store(true, Ordering::Relaxed);
                        return Poll::Ready(Some(Err(TooSlow.into())));
                    }
                    // A new window began: poll its timer so it wakes us.
                    let _ = this.deadline.as_mut().poll(cx);
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl MinRate {
    /// At the end of a window that brought enough, starts the next one and returns true;
    /// false when the window is over and too little came.
    fn next_window_if_due(&mut self) -> bool {
        if Instant::now() < self.deadline.deadline() {
            return true;
        }
        if self.bytes_in_window < MIN_BYTES_PER_WINDOW {
            return false;
        }
        self.bytes_in_window = 0;
        let next = Instant::now() + self.window;
        self.deadline.as_mut().reset(next);
        true
    }
}
