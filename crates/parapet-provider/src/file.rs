//! The JSON Lines inventory file (`docs/assets.md`) as a provider: its
//! assets, one part per cloud in it, each covering the accounts the file
//! names (and those given besides). A line that does not load is an input
//! error naming the file and line; the others are read.

use crate::{Collection, Narrowing, Part, Progress, Provider, ProviderError, ResourceTypeInfo};
use parapet_core::{Asset, Provider as Cloud, Scope, jsonl};
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::PathBuf;
use std::time::Instant;

/// An inventory file, or standard input (`-`).
#[derive(Debug, Clone)]
pub struct FileSource {
    path: PathBuf,
    accounts: Vec<String>,
}

impl FileSource {
    /// The file at `path` (`-` for standard input); `accounts` are covered
    /// too, so that a file without their assets says they have none.
    pub fn new(path: PathBuf, accounts: Vec<String>) -> FileSource {
        FileSource { path, accounts }
    }

    fn name(&self) -> String {
        if self.path.as_os_str() == "-" {
            "standard input".to_owned()
        } else {
            self.path.display().to_string()
        }
    }

    fn read(&self) -> Result<(Vec<Asset>, Vec<String>), ProviderError> {
        let name = self.path.display().to_string();
        let reader: Box<dyn std::io::BufRead> = if self.path.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            let file = std::fs::File::open(&self.path).map_err(|source| ProviderError::Read {
                path: name.clone(),
                source,
            })?;
            Box::new(BufReader::new(file))
        };
        let mut assets = Vec::new();
        let mut errors = Vec::new();
        for item in jsonl::read_assets(reader, &name) {
            match item {
                Ok(asset) => assets.push(asset),
                Err(e) => errors.push(e.to_string()),
            }
        }
        Ok((assets, errors))
    }
}

impl Provider for FileSource {
    fn source(&self) -> String {
        self.name()
    }

    fn version(&self) -> String {
        format!("jsonl {}", env!("CARGO_PKG_VERSION"))
    }

    fn resource_types(&self) -> Vec<ResourceTypeInfo> {
        Vec::new()
    }

    fn collect(
        &self,
        _narrowing: Option<&Narrowing>,
        _progress: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        let started = Instant::now();
        let (assets, input_errors) = self.read()?;
        let mut by_cloud: BTreeMap<Cloud, Vec<Asset>> = BTreeMap::new();
        for asset in assets {
            by_cloud.entry(asset.provider).or_default().push(asset);
        }
        if by_cloud.is_empty() && !self.accounts.is_empty() {
            by_cloud.insert(Cloud::Aws, Vec::new());
        }
        let resource_types: BTreeSet<String> = by_cloud
            .values()
            .flatten()
            .map(|a| a.resource_type.as_str().to_owned())
            .collect();
        let parts = by_cloud
            .into_iter()
            .map(|(cloud, assets)| {
                let accounts: BTreeSet<String> = assets
                    .iter()
                    .map(|a| a.account.clone())
                    .chain(self.accounts.iter().cloned())
                    .collect();
                Part {
                    scope: Scope::whole(cloud, accounts.into_iter().collect()),
                    assets,
                    errors: Vec::new(),
                }
            })
            .collect();
        Ok(Collection {
            parts,
            resource_types: resource_types.into_iter().collect(),
            partial: false,
            api_calls: 0,
            api_retries: 0,
            calls: BTreeMap::new(),
            duration: started.elapsed(),
            input_errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quiet;

    fn line(provider: &str, account: &str, id: &str) -> String {
        let resource_type = if provider == "aws" {
            "AWS::S3::Bucket"
        } else {
            "Microsoft.Storage/storageAccounts"
        };
        format!(
            r#"{{"id": "{id}", "provider": "{provider}", "account": "{account}", "region": "eu-west-1", "resource_type": "{resource_type}", "name": "{id}", "config": {{}}, "observed_at": "2026-11-29T10:00:00Z"}}"#
        ) + "\n"
    }

    #[test]
    fn one_part_per_cloud_and_bad_lines_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("estate.jsonl");
        let text = line("aws", "1", "arn:aws:s3:::a")
            + "{not json\n"
            + &line("azure", "sub-1", "/subscriptions/sub-1/x")
            + &line("aws", "2", "arn:aws:s3:::b");
        std::fs::write(&path, text).expect("write");
        let source = FileSource::new(path.clone(), vec!["3".to_owned()]);
        let collection = source.collect(None, &Quiet).expect("read");
        assert_eq!(collection.parts.len(), 2);
        let aws = &collection.parts[0];
        assert_eq!(aws.scope.provider, Cloud::Aws);
        assert_eq!(aws.scope.accounts, ["1", "2", "3"]);
        assert_eq!(aws.assets.len(), 2);
        assert_eq!(collection.parts[1].scope.provider, Cloud::Azure);
        assert_eq!(collection.input_errors.len(), 1);
        assert!(
            collection.input_errors[0].contains(":2"),
            "{:?}",
            collection.input_errors
        );
        assert!(matches!(
            FileSource::new(dir.path().join("missing"), vec![]).collect(None, &Quiet),
            Err(ProviderError::Read { .. })
        ));
    }

    #[test]
    fn accounts_given_without_assets_are_covered() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty.jsonl");
        std::fs::write(&path, "").expect("write");
        let collection = FileSource::new(path, vec!["9".to_owned()])
            .collect(None, &Quiet)
            .expect("read");
        assert_eq!(collection.parts.len(), 1);
        assert_eq!(collection.parts[0].scope.accounts, ["9"]);
    }
}
