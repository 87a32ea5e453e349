use super::fixtures;
use parapet_rules::{RuleErrorKind, RuleSources, load};

fn broken() -> parapet_rules::LoadReport {
    load(&RuleSources {
        builtin: true,
        folders: vec![fixtures().join("broken"), fixtures().join("custom")],
    })
}

fn error_for(report: &parapet_rules::LoadReport, file: &str) -> String {
    report
        .errors
        .iter()
        .find(|e| e.path.ends_with(file))
        .unwrap_or_else(|| panic!("no error for {file}: {:?}", report.errors))
        .to_string()
}

#[test]
fn broken_files_are_reported_and_the_others_still_load() {
    let report = broken();
    assert_eq!(report.errors.len(), 9, "{:#?}", report.errors);
    assert!(report.rules.iter().any(|r| &*r.id == "custom-owner-tag"));
    assert!(
        report
            .rules
            .iter()
            .any(|r| &*r.id == "aws-s3-bucket-versioning-enabled")
    );
}

#[test]
fn a_cel_syntax_error_names_the_file_line_and_column() {
    let message = error_for(&broken(), "syntax.yaml");
    assert!(
        message.contains("broken/syntax.yaml:8:17: field `compliant`: syntax error"),
        "{message}"
    );
}

#[test]
fn an_unknown_field_names_the_file_and_line() {
    let message = error_for(&broken(), "unknown-field.yaml");
    assert!(message.contains("unknown-field.yaml:7:1: "), "{message}");
    assert!(message.contains("unknown field `remediaton`"), "{message}");
}

#[test]
fn a_wrong_type_names_the_file_and_line() {
    let message = error_for(&broken(), "wrong-type.yaml");
    assert!(message.contains("wrong-type.yaml:4:"), "{message}");
    assert!(message.contains("severity"), "{message}");
}

#[test]
fn a_tag_that_is_not_kebab_case_names_the_file_line_and_tag() {
    let message = error_for(&broken(), "bad-tag.yaml");
    assert!(message.contains("bad-tag.yaml:5:1: "), "{message}");
    assert!(
        message.contains("`Internet Exposed` must be kebab-case"),
        "{message}"
    );
}

#[test]
fn builtin_rules_are_tagged_and_the_tags_select_them() {
    let report = broken();
    let tagged = |tag: &str| {
        report
            .rules
            .iter()
            .filter(|r| r.id.starts_with("aws-") && r.tags.iter().any(|t| t == tag))
            .count()
    };
    assert!(
        report
            .rules
            .iter()
            .filter(|r| r.id.starts_with("aws-"))
            .all(|r| !r.tags.is_empty()),
        "every built-in rule has a tag"
    );
    assert!(tagged("internet-exposed") >= 60);
    let versioning = report
        .rules
        .iter()
        .find(|r| &*r.id == "aws-s3-bucket-versioning-enabled")
        .expect("built in");
    assert_eq!(versioning.tags, ["resilience"]);
}

#[test]
fn an_unknown_function_is_rejected_at_load() {
    let message = error_for(&broken(), "unknown-function.yaml");
    assert!(message.contains("unknown-function.yaml:6:"), "{message}");
    assert!(message.contains("unknown function `isOpen`"), "{message}");
}

#[test]
fn a_message_reading_an_undefined_variable_or_left_open_is_refused_at_load() {
    let message = error_for(&broken(), "undefined-variable.yaml");
    assert!(
        message.contains("`message.fail` reads `variables.opened`, which the rule does not define"),
        "{message}"
    );
    let message = error_for(&broken(), "bad-message.yaml");
    assert!(message.contains("bad-message.yaml:7:"), "{message}");
    assert!(message.contains("field `message.fail`"), "{message}");
    assert!(message.contains("`{{` is not closed"), "{message}");
}

#[test]
fn rules_need_both_kinds_of_example() {
    let message = error_for(&broken(), "no-examples.yaml");
    assert!(message.contains("field `examples`"), "{message}");
}

#[test]
fn duplicate_ids_name_the_first_file() {
    let report = broken();
    let error = report
        .errors
        .iter()
        .find(|e| e.path.ends_with("duplicate-id.yaml"))
        .expect("duplicate reported");
    match &error.kind {
        RuleErrorKind::DuplicateId { id, first } => {
            assert_eq!(id, "aws-s3-bucket-versioning-enabled");
            assert!(
                first.ends_with("aws/s3/bucket-versioning-enabled.yaml"),
                "{first:?}"
            );
        }
        other => panic!("expected a duplicate id, got {other:?}"),
    }
}

#[test]
fn a_missing_folder_is_an_error_not_a_crash() {
    let report = load(&RuleSources {
        builtin: false,
        folders: vec![fixtures().join("no-such-folder")],
    });
    assert!(report.rules.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert!(report.errors[0].to_string().contains("no-such-folder"));
}
