//! [`StreamingBody`]: a response body read piece by piece, for files too large to hold in
//! memory (bill downloads). See [`Transport::send_streaming`](super::Transport::send_streaming).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

use super::{BoxFuture, TransportError, TransportErrorKind};
use crate::error::{Error, ErrorKind, TimeoutPhase};

/// A source of body pieces: what a [`Transport`](super::Transport) that really streams
/// implements (the reqwest transport reads `Response::chunk`).
pub trait BodyStream: Send + fmt::Debug {
    /// The next piece of the body, or `None` at its end.
    fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>>;
}

enum Source {
    /// A body already read whole (the default [`Transport::send_streaming`](super::Transport::send_streaming)).
    Whole(Option<Bytes>),
    Stream(Box<dyn BodyStream>),
}

/// A response body read piece by piece with [`StreamingBody::chunk`].
///
/// When it comes from [`HttpClient::execute_streaming`](crate::HttpClient::execute_streaming),
/// each piece must arrive within the client's attempt timeout, and the whole body within its
/// total timeout, if one is set.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use tixpay_core::transport::StreamingBody;
///
/// let mut body = StreamingBody::from_bytes("a whole body".into());
/// let mut total = 0;
/// while let Some(piece) = body.chunk().await? {
///     total += piece.len();
/// }
/// assert_eq!(total, 12);
/// assert_eq!(body.received(), 12);
/// # Ok::<(), tixpay_core::Error>(()) }).unwrap();
/// ```
pub struct StreamingBody {
    source: Source,
    idle: Option<Duration>,
    deadline: Option<tokio::time::Instant>,
    received: u64,
}

impl fmt::Debug for StreamingBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Whole(_) => "whole",
            Source::Stream(_) => "stream",
        };
        f.debug_struct("StreamingBody")
            .field("source", &source)
            .field("received", &self.received)
            .finish()
    }
}

impl StreamingBody {
    /// A body that is already in memory, handed out as one piece.
    pub fn from_bytes(body: Bytes) -> Self {
        Self {
            source: Source::Whole(Some(body)),
            idle: None,
            deadline: None,
            received: 0,
        }
    }

    /// A body read from `stream`.
    pub fn from_stream(stream: impl BodyStream + 'static) -> Self {
        Self {
            source: Source::Stream(Box::new(stream)),
            idle: None,
            deadline: None,
            received: 0,
        }
    }

    /// Limits how long each piece may take (`idle`) and when the whole body must be in
    /// (`deadline`).
    #[must_use]
    pub(crate) fn limited(
        mut self,
        idle: Option<Duration>,
        deadline: Option<tokio::time::Instant>,
    ) -> Self {
        self.idle = idle;
        self.deadline = deadline;
        self
    }

    /// The next piece, or `None` at the end of the body. A failure mid-body is a transport
    /// error or a timeout; what was read before it must be treated as incomplete.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        let next = match &mut self.source {
            Source::Whole(body) => Ok(body.take().filter(|b| !b.is_empty())),
            Source::Stream(stream) => {
                let now = tokio::time::Instant::now();
                let left = self.deadline.map(|d| d.saturating_duration_since(now));
                let (limit, phase) = match (self.idle, left) {
                    (Some(idle), Some(left)) if left <= idle => (Some(left), TimeoutPhase::Total),
                    (Some(idle), _) => (Some(idle), TimeoutPhase::Attempt),
                    (None, Some(left)) => (Some(left), TimeoutPhase::Total),
                    (None, None) => (None, TimeoutPhase::Attempt),
                };
                let piece = stream.next_chunk();
                match limit {
                    None => piece.await.map_err(Error::from),
                    Some(limit) => match tokio::time::timeout(limit, piece).await {
                        Ok(result) => result.map_err(Error::from),
                        Err(_) => Err(Error::new(ErrorKind::Timeout {
                            phase,
                            may_have_been_sent: true,
                        })),
                    },
                }
            }
        }?;
        if let Some(piece) = &next {
            self.received = self.received.saturating_add(piece.len() as u64);
        }
        Ok(next)
    }

    /// How many body bytes have been handed out so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Reads the rest of the body into memory, refusing more than `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, TransportError> {
        if let Source::Whole(body) = &mut self.source {
            let body = body.take().unwrap_or_default();
            if body.len() > limit {
                return Err(TransportError::new(TransportErrorKind::BodyTooLarge {
                    limit,
                }));
            }
            return Ok(body);
        }
        let mut out = bytes::BytesMut::new();
        loop {
            let piece = match &mut self.source {
                Source::Stream(stream) => stream.next_chunk().await?,
                Source::Whole(_) => None,
            };
            let Some(piece) = piece else { break };
            if out.len().saturating_add(piece.len()) > limit {
                return Err(TransportError::new(TransportErrorKind::BodyTooLarge {
                    limit,
                }));
            }
            out.extend_from_slice(&piece);
        }
        Ok(out.freeze())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[derive(Debug)]
    struct Pieces(Vec<Bytes>, bool);

    impl BodyStream for Pieces {
        fn next_chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
            Box::pin(async move {
                if self.1 {
                    // Never answers: a stalled server.
                    std::future::pending::<()>().await;
                }
                Ok(if self.0.is_empty() {
                    None
                } else {
                    Some(self.0.remove(0))
                })
            })
        }
    }

    #[tokio::test]
    async fn pieces_come_in_order_and_are_counted() {
        let mut body = StreamingBody::from_stream(Pieces(vec!["ab".into(), "cde".into()], false));
        assert_eq!(body.chunk().await.unwrap().unwrap(), "ab");
        assert_eq!(body.chunk().await.unwrap().unwrap(), "cde");
        assert!(body.chunk().await.unwrap().is_none());
        assert_eq!(body.received(), 5);
        assert!(format!("{body:?}").contains("stream"));
        let mut empty = StreamingBody::from_bytes(Bytes::new());
        assert!(empty.chunk().await.unwrap().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        let mut body = StreamingBody::from_stream(Pieces(vec![], true))
            .limited(Some(Duration::from_secs(5)), None);
        let err = body.chunk().await.unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::Timeout {
                phase: TimeoutPhase::Attempt,
                ..
            }
        ));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        let mut body = StreamingBody::from_stream(Pieces(vec![], true))
            .limited(Some(Duration::from_secs(5)), Some(deadline));
        let err = body.chunk().await.unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::Timeout {
                phase: TimeoutPhase::Total,
                ..
            }
        ));
    }

    #[tokio::test]
    async fn collect_is_capped() {
        let body = StreamingBody::from_stream(Pieces(vec!["ab".into(), "cde".into()], false));
        assert_eq!(body.collect(5).await.unwrap(), "abcde");
        let body = StreamingBody::from_stream(Pieces(vec!["ab".into(), "cde".into()], false));
        assert!(matches!(
            body.collect(4).await.unwrap_err().kind(),
            TransportErrorKind::BodyTooLarge { limit: 4 }
        ));
        assert!(
            StreamingBody::from_bytes("abc".into())
                .collect(2)
                .await
                .is_err()
        );
        assert_eq!(
            StreamingBody::from_bytes("abc".into())
                .collect(3)
                .await
                .unwrap(),
            "abc"
        );
    }
}
