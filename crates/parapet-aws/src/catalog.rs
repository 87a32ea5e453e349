//! The resource types collected, as the provider interface describes them:
//! each type's documentation page (`docs/resources/aws/`, which `parapet
//! resources show` prints), the CloudTrail events that change it, what is
//! described again with it, and its part in the network. All of it is
//! declared beside each type's collector.

use crate::types::TypeDef;
use parapet_provider::{EventInfo, ResourceTypeInfo};

/// One type as the provider interface describes it.
fn info(def: &'static TypeDef, service: &'static str) -> ResourceTypeInfo {
    ResourceTypeInfo {
        name: def.name,
        service,
        page: def.page,
        events: crate::events::builtin()
            .events_of(def.name)
            .into_iter()
            .map(|(source, name, action)| EventInfo {
                source: source.to_owned(),
                name: name.to_owned(),
                action,
            })
            .collect(),
        dependents: def.dependents,
        network: def.network,
    }
}

/// Every collected type, in the order `parapet resources list` shows them.
pub fn catalog() -> Vec<ResourceTypeInfo> {
    crate::types::resource_types()
        .map(|(def, service)| info(def, service))
        .collect()
}

/// The documentation of one type, by its name (case-insensitive).
pub fn find(resource_type: &str) -> Option<ResourceTypeInfo> {
    crate::types::resource_types()
        .find(|(def, _)| def.name.eq_ignore_ascii_case(resource_type))
        .map(|(def, service)| info(def, service))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collected_type_has_a_page_with_fields_and_an_example() {
        let mut names = std::collections::BTreeSet::new();
        for doc in catalog() {
            assert!(names.insert(doc.name), "{} is registered twice", doc.name);
            assert!(!doc.page.is_empty(), "{} has no page", doc.name);
            assert!(
                doc.page.starts_with(&format!("# {}", doc.name)),
                "{}'s page has another title",
                doc.name
            );
            assert!(!doc.fields().is_empty(), "{} lists no fields", doc.name);
            assert!(!doc.summary().is_empty(), "{} has no summary", doc.name);
            let example = doc
                .page
                .split("```json")
                .nth(1)
                .and_then(|rest| rest.split("```").next())
                .unwrap_or_else(|| panic!("{} has no example", doc.name));
            let example: serde_json::Value = serde_json::from_str(example)
                .unwrap_or_else(|e| panic!("{}'s example: {e}", doc.name));
            for field in example.as_object().expect("an object").keys() {
                assert!(
                    doc.fields().contains(&field.as_str()),
                    "{}: the example's {field} is not in the table",
                    doc.name
                );
            }
        }
        let pages = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/resources/aws"
        ))
        .expect("the pages' folder")
        .count();
        assert_eq!(pages, catalog().len(), "a page for a type not collected");
    }
}
