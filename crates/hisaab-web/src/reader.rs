//! Who reads a page. Every page handler takes a [`Reader`], so the read policy (what each
//! role may see) is decided in one place: [`Reader`]'s extractor and [`Reader::may_see`].

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::View;

/// The reader of a page. Today every reader is shown what the API shows to anyone (the
/// whole state); a signed-in member would be `Member`, once the server authenticates
/// readers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reader {
    /// Anyone, without credentials: sees what the API shows.
    #[default]
    Public,
    /// A member, authenticated by the server.
    Member {
        /// The member's id.
        member: String,
    },
}

impl Reader {
    /// Who this is, in words, for the page's header.
    pub fn label(&self) -> String {
        match self {
            Reader::Public => "Public view".to_owned(),
            Reader::Member { member } => format!("Signed in as {member}"),
        }
    }

    /// Whether this reader may see `view` as it is. Every reader may today: the pages show
    /// no more than `GET /v1/state` and `GET /v1/entries` show anyone.
    pub fn may_see(&self, _view: &View) -> bool {
        true
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Reader::Public)
    }
}
