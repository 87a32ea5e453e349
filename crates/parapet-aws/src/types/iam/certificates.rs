//! Server certificates stored in IAM (for load balancers and CloudFront
//! before ACM): their names, paths and validity. The certificate body and
//! chain are left out; the private key is never returned by the API.

use super::SERVER_CERTIFICATE;
use crate::collect::Ctx;
use crate::error::Call;
use crate::types::time;
use aws_sdk_iam::Client;
use parapet_core::Asset;
use serde_json::json;

pub(super) async fn server_certificates(ctx: &Ctx, iam: &Client) -> Call<Vec<Asset>> {
    let mut certificates = all_pages!(
        iam.list_server_certificates(),
        "iam:ListServerCertificates",
        server_certificate_metadata_list
    )?;
    ctx.keep(SERVER_CERTIFICATE, &mut certificates, |c| {
        vec![c.server_certificate_name(), c.arn()]
    });
    Ok(certificates
        .iter()
        .map(|c| {
            ctx.asset(
                SERVER_CERTIFICATE,
                c.arn(),
                c.server_certificate_name(),
                json!({
                    "ServerCertificateName": c.server_certificate_name(),
                    "ServerCertificateId": c.server_certificate_id(),
                    "Arn": c.arn(),
                    "Path": c.path(),
                    "UploadDate": time(c.upload_date()),
                    "Expiration": time(c.expiration()),
                }),
            )
        })
        .collect())
}
