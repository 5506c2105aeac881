//! The stylesheet and the script, embedded in the binary and served under names that carry a
//! hash of their content, so they can be cached for a year.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// One embedded file.
#[derive(Debug)]
pub(crate) struct Asset {
    /// `stem.HASH.ext`.
    pub(crate) name: String,
    /// Its bytes.
    pub(crate) body: &'static str,
    /// Its content type.
    pub(crate) content_type: &'static str,
}

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/verify.js");

fn named(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    let short = hex::encode(digest.get(..8).unwrap_or_default());
    Asset {
        name: format!("{stem}.{short}.{ext}"),
        body,
        content_type,
    }
}

/// The stylesheet and the script.
pub(crate) fn all() -> &'static [Asset; 2] {
    static ASSETS: OnceLock<[Asset; 2]> = OnceLock::new();
    ASSETS.get_or_init(|| {
        [
            named("app", "css", CSS, "text/css; charset=utf-8"),
            named("verify", "js", JS, "text/javascript; charset=utf-8"),
        ]
    })
}

/// The stylesheet's path.
pub(crate) fn css_path() -> String {
    format!("/app/assets/{}", all()[0].name)
}

/// The script's path.
pub(crate) fn js_path() -> String {
    format!("/app/assets/{}", all()[1].name)
}

/// The asset named `name`.
pub(crate) fn find(name: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.name == name)
}
