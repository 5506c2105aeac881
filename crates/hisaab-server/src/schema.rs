//! The JSON documents of the API, for the handlers and the OpenAPI description.
//!
//! Every document has one definition, and one schema generated from it by schemars: the API's
//! answers and requests are `hisaab-api`'s (re-exported here), the envelope, statement and entry
//! `hisaab-log`'s, the state and the obligations `hisaab-model`'s. `documents!` names each of
//! them once for the description: it declares, in [`doc`], the name a handler's
//! `#[utoipa::path]` refers to (`body = doc::Receipt`), and lists the type whose `JsonSchema`
//! becomes that component in [`crate::openapi::to_json`]. The parameters are generated the
//! same way: the struct a query or a path is read into derives `JsonSchema`, and
//! `parameters_of!` gives it the `IntoParams` its handler's `params(...)` names, made by
//! `parameters` from that schema. utoipa only lays out the paths; it generates no schema of a
//! document or of a parameter.

use std::borrow::Cow;

pub use hisaab_api::{
    ConsistencyProof, CosignatureAccepted, CosignatureRequest, EntryLine, Health, InclusionProof,
    Readiness, Receipt, SessionChallenge, SessionGranted, SessionRequest, Withheld, WithheldLine,
    CHECKPOINT_PATTERN, COSIGNATURE_LINE_BYTES_MAX, COSIGNATURE_LINE_PATTERN,
};
pub use hisaab_log::schema::{DATE_PATTERN, KEY_PATTERN, SIGNATURE_PATTERN, TIMESTAMP_PATTERN};

use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::JsonSchema;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::{RefOr, Required};

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
    /// `hisaab_api::Submission`: an envelope, or a sealed statement with its sealing.
    Submission => hisaab_api::Submission,
    /// `hisaab_log::seal::Openings`: one entry's openings of sealed fields.
    Openings => hisaab_log::seal::Openings,
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

/// Declares the parameters of a request from the struct it is read into: its `IntoParams`, for
/// the handlers' `#[utoipa::path(params(...))]`, is [`parameters`] of its schemars schema, one
/// parameter per field, in `$location` (`Query` or `Path`).
macro_rules! parameters_of {
    ($($type:ty => $location:ident,)+) => {
        $(
            impl utoipa::IntoParams for $type {
                fn into_params(
                    _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
                ) -> Vec<utoipa::openapi::path::Parameter> {
                    $crate::schema::parameters::<$type>(
                        utoipa::openapi::path::ParameterIn::$location,
                    )
                }
            }
        )+
    };
}
pub(crate) use parameters_of;

/// The parameters `T` is read from, as schemars describes `T`: each property one parameter of
/// that name in `location`, required where schemars requires the property, described by the
/// property's doc comment, with the rest of the property's schema (type, bounds, pattern) as its
/// schema, converted into utoipa's document model through JSON. A property whose schema utoipa's
/// model cannot read gives a parameter without a schema, which [`crate::openapi::to_json`]
/// refuses.
pub(crate) fn parameters<T: JsonSchema>(location: ParameterIn) -> Vec<Parameter> {
    let root = parameter_generator().into_root_schema_for::<T>();
    let Some(object) = root.schema.object.as_deref() else {
        return Vec::new();
    };
    object
        .properties
        .iter()
        .map(|(name, property)| {
            let mut schema = serde_json::to_value(property).unwrap_or_default();
            let description = schema
                .as_object_mut()
                .and_then(|object| object.remove("description"))
                .and_then(|description| description.as_str().map(str::to_owned));
            let required = if object.required.contains(name) {
                Required::True
            } else {
                Required::False
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(location.clone())
                .required(required)
                .description(description)
                .schema(serde_json::from_value::<RefOr<Schema>>(schema).ok())
                .build()
        })
        .collect()
}

/// The schema of one value (a header's, say) as schemars writes it, inline.
///
/// # Errors
/// If it cannot be serialised (it always can).
pub(crate) fn value_schema<T: JsonSchema>() -> Result<serde_json::Value, serde_json::Error> {
    serde_json::to_value(parameter_generator().subschema_for::<T>())
}

/// The generator of the parameters' schemas: every schema inline (a parameter's schema refers to
/// no component), and an optional parameter is simply absent rather than `null`.
fn parameter_generator() -> SchemaGenerator {
    SchemaSettings::draft07()
        .with(|settings| {
            settings.option_add_null_type = false;
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator()
}
