//! SARIF output validates against the OASIS SARIF 2.1.0 JSON Schema.

use crate::sample::{Sample, schemas};

#[test]
fn sarif_output_validates_against_the_2_1_0_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schemas().join("sarif-schema-2.1.0.json")).expect("read schema"),
    )
    .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("compile schema");
    let sample = Sample::new();
    let mut out = Vec::new();
    parapet_report::sarif::write(&sample.report(), &mut out).expect("write");
    let sarif: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.len() >= sample.rules.len() / 2,
        "fail, unknown and error results are written"
    );

    // The validator does reject a broken document.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));
}
