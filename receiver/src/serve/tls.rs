//! TLS listener (RFC 5425): certificate and key from PEM files, TLS 1.2 and 1.3, optional
//! client-certificate verification against a CA (mutual TLS). The configuration is reloaded on
//! SIGHUP; open connections keep the configuration they were accepted with. RELP over TLS
//! runs on the same configuration (certificate, key, client CA) inside these connections.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::accept::accept_loop;
use super::intake::Intake;
use super::limits::{ConnLimits, ConnectionSlots};
use crate::error::Error;
use crate::stats::Stats;

/// Where the TLS material is.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
    /// CA certificates that client certificates must chain to (mutual TLS), if any.
    pub client_ca: Option<PathBuf>,
}

/// The configuration new connections get; replaced on SIGHUP.
pub type SharedConfig = Arc<RwLock<Arc<ServerConfig>>>;

fn file_err(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("cannot read {what} {}: {e}", path.display()))
}

/// Builds a server configuration from the files.
pub fn load(files: &TlsFiles) -> Result<Arc<ServerConfig>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_err("certificate", &files.cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err("certificate", &files.cert, e))?;
    if certs.is_empty() {
        return Err(file_err(
            "certificate",
            &files.cert,
            "no certificate in the file",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_err("private key", &files.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Usage(format!("TLS setup: {e}")))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca).map_err(|e| file_err("client CA", ca, e))? {
                let c = c.map_err(|e| file_err("client CA", ca, e))?;
                roots.add(c).map_err(|e| file_err("client CA", ca, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| file_err("client CA", ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let cfg = builder.with_single_cert(certs, key).map_err(|e| {
        Error::Usage(format!(
            "certificate {} and key {} do not fit: {e}",
            files.cert.display(),
            files.key.display()
        ))
    })?;
    Ok(Arc::new(cfg))
}

/// Reloads the configuration on every SIGHUP until shutdown; a failed reload keeps the old one.
pub async fn reload_on_sighup(files: TlsFiles, shared: SharedConfig, shutdown: CancellationToken) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::warn!("cannot watch SIGHUP: certificates will not be reloaded");
        return;
    };
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = hup.recv() => {}
        }
        match load(&files) {
            Ok(cfg) => {
                if let Ok(mut slot) = shared.write() {
                    *slot = cfg;
                }
                tracing::info!(cert = %files.cert.display(), "reloaded TLS certificate");
            }
            Err(e) => tracing::error!("TLS reload failed, keeping the old certificate: {e}"),
        }
    }
}

/// What runs inside a TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inside {
    /// RFC 5425 syslog frames.
    Syslog,
    /// A RELP session.
    Relp,
}

/// Accepts TLS connections until shutdown, then waits for them to drain.
pub async fn run(
    (addr, listener): (SocketAddr, TcpListener),
    shared: SharedConfig,
    intake: Intake,
    allow: Vec<picket_store::Cidr>,
    slots: ConnectionSlots,
    limits: ConnLimits,
    inside: Inside,
) {
    match inside {
        Inside::Syslog => tracing::info!(%addr, "listening on tls"),
        Inside::Relp => tracing::info!(%addr, "listening on secure relp"),
    }
    let stats = intake.stats.clone();
    let shutdown = intake.shutdown.clone();
    accept_loop(
        listener,
        &allow,
        &slots,
        &stats,
        &shutdown,
        |stream, peer| {
            // Each connection keeps the configuration it was accepted with, across reloads.
            let acceptor = shared
                .read()
                .ok()
                .map(|c| tokio_rustls::TlsAcceptor::from(c.clone()));
            let intake = intake.clone();
            async move {
                let Some(acceptor) = acceptor else { return };
                let stats = intake.stats.clone();
                let handshake =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                match handshake {
                    Ok(Ok(tls)) => {
                        Stats::inc(&stats.connections_open);
                        match inside {
                            Inside::Syslog => {
                                super::tcp::connection(
                                    tls,
                                    peer,
                                    &intake,
                                    &stats.tls_received,
                                    limits,
                                )
                                .await
                            }
                            Inside::Relp => {
                                super::relp::connection(tls, peer, &intake, limits).await
                            }
                        }
                        Stats::dec(&stats.connections_open);
                    }
                    Ok(Err(e)) => {
                        Stats::inc(&stats.tls_refused);
                        stats
                            .tls_refused_log
                            .note_why(peer, &format!("TLS handshake failed: {e}"));
                    }
                    Err(_) => {
                        Stats::inc(&stats.tls_refused);
                        stats
                            .tls_refused_log
                            .note_why(peer, "TLS handshake timed out");
                    }
                }
            }
        },
    )
    .await;
}

/// A client that has not finished its handshake by then is dropped (it holds a slot).
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
