//! `directive.issued` (format 2): the authority directs an operator to act by a date.

use hisaab_log::{Date, Hash, PublicKey, SealedEntry};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::body::{present, Ext, Signers};
use crate::cycle::DirectiveRecord;
use crate::kind::{Kind, KindRules};
use crate::ledger::{Ledger, Signer};
use crate::rule::{History, Rule, Violation};
use crate::value::{schema, KpiId, Role, Slug, Text};

/// `directive.issued`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    description = "The body of a statement of kind `directive.issued` (SPEC §11.8). Generated \
    from hisaab-model; run `HISAAB_BLESS=1 cargo test --test it schemas` to regenerate."
)]
pub struct DirectiveIssuedBody {
    /// The new directive's id (actions and directives share one namespace).
    pub directive: Slug,
    /// The operator directed.
    pub operator: Slug,
    /// By when, not before the date it is recorded.
    #[schemars(schema_with = "schema::date")]
    pub due: Date,
    /// What the operator is to do (sealed in format 2, SPEC §12.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Text")]
    pub text: Option<Text>,
    /// The stakeholders it names, 1 to 16 registered ids (SPEC §11.12).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Vec<Slug>", length(min = 1, max = 16))]
    pub stakeholders: Option<Vec<Slug>>,
    /// Signed, not interpreted.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Ext")]
    pub ext: Option<Ext>,
}

impl KindRules for DirectiveIssuedBody {
    const KIND: Kind = Kind::DirectiveIssued;
    const SIGNERS: Signers = Signers::Roles(&[Role::Authority]);
    const CONFLICT_OF_INTEREST: bool = true;
    const SINCE: u64 = 2;

    fn check_form(&self) -> Result<(), String> {
        crate::cycle::check_stakeholders_form(self.stakeholders.as_ref())
    }

    fn subject(&self) -> (Option<&Slug>, Option<&KpiId>) {
        (Some(&self.operator), None)
    }

    fn concerns<'a>(&'a self, _ledger: &'a Ledger) -> Option<(Option<&'a Slug>, &'static str)> {
        Some((Some(&self.operator), "a directive"))
    }

    fn check_references(
        &self,
        ledger: &Ledger,
        seq: u64,
        entry: &SealedEntry,
        _signer: &Signer<'_>,
        _history: &dyn History,
    ) -> Result<(), Violation> {
        let fail = |detail: String| Err(Violation::new(seq, Rule::Reference, detail));
        ledger.cycle.check_new_task(seq, &self.directive)?;
        ledger.check_operator_present(seq, &self.operator)?;
        ledger.check_stakeholders(seq, self.stakeholders.iter().flatten())?;
        let today = entry.entry().recorded_at.date();
        if self.due < today {
            return fail(format!(
                "due {} is before the directive is recorded ({today}); a directive gives a date \
                 still to come",
                self.due
            ));
        }
        Ok(())
    }

    fn commit(self, ledger: &mut Ledger, seq: u64, _hash: Hash, _signer: PublicKey) {
        let issued = ledger.today();
        ledger.cycle.directives.insert(
            self.directive,
            DirectiveRecord {
                seq,
                operator: self.operator,
                issued,
                due: self.due,
                closed: None,
                stakeholders: self.stakeholders.into_iter().flatten().collect(),
            },
        );
    }
}
