//! The go-check mode of a runtime: how hard go-check enforces
//! "go blocks park, they never block".

use std::error::Error;
use std::fmt;
use std::io::Write as _;
use std::str::FromStr;
use std::sync::Once;

/// The environment variable that sets the default mode:
/// `off`, `warn` or `strict` (case-insensitive, surrounding spaces ignored).
pub const ENV_VAR: &str = "PARKWAY_GO_CHECK";

/// How a runtime enforces that go blocks never block.
///
/// The mode belongs to a runtime (its builder's `go_check`), and each go
/// worker carries its runtime's mode in its role (see
/// [`enter_go_worker`](crate::enter_go_worker)), so two runtimes in one
/// process do not interfere. This is parkway's counterpart of core.async's
/// `-Dclojure.core.async.go-checking=true`.
///
/// | mode | blocking op on a go worker | stall watchdog (runtime) |
/// |---|---|---|
/// | `Off` | allowed, unchecked | off |
/// | `Warn` | panics with the op and the fix | reports |
/// | `Strict` | panics with the op and the fix | reports and fails the task |
///
/// # Examples
///
/// ```
/// use parkway_go_check::GoCheck;
///
/// let mode: GoCheck = " Strict ".parse().unwrap();
/// assert_eq!(mode, GoCheck::Strict);
/// assert_eq!(mode.to_string(), "strict");
/// assert!("loud".parse::<GoCheck>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoCheck {
    /// No checks: blocking ops on go workers are allowed and the stall
    /// watchdog does not run. The blocking-op check costs one thread-local
    /// read.
    Off,
    /// Blocking ops on go workers panic with a message naming the op and the
    /// fix; stalls are reported. The default in debug builds.
    Warn,
    /// As `Warn`, and a task that stalls its worker past the threshold is
    /// failed (its `JoinHandle` resolves to a stalled `JoinError`).
    Strict,
}

impl GoCheck {
    /// The mode a build uses when nothing else is said: `Warn` with
    /// `debug_assertions`, `Off` without.
    ///
    /// # Examples
    ///
    /// ```
    /// use parkway_go_check::GoCheck;
    ///
    /// let expected = if cfg!(debug_assertions) { GoCheck::Warn } else { GoCheck::Off };
    /// assert_eq!(GoCheck::build_default(), expected);
    /// ```
    pub const fn build_default() -> GoCheck {
        if cfg!(debug_assertions) {
            GoCheck::Warn
        } else {
            GoCheck::Off
        }
    }

    /// The mode named by `PARKWAY_GO_CHECK`, else [`build_default`].
    ///
    /// The value is trimmed and compared case-insensitively with `off`,
    /// `warn` and `strict`. An unset or empty variable gives the build
    /// default silently; any other value gives the build default and one
    /// warning on stderr per process, naming the bad value and the mode kept.
    ///
    /// [`build_default`]: GoCheck::build_default
    pub fn from_env() -> GoCheck {
        let Some(raw) = std::env::var_os(ENV_VAR) else {
            return GoCheck::build_default();
        };
        let value = raw.to_string_lossy();
        if value.trim().is_empty() {
            return GoCheck::build_default();
        }
        match value.parse() {
            Ok(mode) => mode,
            Err(err) => {
                let kept = GoCheck::build_default();
                warn_once(&err, kept);
                kept
            }
        }
    }

    /// The lower-case name of the mode, as `PARKWAY_GO_CHECK` spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            GoCheck::Off => "off",
            GoCheck::Warn => "warn",
            GoCheck::Strict => "strict",
        }
    }
}

/// Writes the bad-value warning the first time only.
fn warn_once(err: &ParseGoCheckError, kept: GoCheck) {
    static WARNED: Once = Once::new();
    WARNED.call_once(|| {
        // A closed stderr is no reason to fail: ignore write errors.
        let _ = writeln!(
            std::io::stderr(),
            "parkway: warning: {ENV_VAR}: {err}; keeping the default `{kept}`"
        );
    });
}

impl Default for GoCheck {
    /// Same as [`GoCheck::from_env`].
    fn default() -> GoCheck {
        GoCheck::from_env()
    }
}

impl fmt::Display for GoCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GoCheck {
    type Err = ParseGoCheckError;

    /// Parses `off`, `warn` or `strict`, trimmed and case-insensitive.
    fn from_str(s: &str) -> Result<GoCheck, ParseGoCheckError> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("off") {
            Ok(GoCheck::Off)
        } else if t.eq_ignore_ascii_case("warn") {
            Ok(GoCheck::Warn)
        } else if t.eq_ignore_ascii_case("strict") {
            Ok(GoCheck::Strict)
        } else {
            Err(ParseGoCheckError {
                value: s.to_owned(),
            })
        }
    }
}

/// The error of parsing a [`GoCheck`] from a string that is not `off`,
/// `warn` or `strict`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseGoCheckError {
    value: String,
}

impl ParseGoCheckError {
    /// The string that failed to parse, as given.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ParseGoCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown go-check mode {:?} (expected `off`, `warn` or `strict`)",
            self.value
        )
    }
}

impl Error for ParseGoCheckError {}
