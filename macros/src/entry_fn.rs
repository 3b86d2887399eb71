//! The function an attribute is placed on, and the checks on its signature.
//!
//! Only the signature is parsed. The body stays an unparsed token stream,
//! so it keeps every span as written (errors in it point at user code) and a
//! body that does not parse is reported by rustc, not by this crate.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::token::Brace;
use syn::{braced, Attribute, Signature, Visibility};

use crate::errors::Errors;

/// Which attribute is being expanded.
#[derive(Clone, Copy)]
pub(crate) enum EntryKind {
    /// `#[parkway::main]`.
    Main,
    /// `#[parkway::test]`.
    Test,
}

impl EntryKind {
    /// The attribute as users write it, for error messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Self::Main => "#[parkway::main]",
            Self::Test => "#[parkway::test]",
        }
    }
}

/// `#[attrs] vis async fn name() -> R { #![inner attrs] body }`.
pub(crate) struct EntryFn {
    /// Outer attributes (`#[should_panic]`, doc comments, lint levels …).
    pub(crate) outer_attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) brace: Brace,
    /// Inner attributes at the top of the body (`#![allow(..)]`).
    pub(crate) inner_attrs: Vec<Attribute>,
    /// The statements of the body, unparsed.
    pub(crate) body: TokenStream,
}

impl Parse for EntryFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let body = content.parse()?;
        Ok(Self {
            outer_attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            body,
        })
    }
}

/// How far the signature is from what the attribute accepts.
pub(crate) enum SignatureCheck {
    /// Nothing wrong.
    Fine,
    /// Wrong, but the body can still be expanded as usual: the error is
    /// reported next to a normal expansion (missing `async`, a second test
    /// attribute).
    Recoverable(syn::Error),
    /// The function's shape cannot be kept (parameters, generics): the error
    /// is reported next to a stub with the right shape, so that it is the
    /// only error.
    Fatal(syn::Error),
}

impl EntryFn {
    /// Checks the signature against what `kind` accepts.
    pub(crate) fn check(&self, kind: EntryKind) -> SignatureCheck {
        let attribute = kind.attribute();
        let sig = &self.sig;

        let mut fatal = Errors::default();
        if !sig.inputs.is_empty() || sig.variadic.is_some() {
            let message = match kind {
                EntryKind::Main => format!("{attribute} functions cannot take parameters"),
                EntryKind::Test => {
                    format!("{attribute} functions cannot take parameters, as with #[test]")
                }
            };
            fatal.push(syn::Error::new_spanned(&sig.inputs, message));
        }
        if !sig.generics.params.is_empty() {
            fatal.push(syn::Error::new_spanned(
                &sig.generics,
                format!("{attribute} functions cannot be generic"),
            ));
        } else if let Some(where_clause) = &sig.generics.where_clause {
            fatal.push(syn::Error::new_spanned(
                where_clause,
                format!("{attribute} functions cannot have a `where` clause"),
            ));
        }
        if let Err(e) = fatal.finish() {
            return SignatureCheck::Fatal(e);
        }

        let mut recoverable = Errors::default();
        if sig.asyncness.is_none() {
            recoverable.push(syn::Error::new_spanned(
                sig.fn_token,
                "the `async` keyword is missing from the function declaration",
            ));
        }
        if let EntryKind::Test = kind {
            if let Some(attr) = self.outer_attrs.iter().find(|a| is_test_attribute(a)) {
                recoverable.push(syn::Error::new_spanned(
                    attr,
                    "second test attribute: #[parkway::test] already marks the function \
                     as a test; remove this one",
                ));
            }
        }
        match recoverable.finish() {
            Ok(()) => SignatureCheck::Fine,
            Err(e) => SignatureCheck::Recoverable(e),
        }
    }

    /// The outer attributes to put on the expansion. Under
    /// `#[parkway::test]`, a second test attribute has been reported by
    /// [`check`](Self::check) and is left out, so that it is the only error.
    pub(crate) fn kept_attrs(&self, kind: EntryKind) -> impl Iterator<Item = &Attribute> {
        self.outer_attrs
            .iter()
            .filter(move |attr| matches!(kind, EntryKind::Main) || !is_test_attribute(attr))
    }
}

/// `#[test]`, `#[core::prelude::v1::test]`, `#[tokio::test]`, … : any
/// attribute whose path ends in `test`.
fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "test")
}
