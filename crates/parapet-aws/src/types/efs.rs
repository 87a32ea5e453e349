//! EFS file systems: encryption at rest and its key, the automatic backup
//! policy, the file system policy, performance and throughput modes, mount
//! targets and tags.

use super::{Collector, Doc, Part, Reach, TypeDef, optional_policy, run_parts, text, time};
use crate::collect::{Ctx, Out};
use crate::error::{Call, Named};
use aws_sdk_efs::Client;
use aws_sdk_efs::types::FileSystemDescription;
use futures::FutureExt;
use parapet_core::Asset;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) const EFS: Collector = Collector {
    service: "elasticfilesystem",
    types: &[TypeDef {
        name: FILE_SYSTEM,
        page: include_str!("../../../../docs/resources/aws/efs-file-system.md"),
        events: r#"
            source: elasticfilesystem.amazonaws.com
            events:
              - {name: CreateFileSystem, action: create, key: [responseElements.fileSystemId]}
              - {name: DeleteFileSystem, action: delete, key: [requestParameters.fileSystemId]}
              - {name: UpdateFileSystem, action: change, key: [requestParameters.fileSystemId]}
              - {name: PutBackupPolicy, action: change, key: [requestParameters.fileSystemId]}
              - {name: PutFileSystemPolicy, action: change, key: [requestParameters.fileSystemId]}
              - {name: DeleteFileSystemPolicy, action: change, key: [requestParameters.fileSystemId]}
              - {name: PutLifecycleConfiguration, action: change, key: [requestParameters.fileSystemId]}
              - {name: CreateMountTarget, action: change, key: [requestParameters.fileSystemId]}
              - {name: TagResource, action: change, key: [requestParameters.resourceId]}
              - {name: UntagResource, action: change, key: [requestParameters.resourceId]}
            "#,
        dependents: &[],
        network: None,
    }],
    reach: Reach::Regional,
    calls: &[
        "elasticfilesystem:DescribeBackupPolicy",
        "elasticfilesystem:DescribeFileSystemPolicy",
        "elasticfilesystem:DescribeFileSystems",
    ],
    run: |ctx| efs(ctx).boxed(),
};

const FILE_SYSTEM: &str = "AWS::EFS::FileSystem";

async fn efs(ctx: Arc<Ctx>) -> Out {
    let client = Client::new(&ctx.sdk());
    let parts: Vec<Part<'_>> = vec![(FILE_SYSTEM, file_systems(&ctx, &client).boxed())];
    run_parts(&ctx, parts).await
}

async fn file_systems(ctx: &Ctx, efs: &Client) -> Call<Vec<Asset>> {
    let mut systems = all_pages!(
        efs.describe_file_systems(),
        "elasticfilesystem:DescribeFileSystems",
        file_systems
    )?;
    ctx.keep(FILE_SYSTEM, &mut systems, |f| {
        let mut names = vec![f.file_system_id()];
        names.extend(f.file_system_arn());
        names
    });
    let ids: Vec<String> = systems
        .iter()
        .map(|f| f.file_system_id().to_owned())
        .collect();
    let policies = ctx
        .each(ids, move |id| async move {
            let (backup, policy) = tokio::join!(
                efs.describe_backup_policy().file_system_id(&id).send(),
                efs.describe_file_system_policy().file_system_id(&id).send(),
            );
            (
                backup
                    .named("elasticfilesystem:DescribeBackupPolicy")
                    .map(|b| {
                        b.backup_policy()
                            .map_or(Value::Null, |p| json!({"Status": p.status().as_str()}))
                    }),
                policy
                    .named("elasticfilesystem:DescribeFileSystemPolicy")
                    .and_then(|p| {
                        optional_policy("elasticfilesystem:DescribeFileSystemPolicy", p.policy())
                    }),
            )
        })
        .await;
    Ok(systems
        .iter()
        .zip(policies)
        .map(|(system, (backup, policy))| {
            let mut asset = file_system(ctx, system);
            let mut doc = Doc::of(&mut asset);
            doc.set("BackupPolicy", backup, &["PolicyNotFound"]);
            doc.set("Policy", policy, &["PolicyNotFound"]);
            asset
        })
        .collect())
}

/// A file system's asset, from its description.
fn file_system(ctx: &Ctx, system: &FileSystemDescription) -> Asset {
    let id = system.file_system_id();
    let arn = system
        .file_system_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| ctx.arn("elasticfilesystem", &format!("file-system/{id}")));
    let mut asset = ctx.asset(
        FILE_SYSTEM,
        arn.clone(),
        system.name().unwrap_or(id),
        json!({
            "FileSystemId": id,
            "FileSystemArn": arn,
            "Name": text(system.name()),
            "CreationTime": time(Some(system.creation_time())),
            "LifeCycleState": system.life_cycle_state().as_str(),
            "Encrypted": system.encrypted().unwrap_or(false),
            "KmsKeyId": text(system.kms_key_id()),
            "PerformanceMode": system.performance_mode().as_str(),
            "ThroughputMode": text(system.throughput_mode().map(|m| m.as_str())),
            "NumberOfMountTargets": system.number_of_mount_targets(),
            "AvailabilityZoneName": text(system.availability_zone_name()),
        }),
    );
    asset.tags = system
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    asset
}
