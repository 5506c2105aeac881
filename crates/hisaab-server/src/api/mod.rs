//! The handlers of SPEC §7, one module per group of endpoints. Each handler is documented for
//! OpenAPI with `#[utoipa::path]` next to its code, so the description cannot drift from it.

pub(crate) mod log;
pub(crate) mod meta;
pub(crate) mod obligations;
pub(crate) mod session;
pub(crate) mod state;
pub(crate) mod statements;
pub(crate) mod witness;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

pub(crate) use crate::blocking::blocking;
use crate::error::ApiError;

/// `application/json`.
pub(crate) const JSON: &str = "application/json";
/// JSON Lines, as entries and bundles are served.
pub(crate) const JSON_LINES: &str = "application/x-ndjson";
/// Checkpoints.
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// An answer of `bytes` served exactly as they are, with `content_type`.
pub(crate) fn bytes_response(content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// Marks an answer that can never change (an entry, a proof between fixed sizes) as cacheable
/// for good.
pub(crate) fn immutable(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

/// Checks an integer query parameter against the bounds the description gives it: `minimum`
/// to 2^53 - 1 ([`crate::schema::INTEGER_MAX`]).
///
/// # Errors
/// 400 `bad_query`: the request breaks the description.
pub(crate) fn check_integer(what: &str, value: Option<u64>, minimum: u64) -> Result<(), ApiError> {
    match value {
        Some(value) if value < minimum || value > crate::schema::INTEGER_MAX => {
            Err(ApiError::bad_query(format!(
                "{what} must be an integer from {minimum} to {}, found {value}",
                crate::schema::INTEGER_MAX
            )))
        }
        _ => Ok(()),
    }
}

/// The tree size and clock of a projection asked for with `as_of`, `as_of_date` and `at`:
/// `as_of_date` D is the ledger as recorded up to the end of D, with D as the clock unless
/// `at` says otherwise (SPEC §11.5); with `as_of` N as well, the first N entries of that
/// (the smaller of the two sizes), so that every combination the description allows has one
/// meaning.
///
/// # Errors
/// 400 `bad_query` for an ill-formed size or date; 404 `tree_size_out_of_range` beyond the
/// ledger or before its first entry; 503 `ledger_empty`.
pub(crate) async fn projection_point(
    app: &crate::app::AppState,
    as_of: Option<u64>,
    as_of_date: Option<&str>,
    at: Option<&str>,
) -> Result<(u64, Option<hisaab_log::Date>), ApiError> {
    use crate::error::short;
    let date = |name: &str, text: &str| {
        hisaab_log::Date::try_parse(text).map_err(|_| {
            ApiError::bad_query(format!(
                "{name} must be a real date YYYY-MM-DD, found {:?}",
                short(text)
            ))
        })
    };
    let at = at.map(|text| date("at", text)).transpose()?;
    let as_of_date = as_of_date
        .map(|text| date("as_of_date", text))
        .transpose()?;
    check_integer("as_of", as_of, 1)?;
    let size = app.store.size();
    if size == 0 {
        return Err(ApiError::LedgerEmpty);
    }
    if let Some(as_of) = as_of {
        check_tree_size("as_of", as_of, size)?;
    }
    let Some(day) = as_of_date else {
        return Ok((as_of.unwrap_or(size), at));
    };
    let store = app.store.clone();
    let by_date = blocking(move || store.size_at_date(day).map_err(ApiError::from)).await?;
    if by_date == 0 {
        return Err(ApiError::TreeSizeOutOfRange {
            message: format!("nothing was recorded by the end of {day}"),
        });
    }
    let tree_size = as_of.map_or(by_date, |n| n.min(by_date));
    Ok((tree_size, Some(at.unwrap_or(day))))
}

/// Checks `tree_size <= size`, naming `what` in the error. A tree size of 0 is refused
/// earlier, by [`check_integer`], as the description says.
///
/// # Errors
/// 404 `tree_size_out_of_range`: the ledger has no tree of this size (yet).
pub(crate) fn check_tree_size(what: &str, tree_size: u64, size: u64) -> Result<(), ApiError> {
    if tree_size == 0 || tree_size > size {
        return Err(ApiError::TreeSizeOutOfRange {
            message: format!(
                "{what} {tree_size} is out of range: it must be from 1 to the ledger's current \
                 size, {size}"
            ),
        });
    }
    Ok(())
}
