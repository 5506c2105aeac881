//! One module per subcommand.

pub(crate) mod demo;
pub(crate) mod disclose;
pub(crate) mod export;
pub(crate) mod history;
pub(crate) mod init;
pub(crate) mod keygen;
pub(crate) mod load;
pub(crate) mod obligations;
pub(crate) mod proof;
pub(crate) mod replay;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod submit;
pub(crate) mod verify;
pub(crate) mod witness;
