//! `GoCheck` parsing: the logic behind `PARKWAY_GO_CHECK`.

use parkway_go_check::GoCheck;

#[test]
fn parses_the_three_modes_case_insensitively_and_trimmed() {
    for (text, mode) in [
        ("off", GoCheck::Off),
        ("OFF", GoCheck::Off),
        ("warn", GoCheck::Warn),
        ("Warn", GoCheck::Warn),
        ("  warn\n", GoCheck::Warn),
        ("strict", GoCheck::Strict),
        ("\tSTRICT ", GoCheck::Strict),
        ("sTrIcT", GoCheck::Strict),
    ] {
        assert_eq!(text.parse::<GoCheck>(), Ok(mode), "parsing {text:?}");
    }
}

#[test]
fn rejects_anything_else_and_names_the_value() {
    for text in ["", " ", "on", "true", "1", "warning", "strict!", "o ff"] {
        let err = text.parse::<GoCheck>().unwrap_err();
        assert_eq!(err.value(), text);
        let shown = err.to_string();
        assert!(shown.contains(&format!("{text:?}")), "{shown}");
        assert!(shown.contains("`off`, `warn` or `strict`"), "{shown}");
        let _: &dyn std::error::Error = &err;
    }
}

#[test]
fn display_round_trips() {
    for mode in [GoCheck::Off, GoCheck::Warn, GoCheck::Strict] {
        assert_eq!(mode.to_string().parse::<GoCheck>(), Ok(mode));
        assert_eq!(mode.to_string(), mode.as_str());
    }
}

#[test]
fn build_default_follows_debug_assertions() {
    let expected = if cfg!(debug_assertions) {
        GoCheck::Warn
    } else {
        GoCheck::Off
    };
    assert_eq!(GoCheck::build_default(), expected);
    const AT_COMPILE_TIME: GoCheck = GoCheck::build_default();
    assert_eq!(AT_COMPILE_TIME, expected);
}
