//! The answer to a request over [`MAX_REQUEST_BYTES`](crate::server::MAX_REQUEST_BYTES):
//! `RESOURCE_EXHAUSTED`, gRPC's code for a message over the receiver's limit, with an OAuth
//! `invalid_request` message.
//!
//! tonic refuses such a message before decoding it, but reports it as `OUT_OF_RANGE`. Our
//! handlers never answer `OUT_OF_RANGE`, so [`SizeLimit`] renames that status on the way out;
//! [`SizeLimitLayer`] puts it in the server's `ServiceBuilder` stack.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use http::{HeaderMap, Response};
use tonic::server::NamedService;
use tonic::{Code, Status};
use tower::Layer;
use tower_service::Service;

/// The status message of an oversized request (fixed text, like every refusal).
pub const TOO_LARGE: &str = "invalid_request: request message is larger than 16 KiB";

/// A tonic service whose "message too large" answers are `RESOURCE_EXHAUSTED` with
/// [`TOO_LARGE`].
#[derive(Clone, Debug)]
pub struct SizeLimit<S>(S);

impl<S> SizeLimit<S> {
    /// Wraps `inner`, which enforces the limit itself (`max_decoding_message_size`).
    pub const fn new(inner: S) -> Self {
        Self(inner)
    }
}

/// The tower [`Layer`] that wraps a service in [`SizeLimit`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SizeLimitLayer;

impl<S> Layer<S> for SizeLimitLayer {
    type Service = SizeLimit<S>;

    fn layer(&self, inner: S) -> SizeLimit<S> {
        SizeLimit::new(inner)
    }
}

impl<S: NamedService> NamedService for SizeLimit<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, R, B> Service<R> for SizeLimit<S>
where
    S: Service<R, Response = Response<B>>,
    S::Future: Unpin,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = Relabeled<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        Relabeled(self.0.call(request))
    }
}

/// The response future of [`SizeLimit`].
#[derive(Debug)]
pub struct Relabeled<F>(F);

impl<F, B, E> Future for Relabeled<F>
where
    F: Future<Output = Result<Response<B>, E>> + Unpin,
{
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map_ok(|mut response| {
            relabel(response.headers_mut());
            response
        })
    }
}

/// A refusal before decoding is a trailers-only response: its status is in the headers.
fn relabel(headers: &mut HeaderMap) {
    let out_of_range = headers
        .get(Status::GRPC_STATUS)
        .is_some_and(|code| Code::from_bytes(code.as_bytes()) == Code::OutOfRange);
    if out_of_range {
        // Fixed ASCII text always makes a valid header, so this cannot fail.
        let _ = Status::new(Code::ResourceExhausted, TOO_LARGE).add_header(headers);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::MAX_REQUEST_BYTES;

    #[test]
    fn out_of_range_becomes_resource_exhausted_and_nothing_else_changes() {
        let mut headers = HeaderMap::new();
        Status::out_of_range("Error, decoded message length too large")
            .add_header(&mut headers)
            .unwrap();
        relabel(&mut headers);
        let status = Status::from_header_map(&headers).unwrap();
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), TOO_LARGE);

        let mut headers = HeaderMap::new();
        Status::unauthenticated("invalid_client: client authentication failed")
            .add_header(&mut headers)
            .unwrap();
        let before = headers.clone();
        relabel(&mut headers);
        assert_eq!(headers, before);
        relabel(&mut HeaderMap::new());
    }

    #[test]
    fn the_message_states_the_limit() {
        assert_eq!(MAX_REQUEST_BYTES, 16 * 1024);
        assert!(TOO_LARGE.contains("16 KiB"));
    }
}
