//! The JSON documents of the API, for the handlers and the OpenAPI description.
//!
//! Every document has one definition, and one schema generated from it by schemars: the API's
//! answers and requests are `hisaab-api`'s (re-exported here), the envelope, statement and entry
//! `hisaab-log`'s, the state and the obligations `hisaab-model`'s. `documents!` names each of
//! them once for the description: it declares, in [`doc`], the name a handler's
//! `#[utoipa::path]` refers to (`body = doc::Receipt`), and lists the type whose `JsonSchema`
//! becomes that component in [`crate::openapi::to_json`]. utoipa only lays out the paths; it
//! generates no schema of a document.

use std::borrow::Cow;

pub use hisaab_api::{
    ConsistencyProof, CosignatureAccepted, CosignatureRequest, EntryLine, Health, InclusionProof,
    Readiness, Receipt, SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine,
    CHECKPOINT_PATTERN, COSIGNATURE_LINE_BYTES_MAX, COSIGNATURE_LINE_PATTERN,
};
pub use hisaab_log::schema::{DATE_PATTERN, KEY_PATTERN, SIGNATURE_PATTERN, TIMESTAMP_PATTERN};

use schemars::gen::SchemaGenerator;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

/// The largest integer the API reads or writes: 2^53 - 1 (SPEC §1), in query strings and paths
/// as in JSON. A larger one is 400 `bad_query` or `bad_path`, as the description says.
pub const INTEGER_MAX: u64 = hisaab_log::jcs::INTEGER_MAX;

/// Declares the documents of the description: for each, a name in [`doc`] for the handlers'
/// `#[utoipa::path]` attributes and the type whose schemars schema it stands for. Adding a
/// document is one line here.
macro_rules! documents {
    ($($(#[$meta:meta])* $name:ident => $type:ty,)+) => {
        /// The names the handlers' `#[utoipa::path]` attributes give the documents: each is
        /// only a reference to the component that schemars generates from the type beside it in
        /// `documents!`; utoipa never sees a schema of its own for it.
        pub mod doc {
            $(
                $(#[$meta])*
                #[derive(Debug, Clone, Copy)]
                pub struct $name;

                impl utoipa::PartialSchema for $name {
                    fn schema() -> super::RefOr<super::Schema> {
                        super::placeholder()
                    }
                }

                impl utoipa::ToSchema for $name {
                    fn name() -> super::Cow<'static, str> {
                        super::Cow::Owned(<$type as schemars::JsonSchema>::schema_name())
                    }
                }
            )+
        }

        /// Generates every document of the description into `generator`'s definitions, under
        /// the names [`doc`]'s types give utoipa, with the types they refer to.
        pub(crate) fn documents(generator: &mut SchemaGenerator) {
            $(generator.subschema_for::<$type>();)+
        }
    };
}

documents! {
    /// `hisaab_api::Receipt`.
    Receipt => hisaab_api::Receipt,
    /// `hisaab_api::InclusionProof`.
    InclusionProof => hisaab_api::InclusionProof,
    /// `hisaab_api::ConsistencyProof`.
    ConsistencyProof => hisaab_api::ConsistencyProof,
    /// `hisaab_api::Health`.
    Health => hisaab_api::Health,
    /// `hisaab_api::Readiness`.
    Readiness => hisaab_api::Readiness,
    /// `hisaab_api::CosignatureRequest`.
    CosignatureRequest => hisaab_api::CosignatureRequest,
    /// `hisaab_api::CosignatureLine`.
    CosignatureLine => hisaab_api::CosignatureLine,
    /// `hisaab_api::CosignatureAccepted`.
    CosignatureAccepted => hisaab_api::CosignatureAccepted,
    /// `hisaab_api::ErrorBody`.
    ErrorBody => hisaab_api::ErrorBody,
    /// `hisaab_log::Envelope`.
    Envelope => hisaab_log::Envelope,
    /// `hisaab_log::Entry`.
    Entry => hisaab_log::Entry,
    /// `hisaab_api::EntryLine`.
    EntryLine => hisaab_api::EntryLine,
    /// `hisaab_api::WithheldLine`.
    WithheldLine => hisaab_api::WithheldLine,
    /// `hisaab_model::State`.
    State => hisaab_model::State,
    /// `hisaab_api::SessionChallenge`.
    SessionChallenge => hisaab_api::SessionChallenge,
    /// `hisaab_api::SessionRequest`.
    SessionRequest => hisaab_api::SessionRequest,
    /// `hisaab_api::SessionGranted`.
    SessionGranted => hisaab_api::SessionGranted,
    /// `hisaab_model::Obligations`.
    Obligations => hisaab_model::Obligations,
}

/// What utoipa puts under a document's name until [`crate::openapi::to_json`] replaces every
/// component with the generated ones (it refuses to build a description where a name has none).
fn placeholder() -> RefOr<Schema> {
    ObjectBuilder::new().into()
}

/// `schema_with` of a date parameter: [`DATE_PATTERN`].
pub(crate) fn date() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(DATE_PATTERN))
        .description(Some("A real calendar date, YYYY-MM-DD."))
}
