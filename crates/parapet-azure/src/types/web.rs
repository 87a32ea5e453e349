//! App Service: web apps and function apps (`Microsoft.Web/sites`), each
//! with its site configuration (`config/web`: minimum TLS version, FTPS,
//! HTTP/2, remote debugging, the runtime's version) beside the site's own
//! properties (HTTPS only, client certificates) and its managed identity.

use super::{Collector, Ctx, Document, Out, TypeDef, id_of, listed_each};
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::Value;

pub(super) const WEB: Collector = Collector {
    namespace: "Microsoft.Web",
    types: &[TypeDef {
        name: SITE,
        page: include_str!("../../../../docs/resources/azure/web-site.md"),
        operations: &[
            "Microsoft.Web/sites/write",
            "Microsoft.Web/sites/delete",
            "Microsoft.Web/sites/config/write",
        ],
        dependents: &[],
        network: Some(NetworkRole::Endpoint),
        tracked: true,
    }],
    actions: &[
        "Microsoft.Web/sites/read",
        "Microsoft.Web/sites/config/read",
    ],
    run: |ctx| Box::pin(sites(ctx)),
};

const SITE: &str = "Microsoft.Web/sites";

/// The API version of Microsoft.Web.
const API: &str = "2023-12-01";

async fn sites(ctx: &Ctx) -> Out {
    listed_each(ctx, SITE, API, |site| described(ctx, site)).await
}

async fn described(ctx: &Ctx, site: Value) -> Asset {
    let config = ctx
        .setting(format!("{}/config/web", id_of(&site)), API)
        .await;
    Document::of(&site)
        .read("config", config)
        .asset(ctx, SITE, &site)
}
