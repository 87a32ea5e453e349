//! IAM Access Analyzer: the analyzers of each region, which the region
//! summary reads (CIS 2.18: an analyzer of external access in every region).

use super::{Collector, Part, Reach, TypeDef, run_parts, tag_hash, text, time};
use crate::collect::{Ctx, Out};
use crate::error::Call;
use aws_sdk_accessanalyzer::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const ACCESS_ANALYZER: Collector = Collector {
    service: "access-analyzer",
    types: &[TypeDef {
        name: ANALYZER,
        page: include_str!("../../../../docs/resources/aws/accessanalyzer-analyzer.md"),
        events: r#"
            source: access-analyzer.amazonaws.com
            events:
              - {name: CreateAnalyzer, action: create, key: [requestParameters.analyzerName]}
              - {name: DeleteAnalyzer, action: delete, key: [requestParameters.analyzerName]}
              - {name: UpdateAnalyzer, action: change, key: [requestParameters.analyzerName]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["access-analyzer:ListAnalyzers"],
    run: |ctx| access_analyzer(ctx).boxed(),
};

pub(super) const ANALYZER: &str = "AWS::AccessAnalyzer::Analyzer";

async fn access_analyzer(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(ANALYZER, analyzers(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn analyzers(ctx: &Ctx, analyzer: &Client) -> Call<Vec<Asset>> {
    let mut analyzers = all_pages!(
        analyzer.list_analyzers(),
        "access-analyzer:ListAnalyzers",
        analyzers
    )?;
    ctx.keep(ANALYZER, &mut analyzers, |a| vec![a.name(), a.arn()]);
    Ok(analyzers
        .iter()
        .map(|a| {
            let mut asset = ctx.asset(
                ANALYZER,
                a.arn(),
                a.name(),
                json!({
                    "AnalyzerName": a.name(),
                    "Type": a.r#type().as_str(),
                    "Status": a.status().as_str(),
                    "StatusReason": text(a.status_reason().map(|r| r.code().as_str())),
                    "CreatedAt": time(Some(a.created_at())),
                }),
            );
            asset.tags = tag_hash(a.tags());
            asset
        })
        .collect())
}
