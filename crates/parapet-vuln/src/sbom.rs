//! SBOMs: CycloneDX and SPDX JSON documents read as inventories (each
//! component's package URL names its ecosystem, name and version), and
//! inventories written as CycloneDX 1.6, with their vulnerabilities when
//! matched.

use crate::ecosystem::Ecosystem;
use crate::error::VulnError;
use crate::matcher::Report;
use crate::package::{Inventory, OsRelease, Package, SourcePackage};
use serde_json::{Value, json};
use std::path::Path;
use std::str::FromStr;

/// Reads a CycloneDX or SPDX JSON document.
pub fn read(path: &Path) -> Result<Inventory, VulnError> {
    let text = std::fs::read(path).map_err(|e| VulnError::io(path, e))?;
    parse(&path.display().to_string(), &text)
}

/// The packages of a CycloneDX or SPDX JSON document, `name` naming it in
/// errors.
pub fn parse(name: &str, text: &[u8]) -> Result<Inventory, VulnError> {
    let name = name.to_owned();
    let document: Value = serde_json::from_slice(text).map_err(|e| {
        VulnError::malformed(
            &name,
            format!("line {}, column {}", e.line(), e.column()),
            format!("not JSON: {e}"),
        )
    })?;
    if document["bomFormat"] == "CycloneDX" {
        Ok(cyclonedx(&name, &document))
    } else if document["spdxVersion"].is_string() {
        Ok(spdx(&name, &document))
    } else {
        Err(VulnError::malformed(
            &name,
            "document",
            "neither CycloneDX (`bomFormat`) nor SPDX (`spdxVersion`)",
        ))
    }
}

fn cyclonedx(name: &str, document: &Value) -> Inventory {
    let mut inventory = Inventory {
        target: name.to_owned(),
        ..Inventory::default()
    };
    let mut stack: Vec<&Value> = document["components"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    if let Some(main) = document["metadata"].get("component") {
        stack.push(main);
    }
    while let Some(component) = stack.pop() {
        stack.extend(component["components"].as_array().into_iter().flatten());
        if component["type"] == "operating-system" {
            inventory.os = Some(OsRelease {
                id: component["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_lowercase(),
                version_id: component["version"].as_str().unwrap_or_default().to_owned(),
                pretty_name: None,
            });
            continue;
        }
        let Some(purl) = component["purl"].as_str() else {
            continue;
        };
        // Trivy writes an OS package's source as properties.
        let property = |key: &str| {
            component["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == key)
                .and_then(|p| p["value"].as_str())
        };
        let trivy_source = property("aquasecurity:trivy:SrcName").map(|source_name| {
            let version = property("aquasecurity:trivy:SrcVersion").unwrap_or_default();
            let release = property("aquasecurity:trivy:SrcRelease");
            let epoch = property("aquasecurity:trivy:SrcEpoch").filter(|e| *e != "0");
            let mut full = version.to_owned();
            if let Some(release) = release {
                full = format!("{full}-{release}");
            }
            if let Some(epoch) = epoch {
                full = format!("{epoch}:{full}");
            }
            (source_name.to_owned(), full)
        });
        match from_purl(purl, name) {
            Ok(Some(mut package)) => {
                if let (Some((source, version)), true) = (trivy_source, package.ecosystem.is_os()) {
                    package.source = Some(SourcePackage {
                        name: source,
                        version,
                    });
                }
                inventory.packages.push(package);
            }
            Ok(None) => {}
            Err(reason) => inventory.errors.push(format!("{name}: {purl}: {reason}")),
        }
    }
    finish(inventory)
}

fn spdx(name: &str, document: &Value) -> Inventory {
    let mut inventory = Inventory {
        target: name.to_owned(),
        ..Inventory::default()
    };
    for package in document["packages"].as_array().into_iter().flatten() {
        if package["primaryPackagePurpose"] == "OPERATING-SYSTEM" {
            inventory.os = Some(OsRelease {
                id: package["name"].as_str().unwrap_or_default().to_lowercase(),
                version_id: package["versionInfo"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                pretty_name: None,
            });
            continue;
        }
        let purls = package["externalRefs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["referenceType"] == "purl")
            .filter_map(|r| r["referenceLocator"].as_str());
        for purl in purls {
            match from_purl(purl, name) {
                Ok(Some(p)) => inventory.packages.push(p),
                Ok(None) => {}
                Err(reason) => inventory.errors.push(format!("{name}: {purl}: {reason}")),
            }
        }
    }
    finish(inventory)
}

fn finish(mut inventory: Inventory) -> Inventory {
    // The OS packages take the document's operating system's ecosystem.
    if let Some((ecosystem, _)) = inventory.os.as_ref().and_then(OsRelease::ecosystem) {
        for p in &mut inventory.packages {
            if p.ecosystem.is_os() && p.ecosystem.purl_type() == ecosystem.purl_type() {
                p.ecosystem = ecosystem;
            }
        }
    }
    inventory.packages.sort();
    inventory.packages.dedup();
    inventory
}

/// The package a package URL names; none for a type Parapet has no
/// advisories for.
pub fn from_purl(text: &str, location: &str) -> Result<Option<Package>, String> {
    let purl = packageurl::PackageUrl::from_str(text).map_err(|e| e.to_string())?;
    let Some(version) = purl.version() else {
        return Err("no version".to_owned());
    };
    let namespace = purl.namespace().unwrap_or_default();
    let qualifier = |key: &str| purl.qualifiers().get(key).map(|v| v.to_string());
    let ecosystem = match (purl.ty(), namespace) {
        ("deb", "ubuntu") => Ecosystem::Ubuntu,
        ("deb", _) => Ecosystem::Debian,
        ("apk", _) => Ecosystem::Alpine,
        ("rpm", "rocky") => Ecosystem::RockyLinux,
        ("rpm", "almalinux") => Ecosystem::AlmaLinux,
        ("rpm", _) => Ecosystem::RedHat,
        ("golang", _) => Ecosystem::Go,
        ("pypi", _) => Ecosystem::PyPI,
        ("npm", _) => Ecosystem::Npm,
        ("cargo", _) => Ecosystem::CratesIo,
        ("maven", _) => Ecosystem::Maven,
        ("gem", _) => Ecosystem::RubyGems,
        ("composer", _) => Ecosystem::Packagist,
        _ => return Ok(None),
    };
    let name = match ecosystem {
        Ecosystem::Maven if !namespace.is_empty() => format!("{namespace}:{}", purl.name()),
        Ecosystem::Go | Ecosystem::Npm | Ecosystem::Packagist if !namespace.is_empty() => {
            format!("{namespace}/{}", purl.name())
        }
        _ => purl.name().to_owned(),
    };
    let version = match qualifier("epoch").filter(|e| e != "0") {
        Some(epoch) if ecosystem.is_os() => format!("{epoch}:{version}"),
        _ => version.to_owned(),
    };
    let source = ecosystem.is_os().then(|| match qualifier("upstream") {
        Some(upstream) => match upstream.split_once('@') {
            Some((n, v)) => SourcePackage {
                name: n.to_owned(),
                version: v.to_owned(),
            },
            None => SourcePackage {
                name: upstream,
                version: version.clone(),
            },
        },
        None => SourcePackage {
            name: name.clone(),
            version: version.clone(),
        },
    });
    Ok(Some(Package {
        ecosystem,
        name,
        version,
        source,
        arch: qualifier("arch"),
        location: location.to_owned(),
    }))
}

/// The CycloneDX 1.6 rating method of a CVSS vector.
fn method(vector: &str) -> &'static str {
    if vector.starts_with("CVSS:4.0") {
        "CVSSv4"
    } else if vector.starts_with("CVSS:3.1") {
        "CVSSv31"
    } else if vector.starts_with("CVSS:3.0") {
        "CVSSv3"
    } else {
        "other"
    }
}

/// A CycloneDX 1.6 document of `report`'s inventory, with its
/// vulnerabilities when `with_vulnerabilities`.
pub fn cyclonedx_document(report: &Report, with_vulnerabilities: bool) -> Value {
    let inventory = &report.inventory;
    let os = inventory.os.as_ref();
    let mut components = Vec::new();
    let mut refs = Vec::new();
    if let Some(os) = os {
        components.push(json!({
            "type": "operating-system",
            "bom-ref": "operating-system",
            "name": os.id,
            "version": os.version_id,
            "description": os.pretty_name,
        }));
        refs.push(json!("operating-system"));
    }
    for package in &inventory.packages {
        let purl = package.purl(os);
        let mut properties = vec![
            json!({"name": "parapet:ecosystem", "value": package.ecosystem.osv_name()}),
            json!({"name": "parapet:location", "value": package.location}),
        ];
        if let Some(source) = &package.source {
            properties.push(json!({"name": "parapet:source_name", "value": source.name}));
            properties.push(json!({"name": "parapet:source_version", "value": source.version}));
        }
        components.push(json!({
            "type": "library",
            "bom-ref": purl,
            "name": package.name,
            "version": package.version,
            "purl": purl,
            "properties": properties,
        }));
        refs.push(json!(purl));
    }
    let mut document = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        "version": 1,
        "metadata": {
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "tools": {"components": [{
                "type": "application",
                "name": "parapet",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {"type": "container", "bom-ref": "target", "name": inventory.target},
        },
        "components": components,
        "dependencies": [{"ref": "target", "dependsOn": refs}],
    });
    if with_vulnerabilities {
        let mut vulnerabilities: Vec<Value> = Vec::new();
        for m in &report.matches {
            let mut ratings = Vec::new();
            if let Some(rating) = &m.rating {
                let mut entry =
                    json!({"severity": rating.severity.as_str().replace("informational", "info")});
                if let Some(score) = rating.score {
                    entry["score"] = json!(score);
                }
                if let Some(vector) = &rating.vector {
                    entry["method"] = json!(method(vector));
                    entry["vector"] = json!(vector);
                }
                ratings.push(entry);
            }
            let mut vulnerability = json!({
                "bom-ref": format!("{}/{}", m.advisory, m.package.purl(os)),
                "id": m.advisory,
                "source": {"name": "OSV", "url": m.url},
                "ratings": ratings,
                "affects": [{"ref": m.package.purl(os), "versions": [
                    {"version": m.package.version, "status": "affected"}
                ]}],
                "references": m.aliases.iter().map(|a| json!({"id": a, "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{a}")}})).collect::<Vec<_>>(),
            });
            if let Some(summary) = &m.summary {
                vulnerability["description"] = json!(summary);
            }
            vulnerability["recommendation"] = json!(match &m.fixed {
                Some(fixed) => format!("Upgrade {} to {fixed} or later.", m.package.name),
                None => "No fixed version is known.".to_owned(),
            });
            vulnerabilities.push(vulnerability);
        }
        document["vulnerabilities"] = json!(vulnerabilities);
    }
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_urls_are_read_back() {
        let deb = from_purl(
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc",
            "x",
        )
        .expect("read")
        .expect("a package");
        assert_eq!(
            (deb.ecosystem, deb.name.as_str(), deb.version.as_str()),
            (Ecosystem::Debian, "libc6", "2.36-9+deb12u7")
        );
        assert_eq!(deb.advisory_name(), "glibc");
        assert_eq!(
            deb.purl(None),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&upstream=glibc"
        );
        let rpm = from_purl(
            "pkg:rpm/rocky/curl@7.76.1-29.el9_4?epoch=1&arch=x86_64",
            "x",
        )
        .expect("read")
        .expect("a package");
        assert_eq!(
            (rpm.ecosystem, rpm.version.as_str()),
            (Ecosystem::RockyLinux, "1:7.76.1-29.el9_4")
        );
        let npm = from_purl("pkg:npm/%40babel/core@7.24.0", "x")
            .expect("read")
            .expect("a package");
        assert_eq!(npm.name, "@babel/core");
        let maven = from_purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "x")
            .expect("read")
            .expect("a package");
        assert_eq!(maven.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(from_purl("pkg:hackage/base@4.0", "x"), Ok(None));
        assert!(from_purl("pkg:pypi/requests", "x").is_err());
        assert!(from_purl("not a purl", "x").is_err());
    }
}
