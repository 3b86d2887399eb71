//! The options inside `#[parkway::main(...)]` and `#[parkway::test(...)]`.
//!
//! The grammar is a comma-separated list of `name = value` pairs (a trailing
//! comma is fine). Every option maps to one `parkway::Builder` call; an
//! option left out leaves the builder's default in place.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use crate::errors::Errors;

/// The option names, in the order the error messages list them.
const OPTION_NAMES: &str = "`worker_threads`, `go_check`, `thread_name` and `crate`";

/// The runtime configuration an attribute asked for.
#[derive(Default)]
pub(crate) struct RuntimeOptions {
    /// `worker_threads = N`: the number of go workers, at least 1.
    worker_threads: Option<(usize, Span)>,
    /// `go_check = "off" | "warn" | "strict"`.
    go_check: Option<(GoCheckMode, Span)>,
    /// `thread_name = "..."`.
    thread_name: Option<LitStr>,
    /// `crate = "path"`: where the `parkway` crate is; `::parkway` if unset.
    crate_path: Option<Path>,
}

/// A `go_check` value, spelled as `parkway::GoCheck`'s variants.
#[derive(Clone, Copy)]
enum GoCheckMode {
    Off,
    Warn,
    Strict,
}

impl GoCheckMode {
    /// Read as `GoCheck`'s `FromStr` and `PARKWAY_GO_CHECK` read it:
    /// ignoring case and surrounding spaces.
    fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "off" => Some(Self::Off),
            "warn" => Some(Self::Warn),
            "strict" => Some(Self::Strict),
            _ => None,
        }
    }

    fn variant(self) -> Ident {
        let name = match self {
            Self::Off => "Off",
            Self::Warn => "Warn",
            Self::Strict => "Strict",
        };
        Ident::new(name, Span::call_site())
    }
}

impl RuntimeOptions {
    /// Parses the attribute's arguments.
    ///
    /// Every bad option is reported, each at its own span, and the options
    /// that were fine are kept, so that the expansion next to the errors is
    /// still the one the user meant (with the right `crate` path). A syntax
    /// error stops the parse at the first problem and keeps nothing.
    pub(crate) fn parse(args: TokenStream) -> (Self, syn::Result<()>) {
        let parser = |input: ParseStream<'_>| {
            let mut options = Self::default();
            let mut errors = Errors::default();
            while !input.is_empty() {
                // `Ident::peek_any`/`parse_any` also accept the keyword `crate`.
                if !input.peek(Ident::peek_any) {
                    return Err(input.error(
                        "expected an option name: `worker_threads`, `go_check`, \
                         `thread_name` or `crate`",
                    ));
                }
                let name = input.call(Ident::parse_any)?;
                if !input.peek(Token![=]) {
                    return Err(missing_value(&name));
                }
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                if let Err(e) = options.set(&name, value) {
                    errors.push(e);
                }
                if input.is_empty() {
                    break;
                }
                input.parse::<Token![,]>()?;
            }
            Ok((options, errors.finish()))
        };
        parser
            .parse2(args)
            .unwrap_or_else(|syntax| (Self::default(), Err(syntax)))
    }

    /// The path of the `parkway` crate in the expansion.
    pub(crate) fn crate_path(&self) -> TokenStream {
        self.crate_path
            .as_ref()
            .map_or_else(|| quote!(::parkway), |path| quote!(#path))
    }

    /// `<crate>::Runtime::builder()` followed by one call per option given.
    pub(crate) fn builder(&self) -> TokenStream {
        let krate = self.crate_path();
        let mut builder = quote!(#krate::Runtime::builder());
        if let Some((n, span)) = self.worker_threads {
            let mut n = Literal::usize_unsuffixed(n);
            n.set_span(span);
            builder.extend(quote_spanned!(span=> .worker_threads(#n)));
        }
        if let Some((mode, span)) = self.go_check {
            let variant = mode.variant();
            builder.extend(quote_spanned!(span=> .go_check(#krate::GoCheck::#variant)));
        }
        if let Some(name) = &self.thread_name {
            builder.extend(quote_spanned!(name.span()=> .thread_name(#name)));
        }
        builder
    }

    fn set(&mut self, name: &Ident, value: Expr) -> syn::Result<()> {
        let key = name.unraw().to_string();
        let duplicate = match key.as_str() {
            "worker_threads" => self.worker_threads.is_some(),
            "go_check" => self.go_check.is_some(),
            "thread_name" => self.thread_name.is_some(),
            "crate" => self.crate_path.is_some(),
            "flavor" => {
                return Err(syn::Error::new(
                    name.span(),
                    "unknown option `flavor`: parkway has a single runtime flavor, a pool of \
                     go workers; `worker_threads = 1` gives one worker",
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    name.span(),
                    format!("unknown option `{key}`; the valid options are {OPTION_NAMES}"),
                ));
            }
        };
        if duplicate {
            return Err(syn::Error::new(
                name.span(),
                format!("duplicate option `{key}`"),
            ));
        }
        let value = strip_groups(value);
        match key.as_str() {
            "worker_threads" => self.worker_threads = Some(worker_threads(value)?),
            "go_check" => self.go_check = Some(go_check(value)?),
            "thread_name" => {
                self.thread_name = Some(string_literal(
                    value,
                    "`thread_name` must be a string literal, as in `thread_name = \"app\"`",
                )?);
            }
            _ => self.crate_path = Some(crate_path(value)?),
        }
        Ok(())
    }
}

/// The error for `name` with no `= value` after it.
fn missing_value(name: &Ident) -> syn::Error {
    let example = match name.unraw().to_string().as_str() {
        "worker_threads" => "`worker_threads = 4`",
        "go_check" => "`go_check = \"strict\"`",
        "thread_name" => "`thread_name = \"app\"`",
        "crate" => "`crate = \"::parkway\"`",
        other => {
            return syn::Error::new(
                name.span(),
                format!("unknown option `{other}`; the valid options are {OPTION_NAMES}"),
            );
        }
    };
    syn::Error::new(
        name.span(),
        format!("`{name}` needs a value, as in {example}"),
    )
}

/// `$value:expr` from a `macro_rules!` arrives wrapped in an invisible group.
fn strip_groups(mut value: Expr) -> Expr {
    while let Expr::Group(group) = value {
        value = *group.expr;
    }
    value
}

fn worker_threads(value: Expr) -> syn::Result<(usize, Span)> {
    const NOT_A_COUNT: &str =
        "`worker_threads` must be a positive integer literal, as in `worker_threads = 4`";
    let Expr::Lit(ExprLit {
        lit: Lit::Int(lit), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(value, NOT_A_COUNT));
    };
    if !matches!(lit.suffix(), "" | "usize") {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`worker_threads` is a `usize`; write `{}` without the `{}` suffix",
                lit.base10_digits(),
                lit.suffix()
            ),
        ));
    }
    let n: usize = lit
        .base10_parse()
        .map_err(|_| syn::Error::new(lit.span(), "`worker_threads` does not fit in a `usize`"))?;
    if n == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "`worker_threads` must be at least 1",
        ));
    }
    Ok((n, lit.span()))
}

fn go_check(value: Expr) -> syn::Result<(GoCheckMode, Span)> {
    const EXPECTED: &str = "\"off\", \"warn\" or \"strict\"";
    let lit = string_literal(
        value,
        &format!("`go_check` must be a string literal: {EXPECTED}"),
    )?;
    match GoCheckMode::from_name(&lit.value()) {
        Some(mode) => Ok((mode, lit.span())),
        None => Err(syn::Error::new(
            lit.span(),
            format!(
                "unknown go_check mode {:?}; expected {EXPECTED}",
                lit.value()
            ),
        )),
    }
}

fn crate_path(value: Expr) -> syn::Result<Path> {
    const EXPECTED: &str =
        "`crate` must be a string literal holding a path, as in `crate = \"::parkway\"`";
    let lit = string_literal(value, EXPECTED)?;
    // The parsed path's tokens carry the literal's span.
    lit.parse::<Path>()
        .map_err(|_| syn::Error::new(lit.span(), EXPECTED))
}

fn string_literal(value: Expr, message: &str) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(other, message)),
    }
}
