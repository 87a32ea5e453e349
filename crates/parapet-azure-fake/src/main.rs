//! The fake of Azure Resource Manager as a program, for the demo
//! (`examples/azure-demo/run`) and for trying `parapet scan azure` by
//! hand: serves a seeded estate on a port of 127.0.0.1 until stopped,
//! having written the settings that point Parapet at it (the endpoints,
//! the certificate to trust, the service principal) to a file.

use clap::{Parser, ValueEnum};
use parapet_azure_fake::{Fake, compliant_estate, noncompliant_estate};
use std::io::Write as _;
use std::path::PathBuf;

#[derive(Clone, Copy, ValueEnum)]
enum Estate {
    /// Every type, configured as the CIS benchmark asks.
    Compliant,
    /// The same, with the changes that make every Azure rule fail.
    Noncompliant,
}

#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The estate to seed.
    #[arg(long, value_enum, default_value_t = Estate::Noncompliant)]
    estate: Estate,
    /// Its subscription id.
    #[arg(long, default_value = "0b1f6471-1bf0-4dda-aec3-cb9272f09590")]
    subscription: String,
    /// Where to write the settings (`NAME=value` lines, for a shell to
    /// export) once it listens; its certificate goes beside it
    /// (`FILE.pem`).
    #[arg(long)]
    settings: PathBuf,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let fake = Fake::start();
    let estate = match args.estate {
        Estate::Compliant => compliant_estate(&args.subscription),
        Estate::Noncompliant => noncompliant_estate(&args.subscription),
    };
    let resources = estate.len();
    {
        let mut seeded = fake.estate.lock().expect("the estate");
        for resource in estate {
            seeded.seed(resource);
        }
    }
    let pem = args.settings.with_extension("pem");
    std::fs::write(&pem, &fake.certificate)?;
    let url = format!("https://{}", fake.address);
    let settings: String = fake
        .settings(&pem)
        .iter()
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    let written = args.settings.with_extension("partial");
    std::fs::write(&written, settings)?;
    std::fs::rename(&written, &args.settings)?;
    writeln!(
        std::io::stderr(),
        "The fake of Azure Resource Manager serves {resources} resources at {url}"
    )?;
    loop {
        std::thread::park();
    }
}
