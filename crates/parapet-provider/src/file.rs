//! The JSON Lines inventory file (`docs/assets.md`) as a provider: its
//! assets, one part per account of each cloud in it, each covering its
//! account whole (and a part for each account given besides). A file is
//! read twice, so that no more than one account's assets are held;
//! standard input, which cannot be, is read whole. A line that does not
//! load is an input error naming the file and line; the others are read.

use crate::{Collection, Narrowing, Part, Progress, Provider, ProviderError, ResourceTypeInfo};
use parapet_core::jsonl::{self, LineAt};
use parapet_core::{Asset, JsonlError, Provider as Cloud, Scope};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
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

    fn open(&self) -> Result<BufReader<File>, ProviderError> {
        File::open(&self.path)
            .map(|file| BufReader::with_capacity(1 << 16, file))
            .map_err(|source| ProviderError::Read {
                path: self.path.display().to_string(),
                source,
            })
    }

    /// The accounts each part covers, by cloud: those of the assets read,
    /// and those given besides under every cloud read (under AWS when the
    /// file has no assets).
    fn covered<'a>(
        &self,
        read: impl Iterator<Item = (Cloud, &'a str)>,
    ) -> BTreeMap<Cloud, BTreeSet<String>> {
        let mut covered: BTreeMap<Cloud, BTreeSet<String>> = BTreeMap::new();
        for (cloud, account) in read {
            covered.entry(cloud).or_default().insert(account.to_owned());
        }
        if covered.is_empty() && !self.accounts.is_empty() {
            covered.insert(Cloud::Aws, BTreeSet::new());
        }
        for accounts in covered.values_mut() {
            accounts.extend(self.accounts.iter().cloned());
        }
        covered
    }

    /// Standard input, read whole: it cannot be read twice.
    fn collect_stdin(&self, each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>) -> Vec<String> {
        let name = self.path.display().to_string();
        let (assets, mut errors) = by_account(
            jsonl::read_assets(BufReader::new(std::io::stdin()), &name)
                .map(|item| item.map(|asset| (asset.provider, asset.account.clone(), asset))),
        );
        self.hand_out(assets, &mut errors, |_, _, assets, _| assets, each);
        errors
    }

    /// A file, read twice: once to check every line and note where each
    /// account's lines start, then account after account, so that no more
    /// than one account's assets are held.
    fn collect_file(
        &self,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Vec<String>, ProviderError> {
        let name = self.path.display().to_string();
        let (lines, mut errors) = by_account(
            jsonl::read_located(self.open()?, &name)
                .map(|(at, item)| item.map(|asset| (asset.provider, asset.account, at))),
        );
        let mut file = self.open()?;
        let load = |cloud: Cloud, account: &str, lines: Vec<LineAt>, errors: &mut Vec<String>| {
            let mut assets = Vec::with_capacity(lines.len());
            for at in lines {
                match jsonl::read_line_at(&mut file, at, &name) {
                    Ok(asset) if asset.account == account && asset.provider == cloud => {
                        assets.push(asset);
                    }
                    // The file changed since its first reading.
                    Ok(asset) => errors.push(format!(
                        "{name}:{}: asset `{}` changed its account while the file was read",
                        at.line, asset.id
                    )),
                    Err(e) => errors.push(e.to_string()),
                }
            }
            assets
        };
        self.hand_out(lines, &mut errors, load, each);
        Ok(errors)
    }

    /// Hands on one part per covered account, its assets loaded from what
    /// was noted of them, until `each` breaks.
    fn hand_out<T>(
        &self,
        mut noted: Noted<T>,
        errors: &mut Vec<String>,
        mut load: impl FnMut(Cloud, &str, Vec<T>, &mut Vec<String>) -> Vec<Asset>,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) {
        let covered = self.covered(noted.keys().map(|(c, a)| (*c, a.as_str())));
        for (cloud, accounts) in covered {
            for account in accounts {
                let items = noted.remove(&(cloud, account.clone())).unwrap_or_default();
                let assets = load(cloud, &account, items, errors);
                if each(part(cloud, account, assets), false).is_break() {
                    return;
                }
            }
        }
    }
}

/// What was noted of each asset read, by its cloud and account.
type Noted<T> = BTreeMap<(Cloud, String), Vec<T>>;

/// What was noted of each line's asset, by its cloud and account, and the
/// errors of the lines that did not load.
fn by_account<T>(
    items: impl Iterator<Item = Result<(Cloud, String, T), JsonlError>>,
) -> (Noted<T>, Vec<String>) {
    let mut noted: Noted<T> = BTreeMap::new();
    let mut errors = Vec::new();
    for item in items {
        match item {
            Ok((cloud, account, it)) => noted.entry((cloud, account)).or_default().push(it),
            Err(e) => errors.push(e.to_string()),
        }
    }
    (noted, errors)
}

/// One account's part, covering it whole.
fn part(cloud: Cloud, account: String, assets: Vec<Asset>) -> Part {
    Part {
        scope: Scope::whole(cloud, vec![account]),
        assets,
        errors: Vec::new(),
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
        narrowing: Option<&Narrowing>,
        progress: &dyn Progress,
    ) -> Result<Collection, ProviderError> {
        let mut types = BTreeSet::new();
        let mut collection = Collection::gathered(|each| {
            self.collect_parts(narrowing, progress, &mut |part, _| {
                types.extend(
                    part.assets
                        .iter()
                        .map(|a| a.resource_type.as_str().to_owned()),
                );
                each(part)
            })
        })?;
        collection.resource_types = types.into_iter().collect();
        Ok(collection)
    }

    /// One part per account (of each cloud in the file), handed on as it
    /// is read.
    fn collect_parts(
        &self,
        _narrowing: Option<&Narrowing>,
        _progress: &dyn Progress,
        each: &mut dyn FnMut(Part, bool) -> ControlFlow<()>,
    ) -> Result<Collection, ProviderError> {
        let started = Instant::now();
        let input_errors = if self.path.as_os_str() == "-" {
            self.collect_stdin(each)
        } else {
            self.collect_file(each)?
        };
        Ok(Collection {
            parts: Vec::new(),
            resource_types: Vec::new(),
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
    fn one_part_per_account_read_where_its_lines_are_and_bad_lines_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("estate.jsonl");
        let text = line("aws", "1", "arn:aws:s3:::a")
            + "{not json\n"
            + &line("azure", "sub-1", "/subscriptions/sub-1/x")
            + &line("aws", "2", "arn:aws:s3:::b")
            + &line("aws", "1", "arn:aws:s3:::c");
        std::fs::write(&path, text).expect("write");
        let source = FileSource::new(path.clone(), vec!["3".to_owned()]);
        let collection = source.collect(None, &Quiet).expect("read");
        let parts: Vec<(Cloud, Vec<String>, usize)> = collection
            .parts
            .iter()
            .map(|p| (p.scope.provider, p.scope.accounts.clone(), p.assets.len()))
            .collect();
        let one = |cloud, account: &str, assets| (cloud, vec![account.to_owned()], assets);
        assert_eq!(
            parts,
            [
                one(Cloud::Aws, "1", 2),
                one(Cloud::Aws, "2", 1),
                one(Cloud::Aws, "3", 0),
                one(Cloud::Azure, "3", 0),
                one(Cloud::Azure, "sub-1", 1),
            ],
            "one part per account, each covering it whole"
        );
        let ids: Vec<&str> = collection.parts[0]
            .assets
            .iter()
            .map(|a| a.id.as_str())
            .collect();
        assert_eq!(ids, ["arn:aws:s3:::a", "arn:aws:s3:::c"]);
        assert_eq!(
            collection.resource_types,
            ["AWS::S3::Bucket", "Microsoft.Storage/storageAccounts"]
        );
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
