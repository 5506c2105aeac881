//! Who reads a page. The server decides it from the request's credentials (SPEC §13: a
//! request signed with a member's key, or a session cookie) and puts it in the request's
//! extensions; every page handler takes a [`Reader`] and renders the view of the ledger that
//! reader may see ([`crate::View::for_reader`]), so the read policy of the API holds on every
//! page.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use hisaab_model::view::Reader as Class;
use hisaab_model::Role;

/// The reader of a page: their class (SPEC §13.1), the public when the request carried no
/// credentials or reached the app without the server's access layer; who signed in, when
/// someone did; and why a browser session ended, when its cookie no longer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// What the reader may see.
    pub class: Class,
    /// The member who signed in (a session or a signed request), if any.
    pub member: Option<SignedIn>,
    /// Why the browser's session ended (its cookie was sent and no longer holds): the page is
    /// the public view then, and says so.
    pub ended: Option<String>,
}

/// A member reading a page, as the server's access layer proved it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// Their member id.
    pub member: String,
    /// Their roles.
    pub roles: Vec<Role>,
    /// Whether they read through a browser session (which the page's "Sign out" ends), rather
    /// than a request signed with their key.
    pub session: bool,
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
        member: None,
        ended: None,
    };

    /// A reader of `class`, nobody signed in.
    pub fn new(class: Class) -> Reader {
        Reader {
            class,
            member: None,
            ended: None,
        }
    }

    /// A signed-in member reading as `class`.
    pub fn signed_in(class: Class, member: SignedIn) -> Reader {
        Reader {
            class,
            member: Some(member),
            ended: None,
        }
    }

    /// The public reader whose browser session ended, and why.
    pub fn session_ended(why: impl Into<String>) -> Reader {
        Reader {
            ended: Some(why.into()),
            ..Reader::PUBLIC
        }
    }

    /// What the reader sees, in words, for the page's header.
    pub fn label(&self) -> String {
        match &self.class {
            Class::Public => "Public view: values, verdicts and scores of operators are \
                              shown to their members and the task force"
                .to_owned(),
            Class::Operator(operator) => {
                format!("Reads everything about {operator}, the public view of the rest")
            }
            Class::Full => "Reads the task force's full view".to_owned(),
        }
    }
}

impl SignedIn {
    /// The roles as SPEC §4 writes them, comma separated.
    pub fn roles_text(&self) -> String {
        self.roles
            .iter()
            .map(|role| role.as_str())
            .collect::<Vec<_>>()
            .join(", ")
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
