//! The expansion of `#[parkway::main]` and `#[parkway::test]`.
//!
//! ```text
//! #[parkway::main(worker_threads = 2)]
//! async fn main() -> Result<(), Error> { BODY }
//! ```
//!
//! becomes
//!
//! ```text
//! fn main() -> Result<(), Error> {
//!     async fn body() -> Result<(), Error> { BODY }
//!     let runtime = ::parkway::Runtime::builder()
//!         .worker_threads(2)
//!         .build()
//!         .expect("parkway: failed to build the runtime");
//!     runtime.block_on(body())
//! }
//! ```
//!
//! `#[parkway::test]` is the same with `#[test]` in front. The body becomes
//! an inner `async fn` rather than an `async` block because an `async fn`'s
//! return type is known before its body is checked: `?` and `return
//! Err(Box::new(e))` convert to the declared error type, and a type mismatch
//! is reported at the offending expression. An `async` block infers its
//! output from its body, so the same code would fail to compile. The one
//! thing an inner function cannot see is the outer `Self`; when the body or
//! return type mentions `Self` (an attribute on an associated function) the
//! body becomes `async move { BODY }` instead.

use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, ToTokens};

use crate::entry_fn::{EntryFn, EntryKind, SignatureCheck};
use crate::errors::Errors;
use crate::options::RuntimeOptions;

/// Expands `item` under the attribute `kind` with arguments `args`.
///
/// Whatever goes wrong, the output keeps a function of the declared name,
/// so that a mistake in the attribute gives one error, not a cascade
/// (`main` not found, a test that is async, …).
pub(crate) fn entry(kind: EntryKind, args: TokenStream, item: TokenStream) -> TokenStream {
    let entry: EntryFn = match syn::parse2(item.clone()) {
        Ok(entry) => entry,
        Err(e) => {
            // Not a function: report and give the item back as it was.
            let message = format!("{e}; {} goes on an `async fn`", kind.attribute());
            let mut out = syn::Error::new(e.span(), message).to_compile_error();
            out.extend(item);
            return out;
        }
    };

    let mut errors = Errors::default();
    let (options, options_ok) = RuntimeOptions::parse(args);
    if let Err(e) = options_ok {
        errors.push(e);
    }
    let expanded = match entry.check(kind) {
        SignatureCheck::Fine => expand(kind, &entry, &options),
        SignatureCheck::Recoverable(e) => {
            errors.push(e);
            expand(kind, &entry, &options)
        }
        SignatureCheck::Fatal(e) => {
            errors.push(e);
            stub(kind, &entry)
        }
    };
    let mut out = match errors.finish() {
        Ok(()) => TokenStream::new(),
        Err(e) => e.to_compile_error(),
    };
    out.extend(expanded);
    out
}

/// The synchronous function that builds a runtime and runs the body on it.
fn expand(kind: EntryKind, entry: &EntryFn, options: &RuntimeOptions) -> TokenStream {
    let outer_attrs = entry.kept_attrs(kind);
    let EntryFn {
        vis,
        sig,
        brace,
        inner_attrs,
        body,
        ..
    } = entry;

    let mut outer_sig = sig.clone();
    outer_sig.asyncness = None;
    let output = &sig.output;
    let test_attr = test_attribute(kind);
    let builder = options.builder();

    // The body's braces keep their original spans.
    let mut block = TokenStream::new();
    brace.surround(&mut block, |tokens| tokens.extend(body.clone()));

    let mentions_self = mentions_self(output.to_token_stream()) || mentions_self(body.clone());
    let (define_body, body_future) = if mentions_self {
        (quote!(let body = async move #block;), quote!(body))
    } else {
        let define_body = quote! {
            #[allow(
                clippy::future_not_send,
                reason = "block_on runs the body on this thread; it need not be Send"
            )]
            async fn body() #output #block
        };
        (define_body, quote!(body()))
    };

    quote! {
        #test_attr
        #(#outer_attrs)*
        #vis #outer_sig {
            #(#inner_attrs)*
            #define_body
            #[allow(
                clippy::expect_used,
                reason = "a runtime that cannot start leaves nothing to run the body on"
            )]
            let runtime = #builder
                .build()
                .expect("parkway: failed to build the runtime");
            runtime.block_on(#body_future)
        }
    }
}

/// A function with the declared name, attributes and return type, no
/// parameters or generics and no body: what the user meant, minus what the
/// attribute cannot support, so that the attribute's error is the only one.
fn stub(kind: EntryKind, entry: &EntryFn) -> TokenStream {
    let outer_attrs = entry.kept_attrs(kind);
    let EntryFn {
        vis,
        sig,
        inner_attrs,
        ..
    } = entry;
    let mut stub_sig = sig.clone();
    stub_sig.asyncness = None;
    stub_sig.inputs.clear();
    stub_sig.variadic = None;
    stub_sig.generics = syn::Generics::default();
    let test_attr = test_attribute(kind);
    let message = format!("{} could not expand this function", kind.attribute());
    quote! {
        #test_attr
        #(#outer_attrs)*
        #vis #stub_sig {
            #(#inner_attrs)*
            ::core::unreachable!(#message)
        }
    }
}

/// `#[test]`, through a path that a user's own `test` cannot shadow.
fn test_attribute(kind: EntryKind) -> TokenStream {
    match kind {
        EntryKind::Main => TokenStream::new(),
        EntryKind::Test => quote!(#[::core::prelude::v1::test]),
    }
}

/// Whether `tokens` use `Self` anywhere (nested groups included).
fn mentions_self(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => ident == "Self",
        TokenTree::Group(group) => mentions_self(group.stream()),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}
