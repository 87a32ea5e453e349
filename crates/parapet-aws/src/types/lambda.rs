//! Lambda functions: runtime, role, network placement, the resource policy
//! and the function URL's authentication. Environment variables are listed
//! by name only: their values are often secrets.

use super::{
    Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, strings, tag_hash, text,
};
use crate::collect::{Ctx, Out, relate, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_lambda::Client;
use futures::FutureExt;
use parapet_core::Asset;
use parapet_provider::NetworkRole;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const LAMBDA: Collector = Collector {
    service: "lambda",
    types: &[TypeDef {
        name: FUNCTION,
        page: include_str!("../../../../docs/resources/aws/lambda-function.md"),
        events: r#"
            source: lambda.amazonaws.com
            events:
              - {name: CreateFunction, action: create, key: [requestParameters.functionName, responseElements.functionName]}
              - {name: DeleteFunction, action: delete, key: [requestParameters.functionName]}
              - {name: UpdateFunctionConfiguration, action: change, key: [requestParameters.functionName]}
              - {name: AddPermission, action: change, key: [requestParameters.functionName]}
              - {name: RemovePermission, action: change, key: [requestParameters.functionName]}
              - {name: CreateFunctionUrlConfig, action: change, key: [requestParameters.functionName]}
              - {name: UpdateFunctionUrlConfig, action: change, key: [requestParameters.functionName]}
              - {name: DeleteFunctionUrlConfig, action: change, key: [requestParameters.functionName]}
            "#,
        dependents: &[],
        network: Some(NetworkRole::Member),
    }],
    reach: Reach::Regional,
    calls: &[
        "lambda:GetFunctionUrlConfig",
        "lambda:GetPolicy",
        "lambda:ListFunctions",
        "lambda:ListTags",
    ],
    run: |ctx| lambda(ctx).boxed(),
};

const FUNCTION: &str = "AWS::Lambda::Function";

async fn lambda(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(FUNCTION, functions(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn functions(ctx: &Ctx, lambda: &Client) -> Call<Vec<Asset>> {
    let mut functions = all_pages!(lambda.list_functions(), "lambda:ListFunctions", functions)?;
    ctx.keep(FUNCTION, &mut functions, |f| {
        f.function_name()
            .into_iter()
            .chain(f.function_arn())
            .collect()
    });
    let details = ctx
        .each(
            functions
                .iter()
                .filter_map(|f| Some((f.function_name()?.to_owned(), f.function_arn()?.to_owned())))
                .collect(),
            move |(name, arn)| {
                async move {
                    let (policy, url, tags) = tokio::join!(
                        lambda.get_policy().function_name(&name).send(),
                        lambda.get_function_url_config().function_name(&name).send(),
                        lambda.list_tags().resource(&arn).send(),
                    );
                    (
                        policy
                            .named("lambda:GetPolicy")
                            .and_then(|p| optional_policy("lambda:GetPolicy", p.policy())),
                        url.named("lambda:GetFunctionUrlConfig").map(|u| {
                            json!({"FunctionUrl": u.function_url(), "AuthType": u.auth_type().as_str()})
                        }),
                        tags.named("lambda:ListTags").map(|t| tag_hash(t.tags())),
                    )
                }
            },
        )
        .await;
    Ok(functions
        .iter()
        .zip(details)
        .map(|(f, (policy, url, tags))| {
            let name = f.function_name().unwrap_or_default();
            let arn = f
                .function_arn()
                .map_or_else(|| ctx.arn("lambda", &format!("function:{name}")), str::to_owned);
            let vpc = f.vpc_config();
            let mut asset = ctx.asset(
                FUNCTION,
                arn,
                name,
                json!({
                    "FunctionName": name,
                    "Runtime": text(f.runtime().map(|r| r.as_str())),
                    "Role": text(f.role()),
                    "Handler": text(f.handler()),
                    "Timeout": f.timeout(),
                    "MemorySize": f.memory_size(),
                    "LastModified": text(f.last_modified()),
                    "KMSKeyArn": text(f.kms_key_arn()),
                    "TracingMode": text(f.tracing_config().and_then(|t| t.mode()).map(|m| m.as_str())),
                    "VpcConfig": vpc.filter(|v| v.vpc_id().is_some_and(|id| !id.is_empty())).map_or(Value::Null, |v| json!({
                        "VpcId": text(v.vpc_id()),
                        "SubnetIds": strings(v.subnet_ids().iter().map(String::as_str)),
                        "SecurityGroupIds": strings(v.security_group_ids().iter().map(String::as_str)),
                    })),
                    "EnvironmentVariableNames": strings(
                        f.environment()
                            .and_then(|e| e.variables())
                            .map(|v| {
                                let mut names: Vec<&str> = v.keys().map(String::as_str).collect();
                                names.sort();
                                names
                            })
                            .unwrap_or_default()
                    ),
                }),
            );
            let mut doc = Doc::of(&mut asset);
            doc.set("Policy", policy, &["ResourceNotFoundException"]);
            doc.set("FunctionUrlConfig", url, &["ResourceNotFoundException"]);
            doc.tags(tags);
            if let Some(role) = f.role() {
                relate(&mut asset, "assumes_role", role);
            }
            relate_security_groups(&mut asset, ctx, vpc.map(|v| v.security_group_ids()).unwrap_or_default());
            asset
        })
        .collect())
}
