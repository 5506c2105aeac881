//! The JSON Schema of a statement of this model: `hisaab-log`'s schema of a
//! [`Statement`], which knows no kinds, with what SPEC §2 and §4 add:
//! `kind` is one of [`Kind::ALL`], and `ledger` is present exactly when the kind is not
//! `ledger.genesis`. `schemas/statement.schema.json`, `envelope.schema.json` and
//! `entry.schema.json` are generated with it ([`root_schema_for`]).

use std::collections::BTreeSet;

use hisaab_log::statement::GENESIS_KIND;
use hisaab_log::Statement;
use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{ObjectValidation, RootSchema, Schema, SchemaObject, SubschemaValidation};
use schemars::JsonSchema;

use crate::kind::Kind;

/// The schema of a statement of this model (see the module's description).
pub fn statement(generator: &mut SchemaGenerator) -> Schema {
    let mut schema = Statement::json_schema(generator).into_object();
    if let Some(Schema::Object(kind)) = schema.object().properties.get_mut("kind") {
        kind.enum_values = Some(Kind::ALL.iter().map(|k| k.as_str().into()).collect());
    }
    let requires_ledger = || SchemaObject {
        object: Some(Box::new(ObjectValidation {
            required: BTreeSet::from(["ledger".to_owned()]),
            ..Default::default()
        })),
        ..Default::default()
    };
    let genesis = SchemaObject {
        object: Some(Box::new(ObjectValidation {
            properties: [(
                "kind".to_owned(),
                Schema::Object(SchemaObject {
                    const_value: Some(GENESIS_KIND.into()),
                    ..Default::default()
                }),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        })),
        ..Default::default()
    };
    let subschemas = schema.subschemas.get_or_insert_with(Default::default);
    **subschemas = SubschemaValidation {
        if_schema: Some(Box::new(genesis.into())),
        then_schema: Some(Box::new(
            SchemaObject {
                subschemas: Some(Box::new(SubschemaValidation {
                    not: Some(Box::new(requires_ledger().into())),
                    ..Default::default()
                })),
                ..Default::default()
            }
            .into(),
        )),
        else_schema: Some(Box::new(requires_ledger().into())),
        ..Default::default()
    };
    schema.into()
}

/// The draft-07 schema of `T` in which every statement is this model's ([`statement`]): of
/// the statement itself, or of a document holding one (an envelope, an entry).
pub fn root_schema_for<T: JsonSchema>() -> RootSchema {
    let mut generator = SchemaSettings::draft07().into_generator();
    let model_statement = statement(&mut generator);
    let name = Statement::schema_name();
    generator
        .definitions_mut()
        .insert(name.clone(), model_statement.clone());
    let mut root = generator.into_root_schema_for::<T>();
    if T::schema_name() == name {
        root.schema = model_statement.into_object();
        root.schema.metadata().title = Some(name.clone());
        root.definitions.remove(&name);
    }
    root
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_statement_names_every_kind_and_the_genesis_rule() {
        let root = serde_json::to_value(root_schema_for::<hisaab_log::Envelope>()).unwrap();
        let statement = &root["definitions"]["Statement"];
        let kinds = statement["properties"]["kind"]["enum"].as_array().unwrap();
        assert_eq!(kinds.len(), Kind::ALL.len());
        assert_eq!(statement["if"]["properties"]["kind"]["const"], GENESIS_KIND);
        assert_eq!(statement["else"]["required"][0], "ledger");
        let alone = serde_json::to_value(root_schema_for::<Statement>()).unwrap();
        assert_eq!(alone["properties"], statement["properties"]);
        assert!(alone["definitions"].get("Statement").is_none());
    }
}
