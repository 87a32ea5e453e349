//! `parapet rules list|show|lint|test`.

use crate::cli::{Format, GlobalArgs, RulesCommand};
use crate::output::{EXIT_ERROR, EXIT_FAILED, Style, print_json};
use anyhow::{Result, bail};
use comfy_table::Cell;
use parapet_rules::examples::run_examples;
use parapet_rules::lint::lint;
use parapet_rules::{Engine, LoadReport, Rule, RuleSources, load};
use std::process::ExitCode;

/// Loads the rules the global options name.
pub fn load_rules(global: &GlobalArgs) -> LoadReport {
    load(&RuleSources {
        builtin: !global.no_builtin_rules,
        folders: global.rules.clone(),
    })
}

/// Prints rule files that did not load on standard error; true if any.
pub fn report_load_errors(report: &LoadReport) -> bool {
    for error in &report.errors {
        eprintln!("error: {error}");
    }
    !report.errors.is_empty()
}

fn frameworks_text(rule: &Rule) -> String {
    rule.frameworks
        .iter()
        .map(|(framework, controls)| format!("{framework}: {}", controls.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs a `parapet rules` command.
pub fn run(global: &GlobalArgs, command: &RulesCommand, style: Style) -> Result<ExitCode> {
    let report = load_rules(global);
    match command {
        RulesCommand::List {
            format,
            resource_type,
            tag,
        } => {
            let load_failed = report_load_errors(&report);
            let mut rules: Vec<&Rule> = report
                .rules
                .iter()
                .filter(|r| {
                    resource_type
                        .as_ref()
                        .is_none_or(|t| r.resource_types.iter().any(|rt| rt.as_str() == t))
                        && tag.as_ref().is_none_or(|t| r.tags.contains(t))
                })
                .collect();
            rules.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.id.cmp(&b.id)));
            match format {
                Format::Json => {
                    print_json(&rules.iter().map(|r| r.view(false)).collect::<Vec<_>>())?
                }
                Format::Table => {
                    let mut table = style.table(&[
                        "severity",
                        "id",
                        "tags",
                        "resource types",
                        "title",
                        "frameworks",
                    ]);
                    for rule in &rules {
                        table.add_row(vec![
                            style.severity(rule.severity),
                            Cell::new(&*rule.id),
                            rule.tags.join("\n").into(),
                            rule.resource_types
                                .iter()
                                .map(|t| t.as_str())
                                .collect::<Vec<_>>()
                                .join("\n")
                                .into(),
                            Cell::new(&*rule.title),
                            frameworks_text(rule).into(),
                        ]);
                    }
                    out!("{table}");
                    out!("{} rules", rules.len());
                }
            }
            Ok(exit(load_failed, false))
        }
        RulesCommand::Show { id, format } => {
            report_load_errors(&report);
            let Some(rule) = report.rules.iter().find(|r| *r.id == **id) else {
                bail!("no rule with id `{id}` (see `parapet rules list`)");
            };
            match format {
                Format::Json => print_json(&rule.view(true))?,
                Format::Table => print_rule(rule, style)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        RulesCommand::Lint {
            format,
            deny_warnings,
        } => {
            let frameworks = parapet_rules::framework::builtin();
            let warnings: Vec<_> = report
                .rules
                .iter()
                .flat_map(|r| lint(r, &frameworks))
                .collect();
            match format {
                Format::Json => {
                    let errors: Vec<String> =
                        report.errors.iter().map(ToString::to_string).collect();
                    print_json(&serde_json::json!({"errors": errors, "warnings": warnings}))?;
                }
                Format::Table => {
                    for error in &report.errors {
                        out!("error: {error}");
                    }
                    for warning in &warnings {
                        out!(
                            "warning: {}: rule `{}`: {}",
                            warning.path,
                            warning.rule_id,
                            warning.message
                        );
                    }
                    out!(
                        "{} rules loaded, {} files with errors, {} warnings",
                        report.rules.len(),
                        report.errors.len(),
                        warnings.len()
                    );
                }
            }
            if !report.errors.is_empty() || (*deny_warnings && !warnings.is_empty()) {
                Ok(ExitCode::from(EXIT_FAILED))
            } else {
                Ok(ExitCode::SUCCESS)
            }
        }
        RulesCommand::Test { format } => {
            let load_failed = report_load_errors(&report);
            let engine = Engine::new(report.rules);
            let outcomes = run_examples(&engine);
            let failed = outcomes.iter().filter(|o| !o.passed()).count();
            match format {
                Format::Json => print_json(&outcomes)?,
                Format::Table => {
                    if failed > 0 {
                        let mut table =
                            style.table(&["rule", "example", "expected", "got", "message"]);
                        for o in outcomes.iter().filter(|o| !o.passed()) {
                            table.add_row(vec![
                                o.rule_id.as_str().into(),
                                o.example.as_str().into(),
                                style.status(o.expected),
                                o.actual
                                    .map_or_else(|| "excluded".into(), |s| style.status(s)),
                                match &o.expected_message {
                                    Some(wanted) if *wanted != o.message => {
                                        format!("{}\n(the example states: {wanted})", o.message)
                                            .into()
                                    }
                                    _ => o.message.as_str().into(),
                                },
                            ]);
                        }
                        out!("{table}");
                    }
                    out!(
                        "rules: {} examples of {} rules",
                        outcomes.len(),
                        engine.rules().len()
                    );
                    out!("{} passed, {} failed", outcomes.len() - failed, failed);
                }
            }
            Ok(exit(load_failed, failed > 0))
        }
    }
}

fn exit(load_failed: bool, failed: bool) -> ExitCode {
    if load_failed {
        ExitCode::from(EXIT_ERROR)
    } else if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn print_rule(rule: &Rule, style: Style) -> Result<()> {
    let mut table = style.table(&["field", "value"]);
    let mut rows: Vec<(&str, comfy_table::Cell)> = vec![
        ("id", Cell::new(&*rule.id)),
        ("title", Cell::new(&*rule.title)),
        ("severity", style.severity(rule.severity)),
        ("tags", rule.tags.join(", ").into()),
        (
            "resource types",
            rule.resource_types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
                .into(),
        ),
        ("description", rule.description.trim().into()),
    ];
    if let Some(applies) = &rule.applies {
        rows.push(("applies", applies.source.trim().into()));
    }
    for variable in &rule.variables {
        rows.push((
            "variable",
            format!("{} = {}", variable.name, variable.expression.source.trim()).into(),
        ));
    }
    rows.push(("compliant when", rule.compliant.source.trim().into()));
    if let Some(fail) = &rule.fail_message {
        rows.push(("fail message", fail.source.as_str().into()));
    }
    if let Some(pass) = &rule.pass_message {
        rows.push(("pass message", pass.source.as_str().into()));
    }
    rows.push(("remediation", rule.remediation.text.trim().into()));
    if let Some(console) = &rule.remediation.console {
        rows.push(("console", console.trim().into()));
    }
    if let Some(cli) = &rule.remediation.cli {
        rows.push(("cli", cli.trim().into()));
    }
    if let Some(terraform) = &rule.remediation.terraform {
        rows.push(("terraform", terraform.trim_end().into()));
    }
    rows.push(("references", rule.references.join("\n").into()));
    rows.push(("frameworks", frameworks_text(rule).into()));
    let examples = serde_norway::to_string(&rule.examples).unwrap_or_default();
    rows.push(("examples", examples.trim_end().into()));
    rows.push(("file", rule.path.display().to_string().into()));
    for (name, value) in rows {
        table.add_row(vec![name.into(), value]);
    }
    out!("{table}");
    Ok(())
}
