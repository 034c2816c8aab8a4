//! Where the fake controller sends the output of the step containers it "runs".
//!
//! The controller calls a [`LogSink`] in a fixed order for every container of every pod it creates:
//! `container_waiting` (pod created, or an image cannot be pulled) → `container_started` →
//! `push_line`… → `end`. Implementations: the [`FakeKubelet`](crate::FakeKubelet) (serves the lines
//! to a real kube-apiserver), [`FnLogSink`] (adapter for an in-process fake API server such as
//! `fakekube::FakeApi::push_log`/`end_log`), [`RecordingLogSink`] (for assertions), [`NullLogSink`]
//! and [`FanOutLogSink`].

use std::sync::{Arc, Mutex};

/// Receives container log output from the fake controller.
///
/// All methods are called from the controller's tasks; they must not block for long.
pub trait LogSink: Send + Sync {
    /// The container exists but has not started; `reason` is the kubelet's waiting reason
    /// (`PodInitializing`, `ImagePullBackOff`, …). Log requests for it should fail like a kubelet's.
    fn container_waiting(&self, namespace: &str, pod: &str, container: &str, reason: &str) {
        let _ = (namespace, pod, container, reason);
    }
    /// The container started: its log can be read and followed from now on.
    fn container_started(&self, namespace: &str, pod: &str, container: &str) {
        let _ = (namespace, pod, container);
    }
    /// One line of output, without the trailing newline.
    fn push_line(&self, namespace: &str, pod: &str, container: &str, line: &str);
    /// The container terminated (or was killed): followers reach the end of the stream.
    fn end(&self, namespace: &str, pod: &str, container: &str);
}

/// A sink that drops everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullLogSink;

impl LogSink for NullLogSink {
    fn push_line(&self, _: &str, _: &str, _: &str, _: &str) {}
    fn end(&self, _: &str, _: &str, _: &str) {}
}

type LineFn = dyn Fn(&str, &str, &str, &str) + Send + Sync;
type EndFn = dyn Fn(&str, &str, &str) + Send + Sync;

/// Adapter from two closures: `push(namespace, pod, container, line)` and
/// `end(namespace, pod, container)` — e.g. `FakeApi::push_log` and `FakeApi::end_log`.
pub struct FnLogSink {
    push: Box<LineFn>,
    end: Box<EndFn>,
}

impl FnLogSink {
    /// Builds the adapter.
    pub fn new(
        push: impl Fn(&str, &str, &str, &str) + Send + Sync + 'static,
        end: impl Fn(&str, &str, &str) + Send + Sync + 'static,
    ) -> Self {
        FnLogSink {
            push: Box::new(push),
            end: Box::new(end),
        }
    }
}

impl std::fmt::Debug for FnLogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnLogSink")
    }
}

impl LogSink for FnLogSink {
    fn push_line(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        (self.push)(namespace, pod, container, line)
    }
    fn end(&self, namespace: &str, pod: &str, container: &str) {
        (self.end)(namespace, pod, container)
    }
}

/// Sends every call to several sinks, in order.
#[derive(Default)]
pub struct FanOutLogSink(pub Vec<Arc<dyn LogSink>>);

impl LogSink for FanOutLogSink {
    fn container_waiting(&self, namespace: &str, pod: &str, container: &str, reason: &str) {
        for s in &self.0 {
            s.container_waiting(namespace, pod, container, reason);
        }
    }
    fn container_started(&self, namespace: &str, pod: &str, container: &str) {
        for s in &self.0 {
            s.container_started(namespace, pod, container);
        }
    }
    fn push_line(&self, namespace: &str, pod: &str, container: &str, line: &str) {
        for s in &self.0 {
            s.push_line(namespace, pod, container, line);
        }
    }
    fn end(&self, namespace: &str, pod: &str, container: &str) {
        for s in &self.0 {
            s.end(namespace, pod, container);
        }
    }
}

/// One call received by a [`RecordingLogSink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// [`LogSink::container_waiting`]: pod, container, reason.
    Waiting(String, String, String),
    /// [`LogSink::container_started`]: pod, container.
    Started(String, String),
    /// [`LogSink::push_line`]: pod, container, line.
    Line(String, String, String),
    /// [`LogSink::end`]: pod, container.
    End(String, String),
}

/// Records every call (namespaces are dropped: a controller serves one namespace).
#[derive(Debug, Default)]
pub struct RecordingLogSink {
    events: Mutex<Vec<LogEvent>>,
}

impl RecordingLogSink {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }
    /// Everything recorded so far, in call order.
    pub fn events(&self) -> Vec<LogEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
    /// The lines pushed for one container, in order.
    pub fn lines(&self, pod: &str, container: &str) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                LogEvent::Line(p, c, l) if p == pod && c == container => Some(l),
                _ => None,
            })
            .collect()
    }
    fn record(&self, event: LogEvent) {
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }
}

impl LogSink for RecordingLogSink {
    fn container_waiting(&self, _: &str, pod: &str, container: &str, reason: &str) {
        self.record(LogEvent::Waiting(
            pod.into(),
            container.into(),
            reason.into(),
        ));
    }
    fn container_started(&self, _: &str, pod: &str, container: &str) {
        self.record(LogEvent::Started(pod.into(), container.into()));
    }
    fn push_line(&self, _: &str, pod: &str, container: &str, line: &str) {
        self.record(LogEvent::Line(pod.into(), container.into(), line.into()));
    }
    fn end(&self, _: &str, pod: &str, container: &str) {
        self.record(LogEvent::End(pod.into(), container.into()));
    }
}
