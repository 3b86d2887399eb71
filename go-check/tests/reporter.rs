//! The report hook: installing it, replacing it, and surviving a hook that
//! panics. One test, because the hook is process-global.

use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use parkway_go_check::{panic_message, report, set_reporter, Report, ReportKind};

static SEEN: Mutex<Vec<Report>> = Mutex::new(Vec::new());
static SECOND: AtomicUsize = AtomicUsize::new(0);

#[test]
fn the_hook_receives_reports_and_its_panics_are_contained() {
    // The default hook (stderr) must not panic.
    report(&Report::callback_panic("take", "before any hook".into()));

    set_reporter(|r| SEEN.lock().push(r.clone()));
    let boom = std::panic::catch_unwind(|| panic!("boom {}", 7)).unwrap_err();
    report(&Report::callback_panic("put", panic_message(&*boom)));
    let at = Location::caller();
    report(&Report::blocking_op("alt_blocking!", at));

    {
        let seen = SEEN.lock();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].kind, ReportKind::CallbackPanic);
        assert_eq!(seen[0].op, Some("put"));
        assert_eq!(seen[0].location, None);
        assert!(seen[0].message.contains("`put` callback panicked: boom 7"));
        assert!(seen[0].message.contains("fix:"));
        assert_eq!(seen[1].kind, ReportKind::BlockingOp);
        assert_eq!(seen[1].op, Some("alt_blocking!"));
        assert_eq!(seen[1].location, Some(at));
        assert!(seen[1].to_string().contains(&at.to_string()));
    }

    // Replacing the hook: reports go to the new one only.
    set_reporter(|_| {
        SECOND.fetch_add(1, Ordering::SeqCst);
    });
    report(&Report::callback_panic("take", "x".into()));
    assert_eq!(SECOND.load(Ordering::SeqCst), 1);
    assert_eq!(SEEN.lock().len(), 2);

    // A hook that panics: report() still returns normally.
    set_reporter(|r| panic!("the hook itself failed on: {r}"));
    report(&Report::callback_panic("take", "y".into()));
}

#[test]
fn panic_message_reads_str_and_string_payloads() {
    let s = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
    assert_eq!(panic_message(&*s), "static");
    let f = std::panic::catch_unwind(|| panic!("formatted {}", 1)).unwrap_err();
    assert_eq!(panic_message(&*f), "formatted 1");
    let other = std::panic::catch_unwind(|| std::panic::panic_any(5_u8)).unwrap_err();
    assert_eq!(panic_message(&*other), "<non-string panic payload>");
}
