//! SARIF output validates against the OASIS SARIF 2.1.0 JSON Schema, with
//! the `jsonschema` package of the Python environment `scripts/moto-venv`
//! makes (`.ci/test` runs it).

use crate::sample::{Sample, python, schemas};
use std::path::Path;

/// The schema errors of the document in `file`, one per line.
fn validate(file: &Path) -> String {
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        doc = json.load(open(sys.argv[2]))\n\
        v = jsonschema.Draft4Validator(schema)\n\
        for e in v.iter_errors(doc): print(e.message, list(e.absolute_path))\n";
    let schema = schemas().join("sarif-schema-2.1.0.json");
    let output = python(&[
        "-c".as_ref(),
        script.as_ref(),
        schema.as_os_str(),
        file.as_os_str(),
    ]);
    String::from_utf8_lossy(&output).into_owned()
}

#[test]
fn sarif_output_validates_against_the_2_1_0_schema() {
    let sample = Sample::new();
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("results.sarif");
    let mut out = Vec::new();
    parapet_report::sarif::write(&sample.report(), &mut out).expect("write");
    std::fs::write(&file, &out).expect("write file");
    let errors = validate(&file);
    assert!(errors.is_empty(), "{errors}");
    let sarif: serde_json::Value = serde_json::from_slice(&out).expect("JSON");
    let provenance = &sarif["runs"][0]["properties"]["provenance"][0];
    assert_eq!(provenance["collector"], "parapet-aws 0.1.0");
    assert_eq!(provenance["rules"], "sha256:abc");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.len() >= sample.rules.len() / 2,
        "fail, unknown and error results are written"
    );

    // The check does reject a broken document.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    std::fs::write(&file, serde_json::to_vec(&broken).expect("JSON")).expect("write file");
    assert!(validate(&file).contains("fatal"));
}
