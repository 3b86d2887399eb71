//! With the `tracing` feature, a stall report is also a `tracing` event
//! (target `parkway::go_check`, level WARN) carrying the report's facts.
//!
//! Run: `cargo test -p parkway --features tracing --test watchdog_tracing`.
#![cfg(feature = "tracing")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use parkway::{GoCheck, Runtime};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// The fields of one event, as text.
#[derive(Debug, Default, Clone)]
struct Seen {
    /// `name=value` pairs.
    fields: Vec<(String, String)>,
}

impl Visit for Seen {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.fields
            .push((field.name().to_string(), format!("{value:?}")));
    }
}

/// A subscriber that keeps the go-check events.
struct Collect(Arc<Mutex<Vec<Seen>>>);

impl Subscriber for Collect {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target() == "parkway::go_check"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        assert_eq!(*e.metadata().level(), Level::WARN);
        let mut seen = Seen::default();
        e.record(&mut seen);
        self.0.lock().unwrap().push(seen);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn a_stall_is_a_tracing_event_with_its_facts() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Collect(Arc::clone(&events))).unwrap();
    let rt = Runtime::builder()
        .worker_threads(1)
        .go_check(GoCheck::Warn)
        .stall_threshold(Duration::from_millis(100))
        .on_go_check_report(|_| {}) // keep stderr quiet; events still flow
        .build()
        .unwrap();
    let h = parkway::task::Builder::new()
        .name("traced")
        .go_on(rt.handle(), async {
            std::thread::sleep(Duration::from_millis(500))
        });
    rt.block_on(h).unwrap();
    drop(rt);
    let events = events.lock().unwrap();
    assert_eq!(events.len(), 1, "{events:#?}");
    let field = |name: &str| {
        events[0]
            .fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no field {name}: {events:#?}"))
    };
    assert!(field("task").contains("traced"));
    assert!(field("location").contains("watchdog_tracing.rs"));
    assert_eq!(field("threshold_ms"), "100");
    assert!(field("message").contains("stuck in one poll"));
}
