//! The fake of Cloud Asset Inventory as a program, for the demo
//! (`examples/gcp-demo/run`) and for trying `parapet scan gcp` by hand:
//! serves an estate on a port of 127.0.0.1 until stopped, having written
//! the settings that point Parapet at it (the endpoint, and the service
//! account key it signs in with) to a file.

use clap::{Parser, ValueEnum};
use parapet_gcp_fake::{Fake, compliant_estate, noncompliant_estate};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum Estate {
    /// Every type, configured as the CIS benchmark asks.
    Compliant,
    /// The same, with the changes that make every Google Cloud rule fail.
    Noncompliant,
}

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The estate to serve.
    #[arg(long, value_enum, default_value_t = Estate::Noncompliant)]
    estate: Estate,
    /// Where to write the settings (`NAME=value` lines, for a shell to
    /// export) once it listens; the service account's key goes beside it
    /// (`FILE.json`).
    #[arg(long)]
    settings: PathBuf,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let estate = match args.estate {
        Estate::Compliant => compliant_estate(),
        Estate::Noncompliant => noncompliant_estate(),
    };
    let resources = estate.assets.len();
    let fake = Fake::start(estate);
    let key = args.settings.with_extension("json");
    std::fs::copy(fake.key_file(), &key)?;
    let settings: String = fake
        .settings()
        .iter()
        .map(|(name, value)| match *name {
            "GOOGLE_APPLICATION_CREDENTIALS" => format!("{name}={}\n", key.display()),
            _ => format!("{name}={value}\n"),
        })
        .collect();
    let written = args.settings.with_extension("partial");
    std::fs::write(&written, settings)?;
    std::fs::rename(&written, &args.settings)?;
    writeln!(
        std::io::stderr(),
        "The fake of Cloud Asset Inventory serves {resources} resources at {}",
        fake.url()
    )?;
    loop {
        std::thread::park();
    }
}
