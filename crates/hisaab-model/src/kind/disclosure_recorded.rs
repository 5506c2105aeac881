//! `disclosure.recorded` (format 2): a member who holds the openings records that they
//! disclosed chosen sealed fields of chosen entries to a third party (SPEC §12.7). The body is
//! public: who disclosed which fields of which entries to whom, and the SHA-256 of the
//! disclosure document; never a value.

use std::collections::BTreeSet;

use hisaab_log::{Hash, PublicKey};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::Ledger;
use crate::value::{schema, Role, Text};

/// The most entries one disclosure names.
pub const DISCLOSED_ENTRIES_MAX: usize = 256;

/// `disclosure.recorded`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `disclosure.recorded` (SPEC §12.7). \
    Generated from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to \
    regenerate."
)]
pub struct DisclosureRecordedBody {
    /// Who the disclosure is for (a court, an auditor), as the disclosure says.
    pub to: Text,
    /// The entries disclosed, each with the sealed fields disclosed.
    #[schemars(length(min = 1, max = "DISCLOSED_ENTRIES_MAX"))]
    pub entries: Vec<DisclosedEntry>,
    /// SHA-256 of the disclosure document's canonical JSON (JCS).
    #[schemars(schema_with = "schema::hash")]
    pub disclosure_sha256: Hash,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

/// One entry of a recorded disclosure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosedEntry {
    /// The entry's event hash.
    #[schemars(schema_with = "schema::hash")]
    pub entry: Hash,
    /// The sealed fields disclosed (SPEC §12.1), at least one, each once.
    #[schemars(length(min = 1))]
    pub fields: Vec<String>,
}

impl KindRules for DisclosureRecordedBody {
    const KIND: Kind = Kind::DisclosureRecorded;
    // The readers who hold every opening (SPEC §13.3's `full` class by role).
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority, Role::Chair]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        if self.entries.is_empty() || self.entries.len() > DISCLOSED_ENTRIES_MAX {
            return Err(format!(
                "entries must name 1 to {DISCLOSED_ENTRIES_MAX} entries, not {}",
                self.entries.len()
            ));
        }
        let mut seen = BTreeSet::new();
        for item in &self.entries {
            if !seen.insert(item.entry) {
                return Err(format!("entry {} is named twice", item.entry));
            }
            if item.fields.is_empty() {
                return Err(format!("entry {}: no field disclosed", item.entry));
            }
            let mut fields = BTreeSet::new();
            for field in &item.fields {
                let sealed = hisaab_log::seal::SEALED_FIELDS
                    .iter()
                    .any(|(_, fields)| fields.iter().any(|f| f.name == field.as_str()));
                if !sealed {
                    return Err(format!(
                        "entry {}: `{}` is no sealed field of any kind (SPEC §12.1)",
                        item.entry,
                        field.chars().take(64).collect::<String>()
                    ));
                }
                if !fields.insert(field.as_str()) {
                    return Err(format!(
                        "entry {}: field `{field}` is named twice",
                        item.entry
                    ));
                }
            }
        }
        Ok(())
    }

    fn commit(self, _ledger: &mut Ledger, _seq: u64, _hash: Hash, _signer: PublicKey) {}
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn body(entries: Value) -> DisclosureRecordedBody {
        serde_json::from_value(json!({"to": "A court", "entries": entries,
            "disclosure_sha256": Hash::sha256(b"d")}))
        .unwrap()
    }

    #[test]
    fn a_record_names_entries_once_each_with_sealed_fields_once_each() {
        let (a, b) = (Hash::sha256(b"a"), Hash::sha256(b"b"));
        let ok = body(json!([{"entry": a, "fields": ["value", "note"]},
            {"entry": b, "fields": ["verdict"]}]));
        assert_eq!(ok.check_form(), Ok(()));
        for (entries, words) in [
            (json!([]), "1 to 256 entries"),
            (
                json!([{"entry": a, "fields": ["value"]}, {"entry": a, "fields": ["note"]}]),
                "named twice",
            ),
            (json!([{"entry": a, "fields": []}]), "no field disclosed"),
            (
                json!([{"entry": a, "fields": ["period"]}]),
                "`period` is no sealed field",
            ),
            (
                json!([{"entry": a, "fields": ["value", "value"]}]),
                "field `value` is named twice",
            ),
        ] {
            let error = body(entries).check_form().unwrap_err();
            assert!(error.contains(words), "{error}");
        }
    }
}
