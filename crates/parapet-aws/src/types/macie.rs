//! Amazon Macie: the session of each region where Macie discovers and
//! classifies the data in S3, which the region summary reads (CIS 3.1.3).

use super::{Collector, Reach, TypeDef, run_parts, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_macie2::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const MACIE: Collector = Collector {
    service: "macie2",
    types: &[TypeDef {
        name: SESSION,
        page: include_str!("../../../../docs/resources/aws/macie-session.md"),
        events: r#"
            source: macie2.amazonaws.com
            events:
              - {name: EnableMacie, action: change, key: [awsRegion]}
              - {name: DisableMacie, action: change, key: [awsRegion]}
              - {name: UpdateMacieSession, action: change, key: [awsRegion]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["macie2:GetMacieSession"],
    run: |ctx| macie(ctx).boxed(),
};

pub(super) const SESSION: &str = "AWS::Macie::Session";

async fn macie(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    run_parts(&ctx, vec![(SESSION, session(&ctx, &client).boxed())]).await
}

/// The region's Macie session, or none where Macie is not enabled: the
/// service answers `AccessDeniedException` saying so (emulators answer
/// `ResourceNotFoundException`); any other refusal is a failure.
async fn session(ctx: &Ctx, macie: &Client) -> Call<Vec<Asset>> {
    let session = match macie
        .get_macie_session()
        .send()
        .await
        .named("macie2:GetMacieSession")
    {
        Ok(session) => session,
        Err(failure)
            if failure.code == "ResourceNotFoundException"
                || (failure.code == "AccessDeniedException"
                    && failure.message.contains("Macie is not enabled")) =>
        {
            return Ok(Vec::new());
        }
        Err(failure) => return Err(failure),
    };
    Ok(vec![ctx.asset(
        SESSION,
        ctx.arn("macie2", "session"),
        "session",
        json!({
            "Status": text(session.status().map(|s| s.as_str())),
            "FindingPublishingFrequency": text(session.finding_publishing_frequency().map(|f| f.as_str())),
            "CreatedAt": time(session.created_at()),
            "UpdatedAt": time(session.updated_at()),
        }),
    )])
}
