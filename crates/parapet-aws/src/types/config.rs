//! AWS Config configuration recorders: what they record and whether they
//! are recording.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_config::Client;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const CONFIG: Collector = Collector {
    service: "config",
    types: &[TypeDef {
        name: RECORDER,
        page: include_str!("../../../../docs/resources/aws/config-configuration-recorder.md"),
        events: r#"
            source: config.amazonaws.com
            events:
              - {name: PutConfigurationRecorder, action: change, key: [requestParameters.configurationRecorder.name]}
              - {name: DeleteConfigurationRecorder, action: delete, key: [requestParameters.configurationRecorderName]}
              - {name: StartConfigurationRecorder, action: change, key: [requestParameters.configurationRecorderName]}
              - {name: StopConfigurationRecorder, action: change, key: [requestParameters.configurationRecorderName]}
            "#,
        dependents: &[super::region::REGION],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "config:DescribeConfigurationRecorderStatus",
        "config:DescribeConfigurationRecorders",
    ],
    run: |ctx| config(ctx).boxed(),
};

const RECORDER: &str = "AWS::Config::ConfigurationRecorder";

async fn config(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(RECORDER, recorders(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn recorders(ctx: &Ctx, config: &Client) -> Call<Vec<Asset>> {
    let (recorders, statuses) = tokio::join!(
        config.describe_configuration_recorders().send(),
        config.describe_configuration_recorder_status().send(),
    );
    let recorders = recorders.named("config:DescribeConfigurationRecorders")?;
    let statuses = statuses.named("config:DescribeConfigurationRecorderStatus");
    Ok(recorders
        .configuration_recorders()
        .iter()
        .map(|r| {
            let name = r.name().unwrap_or("default");
            let group = r.recording_group();
            let mut asset = ctx.asset(
                RECORDER,
                r.arn().map_or_else(|| ctx.arn("config", &format!("configuration-recorder/{name}")), str::to_owned),
                name,
                json!({
                    "Name": name,
                    "RoleARN": text(r.role_arn()),
                    "RecordingGroup": group.map_or(Value::Null, |g| json!({
                        "AllSupported": g.all_supported(),
                        "IncludeGlobalResourceTypes": g.include_global_resource_types(),
                        "ResourceTypes": g.resource_types().iter().map(|t| t.as_str()).collect::<Vec<_>>(),
                    })),
                }),
            );
            Doc::of(&mut asset).set(
                "Status",
                statuses.clone().map(|s| {
                    s.configuration_recorders_status()
                        .iter()
                        .find(|x| x.name() == Some(name))
                        .map_or(Value::Null, |x| json!({
                            "Recording": x.recording(),
                            "LastStatus": text(x.last_status().map(|l| l.as_str())),
                            "LastStartTime": time(x.last_start_time()),
                        }))
                }),
                &[],
            );
            asset
        })
        .collect())
}
