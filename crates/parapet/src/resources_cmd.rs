//! `parapet resources list|show`: the resource types collectors read.

use crate::cli::{Format, ResourcesCommand};
use crate::output::{Style, print_json};
use anyhow::{Result, bail};
use comfy_table::Cell;
use std::process::ExitCode;

/// Every provider's resource types: AWS's, then Azure's.
fn catalog() -> Vec<parapet_provider::ResourceTypeInfo> {
    let mut catalog = parapet_aws::catalog();
    catalog.extend(parapet_azure::types::catalog());
    catalog.extend(parapet_gcp::types::catalog());
    catalog
}

/// Runs `parapet resources ...`.
pub fn run(command: &ResourcesCommand, style: Style) -> Result<ExitCode> {
    match command {
        ResourcesCommand::List { format } => {
            let catalog = catalog();
            match format {
                Format::Json => print_json(
                    &catalog
                        .iter()
                        .map(|d| {
                            serde_json::json!({
                                "resource_type": d.name,
                                "service": d.service,
                                "summary": d.summary(),
                                "fields": d.fields(),
                                "network": d.network,
                            })
                        })
                        .collect::<Vec<_>>(),
                )?,
                Format::Table => {
                    let mut table = style.table(&["resource type", "service", "what it is"]);
                    for doc in &catalog {
                        table.add_row(vec![
                            Cell::new(doc.name),
                            Cell::new(doc.service),
                            Cell::new(doc.summary()),
                        ]);
                    }
                    out!("{table}");
                    out!("{} resource types.", catalog.len());
                }
            }
        }
        ResourcesCommand::Show { resource_type } => match catalog()
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(resource_type))
        {
            Some(doc) => {
                out_raw!("{}", doc.page);
                out!("\nChange events that create, change or delete it:\n");
                for event in &doc.events {
                    out!(
                        "- {} {} ({})",
                        event.source,
                        event.name,
                        format!("{:?}", event.action).to_lowercase()
                    );
                }
            }
            None => bail!(
                "unknown resource type {resource_type}: `parapet resources list` names the ones collected"
            ),
        },
    }
    Ok(ExitCode::SUCCESS)
}
