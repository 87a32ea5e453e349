//! ACM certificates: status, expiry, key algorithm and use.

use super::{Collector, Part, Reach, run_parts, strings, text, time};
use crate::collect::{Ctx, Out};
use crate::error::Call;
use aws_sdk_acm::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const ACM: Collector = Collector {
    service: "acm",
    types: &[CERTIFICATE],
    reach: Reach::Regional,
    run: |ctx| acm(ctx).boxed(),
};

const CERTIFICATE: &str = "AWS::CertificateManager::Certificate";

async fn acm(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(CERTIFICATE, certificates(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn certificates(ctx: &Ctx, acm: &Client) -> Call<Vec<Asset>> {
    let certificates = all_pages!(
        acm.list_certificates(),
        "acm:ListCertificates",
        certificate_summary_list
    )?;
    Ok(certificates
        .iter()
        .map(|c| {
            let arn = c.certificate_arn().unwrap_or_default();
            let domain = c.domain_name().unwrap_or(arn);
            ctx.asset(
                CERTIFICATE,
                arn,
                domain,
                json!({
                    "DomainName": domain,
                    "SubjectAlternativeNames": strings(c.subject_alternative_name_summaries().iter().map(String::as_str)),
                    "Status": text(c.status().map(|s| s.as_str())),
                    "Type": text(c.r#type().map(|s| s.as_str())),
                    "KeyAlgorithm": text(c.key_algorithm().map(|s| s.as_str())),
                    "InUse": c.in_use().unwrap_or(false),
                    "NotBefore": time(c.not_before()),
                    "NotAfter": time(c.not_after()),
                    "RenewalEligibility": text(c.renewal_eligibility().map(|s| s.as_str())),
                }),
            )
        })
        .collect())
}
