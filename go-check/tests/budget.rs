//! The cooperative budget: spending, yielding, refilling, nesting.

use parkway_go_check::budget;

#[test]
fn without_a_budget_every_op_may_continue() {
    assert_eq!(budget::remaining(), None);
    for _ in 0..10_000 {
        assert!(budget::try_spend());
    }
    assert!(!budget::must_yield());
    budget::reset(5); // no active budget: nothing to refill
    assert_eq!(budget::remaining(), None);
}

#[test]
fn a_budget_of_n_allows_n_ops_then_asks_to_yield() {
    let _g = budget::enter(3);
    assert_eq!(budget::remaining(), Some(3));
    assert!(!budget::must_yield());
    for left in [2, 1, 0] {
        assert!(budget::try_spend());
        assert_eq!(budget::remaining(), Some(left));
    }
    assert!(budget::must_yield());
    assert!(!budget::try_spend());
    assert!(!budget::try_spend());
    assert_eq!(budget::remaining(), Some(0));
}

#[test]
fn reset_refills_the_active_budget() {
    let _g = budget::enter(1);
    assert!(budget::try_spend());
    assert!(!budget::try_spend());
    budget::reset(2);
    assert_eq!(budget::remaining(), Some(2));
    assert!(budget::try_spend());
    assert!(budget::try_spend());
    assert!(!budget::try_spend());
}

#[test]
fn a_zero_budget_must_yield_at_once() {
    let _g = budget::enter(0);
    assert!(budget::must_yield());
    assert!(!budget::try_spend());
}

#[test]
fn guards_nest_and_restore() {
    let outer = budget::enter(budget::DEFAULT);
    assert!(budget::try_spend());
    {
        let inner = budget::enter(1);
        assert!(budget::try_spend());
        assert!(budget::must_yield());
        assert!(format!("{inner:?}").contains("BudgetGuard"));
    }
    assert_eq!(budget::remaining(), Some(budget::DEFAULT - 1));
    drop(outer);
    assert_eq!(budget::remaining(), None);
    assert!(budget::try_spend());
}

#[test]
fn the_budget_is_per_thread() {
    let _g = budget::enter(0);
    let other = std::thread::spawn(|| (budget::remaining(), budget::try_spend()))
        .join()
        .unwrap();
    assert_eq!(other, (None, true));
    assert!(budget::must_yield());
}
