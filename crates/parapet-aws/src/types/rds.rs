//! RDS: DB instances, DB clusters, and DB instance and cluster snapshots
//! with who may restore them.

use super::{Collector, Doc, Part, Reach, TypeDef, run_parts, strings, tag_map, text, time};
use crate::collect::{Ctx, Out, relate, relate_security_groups};
use crate::error::{Call, Named};
use aws_sdk_rds::Client;
use aws_sdk_rds::types::Tag;
use futures::FutureExt;
use parapet_core::{Asset, Relationship};
use parapet_provider::NetworkRole;
use serde_json::json;
use std::sync::Arc;

pub(super) const RDS: Collector = Collector {
    service: "rds",
    types: &[
        TypeDef {
            name: INSTANCE,
            page: include_str!("../../../../docs/resources/aws/rds-db-instance.md"),
            events: r#"
            source: rds.amazonaws.com
            events:
              - {name: CreateDBInstance, action: create, key: [requestParameters.dBInstanceIdentifier]}
              - {name: CreateDBInstanceReadReplica, action: create, key: [requestParameters.dBInstanceIdentifier]}
              - {name: RestoreDBInstanceFromDBSnapshot, action: create, key: [requestParameters.dBInstanceIdentifier]}
              - {name: DeleteDBInstance, action: delete, key: [requestParameters.dBInstanceIdentifier]}
              - {name: ModifyDBInstance, action: change, key: [requestParameters.dBInstanceIdentifier]}
              - {name: RebootDBInstance, action: change, key: [requestParameters.dBInstanceIdentifier]}
            "#,
            dependents: &[],
            network: Some(NetworkRole::Endpoint),
        },
        TypeDef {
            name: CLUSTER,
            page: include_str!("../../../../docs/resources/aws/rds-db-cluster.md"),
            events: r#"
            source: rds.amazonaws.com
            events:
              - {name: CreateDBCluster, action: create, key: [requestParameters.dBClusterIdentifier]}
              - {name: DeleteDBCluster, action: delete, key: [requestParameters.dBClusterIdentifier]}
              - {name: ModifyDBCluster, action: change, key: [requestParameters.dBClusterIdentifier]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: SNAPSHOT,
            page: include_str!("../../../../docs/resources/aws/rds-db-snapshot.md"),
            events: r#"
            source: rds.amazonaws.com
            events:
              - {name: CreateDBSnapshot, action: create, key: [requestParameters.dBSnapshotIdentifier]}
              - {name: CopyDBSnapshot, action: create, key: [requestParameters.targetDBSnapshotIdentifier]}
              - {name: DeleteDBSnapshot, action: delete, key: [requestParameters.dBSnapshotIdentifier]}
              - {name: ModifyDBSnapshotAttribute, action: change, key: [requestParameters.dBSnapshotIdentifier]}
            "#,
            dependents: &[],
            network: None,
        },
        TypeDef {
            name: CLUSTER_SNAPSHOT,
            page: include_str!("../../../../docs/resources/aws/rds-db-cluster-snapshot.md"),
            events: r#"
            source: rds.amazonaws.com
            events:
              - {name: CreateDBClusterSnapshot, action: create, key: [requestParameters.dBClusterSnapshotIdentifier]}
              - {name: CopyDBClusterSnapshot, action: create, key: [requestParameters.targetDBClusterSnapshotIdentifier]}
              - {name: DeleteDBClusterSnapshot, action: delete, key: [requestParameters.dBClusterSnapshotIdentifier]}
              - {name: ModifyDBClusterSnapshotAttribute, action: change, key: [requestParameters.dBClusterSnapshotIdentifier]}
            "#,
            dependents: &[],
            network: None,
        },
    ],
    reach: Reach::Regional,
    calls: &[
        "rds:DescribeDBClusterSnapshotAttributes",
        "rds:DescribeDBClusterSnapshots",
        "rds:DescribeDBClusters",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshotAttributes",
        "rds:DescribeDBSnapshots",
    ],
    run: |ctx| rds(ctx).boxed(),
};

const INSTANCE: &str = "AWS::RDS::DBInstance";
const CLUSTER: &str = "AWS::RDS::DBCluster";
const SNAPSHOT: &str = "AWS::RDS::DBSnapshot";
const CLUSTER_SNAPSHOT: &str = "AWS::RDS::DBClusterSnapshot";

async fn rds(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let (c, x) = (&client, &*ctx);
    let parts: Vec<Part<'_>> = vec![
        (INSTANCE, instances(x, c).boxed()),
        (CLUSTER, clusters(x, c).boxed()),
        (SNAPSHOT, snapshots(x, c).boxed()),
        (CLUSTER_SNAPSHOT, cluster_snapshots(x, c).boxed()),
    ];
    run_parts(x, parts).await
}

fn tags(tags: &[Tag]) -> std::collections::BTreeMap<String, String> {
    tag_map(tags.iter().map(|t| (t.key(), t.value())))
}

async fn instances(ctx: &Ctx, rds: &Client) -> Call<Vec<Asset>> {
    let instances = all_pages!(
        rds.describe_db_instances(),
        "rds:DescribeDBInstances",
        db_instances
    )?;
    Ok(instances
        .iter()
        .map(|i| {
            let id = i.db_instance_identifier().unwrap_or_default();
            let arn = i
                .db_instance_arn()
                .map_or_else(|| ctx.arn("rds", &format!("db:{id}")), str::to_owned);
            let groups: Vec<&str> = i
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            let mut asset = ctx.asset(
                INSTANCE,
                arn,
                id,
                json!({
                    "DBInstanceIdentifier": id,
                    "DBInstanceClass": text(i.db_instance_class()),
                    "Engine": text(i.engine()),
                    "EngineVersion": text(i.engine_version()),
                    "DBInstanceStatus": text(i.db_instance_status()),
                    "Endpoint": i.endpoint().map_or(serde_json::Value::Null, |e| json!({"Address": text(e.address()), "Port": e.port()})),
                    "PubliclyAccessible": i.publicly_accessible().unwrap_or(false),
                    "StorageEncrypted": i.storage_encrypted().unwrap_or(false),
                    "KmsKeyId": text(i.kms_key_id()),
                    "MultiAZ": i.multi_az().unwrap_or(false),
                    "BackupRetentionPeriod": i.backup_retention_period(),
                    "DeletionProtection": i.deletion_protection().unwrap_or(false),
                    "AutoMinorVersionUpgrade": i.auto_minor_version_upgrade().unwrap_or(false),
                    "IAMDatabaseAuthenticationEnabled": i.iam_database_authentication_enabled().unwrap_or(false),
                    "EnabledCloudwatchLogsExports": strings(i.enabled_cloudwatch_logs_exports().iter().map(String::as_str)),
                    "VpcSecurityGroups": strings(groups.iter().copied()),
                    "DBSubnetGroup": text(i.db_subnet_group().and_then(|g| g.db_subnet_group_name())),
                    "VpcId": text(i.db_subnet_group().and_then(|g| g.vpc_id())),
                    "SubnetIds": strings(i.db_subnet_group().map(|g| g.subnets()).unwrap_or_default().iter().filter_map(|s| s.subnet_identifier())),
                    "DBClusterIdentifier": text(i.db_cluster_identifier()),
                    "InstanceCreateTime": time(i.instance_create_time()),
                }),
            );
            asset.tags = tags(i.tag_list());
            relate_security_groups(&mut asset, ctx, groups);
            if let Some(cluster) = i.db_cluster_identifier() {
                relate(&mut asset, Relationship::MEMBER_OF, ctx.arn("rds", &format!("cluster:{cluster}")));
            }
            asset
        })
        .collect())
}

async fn clusters(ctx: &Ctx, rds: &Client) -> Call<Vec<Asset>> {
    let clusters = all_pages!(
        rds.describe_db_clusters(),
        "rds:DescribeDBClusters",
        db_clusters
    )?;
    Ok(clusters
        .iter()
        .map(|c| {
            let id = c.db_cluster_identifier().unwrap_or_default();
            let arn = c
                .db_cluster_arn()
                .map_or_else(|| ctx.arn("rds", &format!("cluster:{id}")), str::to_owned);
            let groups: Vec<&str> = c
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id())
                .collect();
            let mut asset = ctx.asset(
                CLUSTER,
                arn,
                id,
                json!({
                    "DBClusterIdentifier": id,
                    "Engine": text(c.engine()),
                    "EngineVersion": text(c.engine_version()),
                    "Status": text(c.status()),
                    "Endpoint": text(c.endpoint()),
                    "ReaderEndpoint": text(c.reader_endpoint()),
                    "Port": c.port(),
                    "StorageEncrypted": c.storage_encrypted().unwrap_or(false),
                    "KmsKeyId": text(c.kms_key_id()),
                    "MultiAZ": c.multi_az().unwrap_or(false),
                    "BackupRetentionPeriod": c.backup_retention_period(),
                    "DeletionProtection": c.deletion_protection().unwrap_or(false),
                    "IAMDatabaseAuthenticationEnabled": c.iam_database_authentication_enabled().unwrap_or(false),
                    "EnabledCloudwatchLogsExports": strings(c.enabled_cloudwatch_logs_exports().iter().map(String::as_str)),
                    "VpcSecurityGroups": strings(groups.iter().copied()),
                    "Members": strings(c.db_cluster_members().iter().filter_map(|m| m.db_instance_identifier())),
                    "ClusterCreateTime": time(c.cluster_create_time()),
                }),
            );
            asset.tags = tags(c.tag_list());
            relate_security_groups(&mut asset, ctx, groups);
            asset
        })
        .collect())
}

/// The accounts a snapshot's `restore` attribute lists; `all` makes it
/// public.
fn restore_accounts<'a>(
    attributes: impl Iterator<Item = (Option<&'a str>, &'a [String])>,
) -> serde_json::Value {
    json!(
        attributes
            .filter(|(name, _)| *name == Some("restore"))
            .flat_map(|(_, values)| values.iter().cloned())
            .collect::<Vec<String>>()
    )
}

async fn snapshots(ctx: &Ctx, rds: &Client) -> Call<Vec<Asset>> {
    let mut snapshots = all_pages!(
        rds.describe_db_snapshots(),
        "rds:DescribeDBSnapshots",
        db_snapshots
    )?;
    ctx.keep(SNAPSHOT, &mut snapshots, |s| {
        s.db_snapshot_identifier()
            .into_iter()
            .chain(s.db_snapshot_arn())
            .collect()
    });
    let attributes = ctx
        .each(
            snapshots
                .iter()
                .map(|s| {
                    (
                        s.db_snapshot_identifier().unwrap_or_default().to_owned(),
                        s.snapshot_type() == Some("manual"),
                    )
                })
                .collect(),
            move |(id, manual)| async move {
                // Only manual snapshots can be shared; an automated one
                // restores in its own account alone.
                if !manual {
                    return Ok(json!([]));
                }
                let answer = rds
                    .describe_db_snapshot_attributes()
                    .db_snapshot_identifier(id)
                    .send()
                    .await
                    .named("rds:DescribeDBSnapshotAttributes")?;
                Ok(restore_accounts(
                    answer
                        .db_snapshot_attributes_result()
                        .map(|r| r.db_snapshot_attributes())
                        .unwrap_or_default()
                        .iter()
                        .map(|a| (a.attribute_name(), a.attribute_values())),
                ))
            },
        )
        .await;
    Ok(snapshots
        .iter()
        .zip(attributes)
        .map(|(s, restore)| {
            let id = s.db_snapshot_identifier().unwrap_or_default();
            let arn = s
                .db_snapshot_arn()
                .map_or_else(|| ctx.arn("rds", &format!("snapshot:{id}")), str::to_owned);
            let mut asset = ctx.asset(
                SNAPSHOT,
                arn,
                id,
                json!({
                    "DBSnapshotIdentifier": id,
                    "DBInstanceIdentifier": text(s.db_instance_identifier()),
                    "SnapshotType": text(s.snapshot_type()),
                    "Engine": text(s.engine()),
                    "Status": text(s.status()),
                    "Encrypted": s.encrypted().unwrap_or(false),
                    "KmsKeyId": text(s.kms_key_id()),
                    "SnapshotCreateTime": time(s.snapshot_create_time()),
                }),
            );
            asset.tags = tags(s.tag_list());
            Doc::of(&mut asset).set("RestoreAttribute", restore, &[]);
            if let Some(instance) = s.db_instance_identifier() {
                relate(
                    &mut asset,
                    Relationship::SNAPSHOT_OF,
                    ctx.arn("rds", &format!("db:{instance}")),
                );
            }
            asset
        })
        .collect())
}

async fn cluster_snapshots(ctx: &Ctx, rds: &Client) -> Call<Vec<Asset>> {
    let mut snapshots = all_pages!(
        rds.describe_db_cluster_snapshots(),
        "rds:DescribeDBClusterSnapshots",
        db_cluster_snapshots
    )?;
    ctx.keep(CLUSTER_SNAPSHOT, &mut snapshots, |s| {
        s.db_cluster_snapshot_identifier()
            .into_iter()
            .chain(s.db_cluster_snapshot_arn())
            .collect()
    });
    let attributes = ctx
        .each(
            snapshots
                .iter()
                .map(|s| {
                    (
                        s.db_cluster_snapshot_identifier()
                            .unwrap_or_default()
                            .to_owned(),
                        s.snapshot_type() == Some("manual"),
                    )
                })
                .collect(),
            move |(id, manual)| async move {
                if !manual {
                    return Ok(json!([]));
                }
                let answer = rds
                    .describe_db_cluster_snapshot_attributes()
                    .db_cluster_snapshot_identifier(id)
                    .send()
                    .await
                    .named("rds:DescribeDBClusterSnapshotAttributes")?;
                Ok(restore_accounts(
                    answer
                        .db_cluster_snapshot_attributes_result()
                        .map(|r| r.db_cluster_snapshot_attributes())
                        .unwrap_or_default()
                        .iter()
                        .map(|a| (a.attribute_name(), a.attribute_values())),
                ))
            },
        )
        .await;
    Ok(snapshots
        .iter()
        .zip(attributes)
        .map(|(s, restore)| {
            let id = s.db_cluster_snapshot_identifier().unwrap_or_default();
            let arn = s.db_cluster_snapshot_arn().map_or_else(
                || ctx.arn("rds", &format!("cluster-snapshot:{id}")),
                str::to_owned,
            );
            let mut asset = ctx.asset(
                CLUSTER_SNAPSHOT,
                arn,
                id,
                json!({
                    "DBClusterSnapshotIdentifier": id,
                    "DBClusterIdentifier": text(s.db_cluster_identifier()),
                    "SnapshotType": text(s.snapshot_type()),
                    "Engine": text(s.engine()),
                    "Status": text(s.status()),
                    "StorageEncrypted": s.storage_encrypted().unwrap_or(false),
                    "KmsKeyId": text(s.kms_key_id()),
                    "SnapshotCreateTime": time(s.snapshot_create_time()),
                }),
            );
            asset.tags = tags(s.tag_list());
            Doc::of(&mut asset).set("RestoreAttribute", restore, &[]);
            if let Some(cluster) = s.db_cluster_identifier() {
                relate(
                    &mut asset,
                    Relationship::SNAPSHOT_OF,
                    ctx.arn("rds", &format!("cluster:{cluster}")),
                );
            }
            asset
        })
        .collect())
}
