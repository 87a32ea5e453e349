//! Rule evaluation over generated estates of mixed resource types.
//!
//! Prints memory per asset (resident set growth while the estate is built),
//! then divan measures evaluations per second on one core and on all cores.
//! Run with `cargo bench -p parapet-rules --bench evaluate`;
//! `PARAPET_BENCH_SKIP_MEMORY=1` skips the memory report (for profiling).

use chrono::Utc;
use divan::counter::ItemsCount;
use parapet_core::Asset;
use parapet_rules::{Engine, Facts, RuleSources, load};
use serde_json::json;
use std::sync::LazyLock;

const SIZES: &[usize] = &[100_000, 1_000_000];

fn asset(n: usize) -> Asset {
    let account = format!("{:012}", 100_000_000_000u64 + (n % 20) as u64);
    let region = ["us-east-1", "eu-west-1", "ap-southeast-2"][n % 3];
    let flip = n.is_multiple_of(7);
    let (resource_type, id, config) = match n % 6 {
        0 => (
            "AWS::S3::Bucket",
            format!("arn:aws:s3:::bucket-{n}"),
            json!({
                "Name": format!("bucket-{n}"),
                "PublicAccessBlock": if flip { serde_json::Value::Null } else {
                    json!({"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true})
                },
                "Policy": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                    {"Effect": "Allow", "Principal": if flip { json!("*") } else { json!({"AWS": "arn:aws:iam::111122223333:root"}) },
                     "Action": "s3:GetObject", "Resource": "*"}]},
                "Acl": {"Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "abc"}, "Permission": "FULL_CONTROL"}]},
                "Versioning": {"Status": if flip { "Suspended" } else { "Enabled" }},
                "Logging": {"TargetBucket": "logs", "TargetPrefix": format!("bucket-{n}/")},
            }),
        ),
        1 => (
            "AWS::EC2::SecurityGroup",
            format!("arn:aws:ec2:{region}:{account}:security-group/sg-{n:08x}"),
            json!({
                "GroupId": format!("sg-{n:08x}"),
                "GroupName": if n.is_multiple_of(11) { "default".to_owned() } else { format!("group-{n}") },
                "IpPermissions": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": if flip { "0.0.0.0/0" } else { "10.0.0.0/8" }}], "Ipv6Ranges": []},
                ],
                "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            }),
        ),
        2 => (
            "AWS::EC2::Volume",
            format!("arn:aws:ec2:{region}:{account}:volume/vol-{n:08x}"),
            json!({"VolumeId": format!("vol-{n:08x}"), "Encrypted": !flip, "Size": 100, "VolumeType": "gp3"}),
        ),
        3 => (
            "AWS::EC2::Snapshot",
            format!("arn:aws:ec2:{region}::snapshot/snap-{n:08x}"),
            json!({"SnapshotId": format!("snap-{n:08x}"), "Encrypted": true,
                   "CreateVolumePermissions": if flip { json!([{"Group": "all"}]) } else { json!([]) }}),
        ),
        4 => (
            "AWS::IAM::User",
            format!("arn:aws:iam::{account}:user/user-{n}"),
            json!({"UserName": format!("user-{n}"), "PasswordEnabled": true, "MfaActive": !flip,
                   "AccessKeys": [{"AccessKeyId": "AKIAEXAMPLE", "Status": "Active", "CreateDate": "2026-10-01T00:00:00Z"}],
                   "AttachedPolicies": [], "InlinePolicies": []}),
        ),
        _ => (
            "AWS::Lambda::Function",
            format!("arn:aws:lambda:{region}:{account}:function:fn-{n}"),
            json!({"FunctionName": format!("fn-{n}"), "Runtime": "python3.12", "MemorySize": 256}),
        ),
    };
    serde_json::from_value(json!({
        "id": id, "provider": "aws", "account": account, "region": region,
        "resource_type": resource_type, "name": format!("asset-{n}"),
        "tags": {"owner": "team-a", "env": if n.is_multiple_of(2) { "prod" } else { "dev" }},
        "config": config, "observed_at": "2026-11-29T00:00:00Z"
    }))
    .expect("generated asset is valid")
}

fn estate(size: usize) -> Vec<Asset> {
    (0..size).map(asset).collect()
}

static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    let report = load(&RuleSources {
        builtin: true,
        folders: Vec::new(),
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    Engine::new(report.rules)
});

static FACTS: LazyLock<Facts> = LazyLock::new(|| Facts::at(Utc::now()));

static ESTATE_100K: LazyLock<Vec<Asset>> = LazyLock::new(|| estate(SIZES[0]));
static ESTATE_1M: LazyLock<Vec<Asset>> = LazyLock::new(|| estate(SIZES[1]));

fn estate_of(size: usize) -> &'static [Asset] {
    if size == SIZES[0] {
        &ESTATE_100K
    } else {
        &ESTATE_1M
    }
}

fn evaluations_for(assets: &[Asset]) -> usize {
    assets
        .iter()
        .map(|a| ENGINE.rule_count_for(a.resource_type.as_str()))
        .sum()
}

/// Resident set size in bytes, from /proc/self/statm.
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<usize>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

fn report_memory() {
    let size = SIZES[1];
    let before = resident_bytes();
    let assets = estate(size);
    let built = resident_bytes();
    println!(
        "memory per asset over {size} assets: {} bytes as parsed assets",
        (built - before) / size
    );
    println!(
        "rules: {}, evaluations per pass over {size} assets: {}",
        ENGINE.rules().len(),
        evaluations_for(&assets)
    );
}

fn main() {
    if std::env::var_os("PARAPET_BENCH_SKIP_MEMORY").is_none() {
        report_memory();
    }
    divan::main();
}

/// One core.
#[divan::bench(args = [100_000], sample_count = 5, sample_size = 1)]
fn one_core(bencher: divan::Bencher, size: usize) {
    let assets = estate_of(size);
    bencher
        .counter(ItemsCount::new(evaluations_for(assets)))
        .bench_local(|| {
            assets
                .iter()
                .map(|a| ENGINE.evaluate(&FACTS, a).len())
                .sum::<usize>()
        });
}

/// All cores, as `parapet scan` runs it.
#[divan::bench(args = SIZES, sample_count = 3, sample_size = 1)]
fn all_cores(bencher: divan::Bencher, size: usize) {
    let assets = estate_of(size);
    bencher
        .counter(ItemsCount::new(evaluations_for(assets)))
        .bench_local(|| ENGINE.evaluate_all(&FACTS, assets).len());
}
