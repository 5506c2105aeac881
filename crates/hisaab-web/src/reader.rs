//! Who reads a page. The server decides it from the request's credentials (SPEC §13: a
//! request signed with a member's key, or a session cookie) and puts it in the request's
//! extensions; every page handler takes a [`Reader`] and renders the view of the ledger that
//! reader may see ([`crate::View::for_reader`]), so the read policy of the API holds on every
//! page.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hisaab_model::view::Reader as Class;

/// The reader of a page: their class (SPEC §13.1), the public when the request carried no
/// credentials or reached the app without the server's access layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// What the reader may see.
    pub class: Class,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::PUBLIC
    }
}

impl Reader {
    /// The public reader.
    pub const PUBLIC: Reader = Reader {
        class: Class::Public,
    };

    /// A reader of `class`.
    pub fn new(class: Class) -> Reader {
        Reader { class }
    }

    /// Who this is, in words, for the page's header.
    pub fn label(&self) -> String {
        match &self.class {
            Class::Public => "Public view: values, verdicts and scores of operators are \
                              shown to their members and the task force"
                .to_owned(),
            Class::Operator(operator) => format!("Signed in for {operator}"),
            Class::Full => "Signed in: the task force's full view".to_owned(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Reader {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Reader>()
            .cloned()
            .unwrap_or_default())
    }
}
