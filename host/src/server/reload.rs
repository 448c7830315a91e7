//! Policy reloading: the policies directory is looked at on a timer (its fingerprint:
//! names, modification times and sizes) and reloaded when it changed, or at once on
//! `SIGHUP` (see [`super::policies`] for what a reload keeps in force).

use std::sync::Arc;
use std::time::Duration;

use super::{App, policies};

/// Look for changed policy files every `interval` (`None`: never) and reload them; reload
/// them all on `SIGHUP`, changed or not.
pub(super) async fn reload_loop(app: Arc<App>, interval: Option<Duration>) {
    #[cfg(unix)]
    let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; policies reload on file changes only");
            None
        }
    };
    let mut ticker = interval.map(|d| {
        let mut t = tokio::time::interval(d);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        t
    });
    loop {
        let tick = async {
            match ticker.as_mut() {
                Some(t) => {
                    t.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        let hangup = async {
            match hup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hangup = std::future::pending::<()>();
        let forced = tokio::select! {
            () = tick => false,
            () = hangup => true,
        };
        if forced {
            tracing::info!("SIGHUP: reloading the policies");
        }
        reload(&app, forced).await;
    }
}

/// Reload the policies if the directory changed (or `forced`, on SIGHUP).
async fn reload(app: &Arc<App>, forced: bool) {
    let Some(dir) = app.policies_dir.clone() else {
        return;
    };
    let worker = Arc::clone(app);
    let loaded = tokio::task::spawn_blocking(move || {
        let fp = policies::fingerprint(&dir);
        {
            let mut last = worker.fingerprint.lock().unwrap_or_else(|e| e.into_inner());
            if !forced && *last == fp {
                return None;
            }
            *last = fp;
        }
        let current = worker.policies.current();
        Some(policies::load(
            &worker.base,
            worker.waivers.as_deref(),
            Some(&dir),
            &current,
        ))
    })
    .await;
    let (set, report) = match loaded {
        Ok(None) => return,
        Ok(Some(Ok(x))) => x,
        Ok(Some(Err(e))) => {
            tracing::error!(error = %e, "policy reload failed; the policies in force stay");
            app.metrics.reload(false);
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "policy reload failed; the policies in force stay");
            app.metrics.reload(false);
            return;
        }
    };
    for (name, sha) in &report.loaded {
        tracing::info!(policy = %name, sha256 = %sha, "policy loaded");
    }
    for (name, file, error) in &report.refused {
        let kept = set.get(name).map(|p| p.vetter.policy_sha256().to_owned());
        tracing::error!(
            policy = %name,
            file = %file.display(),
            error = %error,
            in_force_sha256 = kept.as_deref().unwrap_or("none"),
            "policy refused; the previous version (if any) stays in force"
        );
    }
    app.metrics.reload(report.refused.is_empty());
    app.policies.replace(set);
}
