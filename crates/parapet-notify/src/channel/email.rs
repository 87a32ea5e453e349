//! Email through an SMTP server: STARTTLS (the default) or TLS, with
//! authentication when a user is given; one plain-text message per change
//! (its title the subject), or one listing the changes as a digest. Each
//! message's id comes from its idempotency key, so receivers drop copies.

use super::{ChannelType, Message, Sender, TIMEOUT, clip};
use crate::NotifyError;
use crate::config::ChannelConfig;
use parapet_core::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required.
    #[default]
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No encryption: only for a relay on the same host.
    None,
}

/// An email channel's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The SMTP server.
    host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25 without).
    #[serde(default)]
    port: Option<u16>,
    /// How the connection is protected.
    #[serde(default)]
    security: SmtpSecurity,
    /// The user to authenticate as.
    #[serde(default)]
    username: Option<String>,
    /// Their password.
    #[serde(default)]
    password: Option<Secret>,
    /// The sender, `Name <address>` or an address.
    from: String,
    /// The recipients.
    to: Vec<String>,
    /// A PEM certificate to trust besides the public roots (a private CA's).
    #[serde(default)]
    ca_file: Option<std::path::PathBuf>,
}

/// The email kind.
pub const TYPE: ChannelType = ChannelType {
    name: "email",
    description: "email through an SMTP server (STARTTLS or TLS, with authentication)",
    check: |config| super::settings::<Settings>(config).map(drop),
    build,
};

fn build(config: &ChannelConfig) -> Result<Box<dyn Sender>, NotifyError> {
    let settings: Settings = super::settings(config)?;
    let name = &config.name;
    let invalid = |what: String| NotifyError::Config(format!("channel {name}: {what}"));
    let address = |text: &String| {
        text.parse::<lettre::message::Mailbox>()
            .map_err(|e| invalid(format!("`{text}` is not an email address: {e}")))
    };
    let from = address(&settings.from)?;
    let to = settings
        .to
        .iter()
        .map(address)
        .collect::<Result<Vec<_>, _>>()?;
    if to.is_empty() {
        return Err(invalid("no recipient".to_owned()));
    }
    let credentials = match (&settings.username, &settings.password) {
        (Some(user), Some(password)) => {
            Some(lettre::transport::smtp::authentication::Credentials::new(
                user.clone(),
                config.read(password)?,
            ))
        }
        (None, None) => None,
        _ => {
            return Err(invalid(
                "a username needs a password, and a password a username".to_owned(),
            ));
        }
    };
    let transport = smtp_transport(&settings, credentials).map_err(invalid)?;
    Ok(Box::new(Email {
        channel: name.clone(),
        transport: Box::new(transport),
        from,
        to,
    }))
}

struct Email {
    channel: String,
    /// The connection to the SMTP server.
    transport: Box<lettre::SmtpTransport>,
    /// The sender.
    from: lettre::message::Mailbox,
    /// The recipients.
    to: Vec<lettre::message::Mailbox>,
}

impl Sender for Email {
    fn body(&self, message: &Message<'_>) -> Value {
        json!({"subject": clip(&message.title, 200), "text": message.text})
    }

    fn send(&self, _: &ureq::Agent, message: &Message<'_>) -> Result<(), NotifyError> {
        self.mail(&message.title, &message.text, message.idempotency_key)
    }

    fn send_digest(
        &self,
        _: &ureq::Agent,
        messages: &[Message<'_>],
        key: &str,
    ) -> Result<(), NotifyError> {
        let heading = format!("Parapet: {} finding changes", messages.len());
        let text: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
        self.mail(&heading, &text.join("\n----\n\n"), key)
    }
}

impl Email {
    /// Mails a plain-text message whose id comes from `key`.
    fn mail(&self, subject: &str, text: &str, key: &str) -> Result<(), NotifyError> {
        use lettre::Transport;
        let failed = |reason: String| NotifyError::Delivery {
            channel: self.channel.clone(),
            reason,
        };
        let mut email = lettre::Message::builder()
            .from(self.from.clone())
            .subject(clip(subject, 200))
            // Receivers drop a second copy of one notification by its id.
            .message_id(Some(format!("<{key}@parapet>")))
            .header(lettre::message::header::ContentType::TEXT_PLAIN);
        for recipient in &self.to {
            email = email.to(recipient.clone());
        }
        let email = email
            .body(text.to_owned())
            .map_err(|e| failed(format!("the message could not be built: {e}")))?;
        self.transport
            .send(&email)
            .map(|_| ())
            .map_err(|e| failed(e.to_string()))
    }
}

/// The SMTP connection an email channel describes.
fn smtp_transport(
    settings: &Settings,
    credentials: Option<lettre::transport::smtp::authentication::Credentials>,
) -> Result<lettre::SmtpTransport, String> {
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let host = &settings.host;
    let tls = || -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(host.to_owned());
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?;
            let certificate = Certificate::from_pem(&pem)
                .map_err(|e| format!("{} is not a PEM certificate: {e}", path.display()))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder
            .build_rustls()
            .map_err(|e| format!("TLS for {host}: {e}"))
    };
    let (tls, default_port) = match settings.security {
        SmtpSecurity::Starttls => (Tls::Required(tls()?), 587),
        SmtpSecurity::Tls => (Tls::Wrapper(tls()?), 465),
        SmtpSecurity::None => (Tls::None, 25),
    };
    let mut builder = lettre::SmtpTransport::builder_dangerous(host)
        .port(settings.port.unwrap_or(default_port))
        .tls(tls)
        .timeout(Some(TIMEOUT));
    if let Some(credentials) = credentials {
        builder = builder.credentials(credentials);
    }
    Ok(builder.build())
}
