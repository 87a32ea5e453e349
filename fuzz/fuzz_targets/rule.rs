//! A rule file (YAML, with its CEL conditions), evaluated on an asset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_rules::{Engine, Facts, Rule};

const ASSET: &str = r#"{"id":"arn:aws:s3:::logs","provider":"aws","account":"111111111111","region":"eu-west-1","resource_type":"AWS::S3::Bucket","name":"logs","tags":{"env":"prod"},"config":{"Name":"logs","Versioning":{"Status":"Suspended"},"Policy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}},"observed_at":"2026-11-29T10:00:00Z"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rule) = Rule::parse(std::path::Path::new("fuzz.yaml"), text) else {
        return;
    };
    let Ok(asset) = parapet_core::jsonl::parse_line(ASSET, "fuzz", 1) else {
        return;
    };
    let now = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let _ = Engine::new(vec![rule]).evaluate_all(&Facts::at(now), &[asset]);
});
