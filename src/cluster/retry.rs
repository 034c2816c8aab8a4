//! One retry loop for every request: 429 and 5xx answers and transport errors (connection refused or
//! reset, timeouts of the connection) are retried with exponential backoff; other 4xx answers never are.
//! A server's Retry-After (`details.retryAfterSeconds`) is honoured up to [`MAX_SERVER_DELAY`].
//! kube's own retry layer is turned off (`Config::default_retry = false`) so nothing retries twice.

use super::connect::Target;
use super::error::ClusterError;
use std::future::Future;
use std::time::Duration;

/// Attempts per request, the first included.
pub const ATTEMPTS: u32 = 5;
/// First backoff delay; doubled per attempt.
const BASE_DELAY: Duration = Duration::from_millis(200);
/// Upper bound for any delay, including one the server asks for.
pub const MAX_SERVER_DELAY: Duration = Duration::from_secs(10);

/// Whether an error is worth another attempt, and how long the server asked us to wait.
fn retryable(err: &kube::Error) -> Option<Option<Duration>> {
    match err {
        kube::Error::Api(s) => match s.code {
            429 | 500 | 502 | 503 | 504 => Some(
                s.details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|s| *s > 0)
                    .map(|s| Duration::from_secs(u64::from(s))),
            ),
            _ => None,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => Some(None),
        _ => None,
    }
}

/// Runs `op` until it succeeds, fails with an error that is not retryable, or runs out of attempts.
/// `verb` and `what` name the operation in errors and retry notes (`apply`, `task.tekton.dev/x`).
pub async fn with_retry<T, F, Fut>(
    target: &Target,
    verb: &str,
    what: &str,
    mut op: F,
) -> Result<T, ClusterError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut attempt = 1;
    loop {
        let result = match tokio::time::timeout(target.request_timeout, op()).await {
            Ok(r) => r,
            Err(_) => {
                return Err(ClusterError::Timeout {
                    verb: verb.to_string(),
                    what: what.to_string(),
                    secs: target.request_timeout.as_secs(),
                });
            }
        };
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let Some(server_delay) = retryable(&err) else {
            return Err(ClusterError::from_kube(&err, verb, what, &target.server));
        };
        if attempt >= ATTEMPTS {
            return Err(ClusterError::from_kube(&err, verb, what, &target.server));
        }
        let delay = server_delay
            .unwrap_or(BASE_DELAY * 2u32.pow(attempt - 1))
            .min(MAX_SERVER_DELAY);
        let why = match &err {
            kube::Error::Api(s) => format!("{} {}", s.code, s.reason),
            other => ClusterError::from_kube(other, verb, what, &target.server).to_string(),
        };
        eprintln!(
            "note: {verb} {what}: {} — retrying in {:.1}s (attempt {}/{ATTEMPTS})",
            why.lines().next().unwrap_or_default(),
            delay.as_secs_f64(),
            attempt + 1
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use kube::core::response::StatusDetails;

    fn api(code: u16, retry_after: u32) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            details: Some(StatusDetails {
                name: String::new(),
                group: String::new(),
                kind: String::new(),
                uid: String::new(),
                causes: vec![],
                retry_after_seconds: retry_after,
            }),
            ..Status::failure("x", "y")
        }))
    }

    #[test]
    fn classification() {
        assert_eq!(retryable(&api(429, 3)), Some(Some(Duration::from_secs(3))));
        assert_eq!(retryable(&api(500, 0)), Some(None));
        assert_eq!(retryable(&api(503, 0)), Some(None));
        for code in [400, 401, 403, 404, 409, 415, 422] {
            assert_eq!(retryable(&api(code, 0)), None, "{code}");
        }
    }
}
