//! ACM certificates: status, expiry, key algorithm, use and tags.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, strings, tag_map, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_acm::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::json;
use std::sync::Arc;

pub(super) const ACM: Collector = Collector {
    service: "acm",
    types: &[TypeDef {
        name: CERTIFICATE,
        page: include_str!("../../../../docs/resources/aws/acm-certificate.md"),
        events: r#"
            source: acm.amazonaws.com
            events:
              - {name: RequestCertificate, action: create, key: [responseElements.certificateArn]}
              - {name: ImportCertificate, action: change, key: [responseElements.certificateArn, requestParameters.certificateArn]}
              - {name: DeleteCertificate, action: delete, key: [requestParameters.certificateArn]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &["acm:ListCertificates", "acm:ListTagsForCertificate"],
    run: |ctx| acm(ctx).boxed(),
};

const CERTIFICATE: &str = "AWS::CertificateManager::Certificate";

async fn acm(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(CERTIFICATE, certificates(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn certificates(ctx: &Ctx, acm: &Client) -> Call<Vec<Asset>> {
    let mut certificates = all_pages!(
        acm.list_certificates(),
        "acm:ListCertificates",
        certificate_summary_list
    )?;
    ctx.keep(CERTIFICATE, &mut certificates, |c| {
        c.certificate_arn()
            .into_iter()
            .chain(c.domain_name())
            .collect()
    });
    let tags = ctx
        .each(
            certificates
                .iter()
                .map(|c| c.certificate_arn().unwrap_or_default().to_owned())
                .collect(),
            move |arn| async move {
                acm.list_tags_for_certificate()
                    .certificate_arn(arn)
                    .send()
                    .await
                    .named("acm:ListTagsForCertificate")
                    .map(|t| tag_map(t.tags().iter().map(|t| (Some(t.key()), t.value()))))
            },
        )
        .await;
    Ok(certificates
        .iter()
        .zip(tags)
        .map(|(c, tags)| {
            let arn = c.certificate_arn().unwrap_or_default();
            let domain = c.domain_name().unwrap_or(arn);
            let mut asset = ctx.asset(
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
            );
            Doc::of(&mut asset).tags(tags);
            asset
        })
        .collect())
}
