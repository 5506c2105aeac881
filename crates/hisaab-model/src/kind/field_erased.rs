//! `field.erased` (format 2): the authority erases sealed fields of an entry that should never
//! have been written (SPEC §12.9). The body is public: which fields of which entry, and why;
//! the ledger deletes those fields' openings in the same storage transaction as it records the
//! statement, and the full replay shows them as erased from then on. The commitments stay, so
//! the chain, every signature and the public replay are unaffected.

use std::collections::BTreeSet;

use hisaab_log::{Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, Role, Text};

/// `field.erased`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `field.erased` (SPEC §12.9). Generated from \
    hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct FieldErasedBody {
    /// The event hash of the entry whose fields are erased.
    #[schemars(schema_with = "schema::hash")]
    pub entry: Hash,
    /// The sealed fields erased (SPEC §12.1), at least one, each once; never a field the
    /// state is computed from (`blinding`, `value`, `verdict`, `score`, `outcome`).
    #[schemars(length(min = 1))]
    pub fields: Vec<String>,
    /// Why they should never have been written.
    pub reason: Text,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for FieldErasedBody {
    const KIND: Kind = Kind::FieldErased;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        if self.fields.is_empty() {
            return Err("fields must name at least one sealed field".into());
        }
        let mut seen = BTreeSet::new();
        for field in &self.fields {
            let shown = field.chars().take(64).collect::<String>();
            let sealed = hisaab_log::seal::SEALED_FIELDS
                .iter()
                .any(|(_, fields)| fields.iter().any(|f| f.name == field.as_str()));
            if !sealed {
                return Err(format!(
                    "`{shown}` is no sealed field of any kind (SPEC §12.1)"
                ));
            }
            if hisaab_log::seal::is_state_field(field) {
                return Err(format!(
                    "`{shown}` is never erased: the state is computed from it (SPEC §12.9)"
                ));
            }
            if !seen.insert(field.as_str()) {
                return Err(format!("field `{shown}` is named twice"));
            }
        }
        Ok(())
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        _entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        let Some(named) = ledger.erasable.get(&self.entry) else {
            return fail(format!(
                "no entry with event hash {} holds an erasable field (SPEC §12.9)",
                self.entry
            ));
        };
        let erased = ledger.erased.get(&self.entry);
        for field in &self.fields {
            if !hisaab_log::seal::is_erasable(named.kind.as_str(), field) {
                return fail(format!(
                    "`{field}` is no erasable sealed field of {} (seq {}) (SPEC §12.9)",
                    named.kind, named.seq
                ));
            }
            if let Some(at) = erased.and_then(|e| e.fields.get(field.as_str())) {
                return fail(format!(
                    "`{field}` of seq {} was already erased at seq {at}",
                    named.seq
                ));
            }
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let erased = ledger.erased.entry(self.entry).or_default();
        for field in self.fields {
            erased.fields.insert(field, seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn body(fields: Value) -> FieldErasedBody {
        serde_json::from_value(
            json!({"entry": Hash::sha256(b"e"), "fields": fields, "reason": "A name"}),
        )
        .unwrap()
    }

    #[test]
    fn an_erasure_names_erasable_sealed_fields_once_each() {
        assert_eq!(body(json!(["note", "evidence"])).check_form(), Ok(()));
        for (fields, words) in [
            (json!([]), "at least one"),
            (json!(["period"]), "`period` is no sealed field"),
            (json!(["value"]), "`value` is never erased"),
            (json!(["blinding"]), "`blinding` is never erased"),
            (json!(["outcome"]), "`outcome` is never erased"),
            (json!(["note", "note"]), "field `note` is named twice"),
        ] {
            let error = body(fields).check_form().unwrap_err();
            assert!(error.contains(words), "{error}");
        }
    }
}
