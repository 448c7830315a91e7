//! `microvet pkce`: generate, check and use PKCE (RFC 7636) code verifiers and challenges.

use std::io::Write;

use clap::{Args, Subcommand, ValueEnum};

use microvet::PolicySource;

use crate::{Ctx, FAILED, OK, report_plain};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct PkceArgs {
    #[command(subcommand)]
    pub(crate) command: Option<PkceCommand>,
    /// Length of the code verifier (43..=128).
    #[arg(long, default_value_t = 64)]
    pub(crate) length: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PkceFormat::Text, global = true)]
    pub(crate) format: PkceFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PkceFormat {
    Text,
    Json,
    /// `PKCE_CODE_VERIFIER=...` lines for a shell.
    Env,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PkceCommand {
    /// Print the S256 challenge of a code verifier.
    #[command(disable_help_flag = true)]
    Challenge {
        /// The code verifier (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        verifier: String,
    },
    /// Check a challenge against a verifier: exit 0 on match, 1 on mismatch, 2 if malformed.
    #[command(disable_help_flag = true)]
    Verify {
        /// The code verifier (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        verifier: String,
        /// The S256 code challenge (may begin with `-`).
        #[arg(allow_hyphen_values = true)]
        challenge: String,
    },
    /// Build an authorization-code request URL with PKCE S256, `state` and `nonce`.
    AuthorizeUrl(AuthorizeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AuthorizeArgs {
    /// The authorization endpoint (https).
    #[arg(long)]
    pub(crate) endpoint: String,
    /// The client ID.
    #[arg(long)]
    pub(crate) client_id: String,
    /// The redirect URI registered for the client.
    #[arg(long)]
    pub(crate) redirect_uri: String,
    /// Scopes, space-separated (may be repeated), e.g. "openid profile".
    #[arg(long)]
    pub(crate) scope: Vec<String>,
    /// An extra query parameter `name=value` (may be repeated).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, String)>,
}

pub(crate) fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not of the form NAME=VALUE")),
    }
}

pub(crate) fn pkce(ctx: &Ctx, args: PkceArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let vetter = ctx.vetter(PolicySource::Builtin, "<builtin policy>")?;
    match args.command {
        None => {
            let pair = vetter
                .pkce_generate(args.length)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "code_verifier:         {}", pair.verifier)?;
                    writeln!(out, "code_challenge:        {}", pair.challenge)?;
                    writeln!(out, "code_challenge_method: {}", pair.method)?;
                }
                PkceFormat::Json => writeln!(out, "{}", serde_json::to_string(&pair)?)?,
                PkceFormat::Env => {
                    writeln!(out, "PKCE_CODE_VERIFIER={}", pair.verifier)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE={}", pair.challenge)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD={}", pair.method)?;
                }
            }
            Ok(OK)
        }
        Some(PkceCommand::Challenge { verifier }) => {
            let challenge = vetter
                .pkce_challenge(&verifier)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => writeln!(out, "{challenge}")?,
                PkceFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::json!({ "challenge": challenge, "method": "S256" })
                )?,
                PkceFormat::Env => {
                    writeln!(out, "PKCE_CODE_CHALLENGE={challenge}")?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD=S256")?;
                }
            }
            Ok(OK)
        }
        Some(PkceCommand::Verify {
            verifier,
            challenge,
        }) => {
            let matches = vetter
                .pkce_verify(&verifier, &challenge)
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "{}", if matches { "match" } else { "mismatch" })?;
                }
                PkceFormat::Json => {
                    writeln!(out, "{}", serde_json::json!({ "match": matches }))?;
                }
                PkceFormat::Env => writeln!(out, "PKCE_MATCH={matches}")?,
            }
            Ok(if matches { OK } else { FAILED })
        }
        Some(PkceCommand::AuthorizeUrl(a)) => {
            let scopes: Vec<String> = a
                .scope
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_owned)
                .collect();
            let req = vetter
                .pkce_authorize_url(
                    &a.endpoint,
                    &a.client_id,
                    &a.redirect_uri,
                    &scopes,
                    &a.params,
                )
                .map_err(|e| report_plain(&e))?;
            match args.format {
                PkceFormat::Text => {
                    writeln!(out, "url:            {}", req.url)?;
                    writeln!(out, "code_verifier:  {}", req.verifier)?;
                    writeln!(out, "code_challenge: {}", req.challenge)?;
                    writeln!(out, "state:          {}", req.state)?;
                    if let Some(nonce) = &req.nonce {
                        writeln!(out, "nonce:          {nonce}")?;
                    }
                }
                PkceFormat::Json => writeln!(out, "{}", serde_json::to_string(&req)?)?,
                PkceFormat::Env => {
                    writeln!(out, "AUTHORIZE_URL={}", shell_quote(&req.url))?;
                    writeln!(out, "PKCE_CODE_VERIFIER={}", req.verifier)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE={}", req.challenge)?;
                    writeln!(out, "PKCE_CODE_CHALLENGE_METHOD=S256")?;
                    writeln!(out, "OAUTH_STATE={}", req.state)?;
                    if let Some(nonce) = &req.nonce {
                        writeln!(out, "OIDC_NONCE={nonce}")?;
                    }
                }
            }
            Ok(OK)
        }
    }
}

/// Single-quote a value for a POSIX shell.
pub(crate) fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
