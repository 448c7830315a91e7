//! The shadow policy (`serve --shadow-policy NAME`): every vet is vetted a second time
//! under the shadow policy, after the answer is ready and without changing it (same status,
//! same bytes). When the shadow verdict disagrees with the answered one — another decision,
//! or another set of rule IDs — the disagreement is counted in `/metrics`
//! (`microvet_shadow_disagreements_total{from,to}`, `from` the answered decision, `to` the
//! shadow's; `from` = `to` when only the rules differ) and, with a decision log, written to
//! it as a line of the shadow policy marked `shadow` (see [`crate::decision_log::Shadow`]).
//!
//! The shadow vet runs on the blocking pool and nobody waits for it. At most
//! [`Shadow::max_in_flight`] shadow vets (the number of vetting threads) are queued or
//! running at once: over that a shadow vet is skipped and counted
//! (`microvet_shadow_skipped_total`), so a burst never queues work or memory behind the
//! answers, and a vet that needs the blocking pool (a large or cold one) never waits behind
//! more than that many shadow vets. Under sustained full load the shadow policy therefore
//! sees a sample of the requests, not all of them. A request that names the shadow policy
//! itself (`?policy=NAME`) is not shadowed.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use super::App;
use super::metrics::decision_index;
use crate::decision_log::{Record, Shadow as ShadowMark};
use crate::{Decision, InputKind};

/// The shadow policy of a server and its counters.
pub(crate) struct Shadow {
    /// The name of the shadow policy (in the policies directory).
    pub(crate) policy: String,
    permits: Arc<Semaphore>,
    max_in_flight: usize,
    /// Shadow vets done (agreeing or not).
    pub(crate) vets: AtomicU64,
    /// Shadow vets skipped: [`Shadow::max_in_flight`] were already queued or running.
    pub(crate) skipped: AtomicU64,
    /// Shadow vets that failed (a limit hit, a trap, the policy gone).
    pub(crate) errors: AtomicU64,
    /// Disagreements whose decision log line could not be written (shared with the
    /// writer thread's acknowledgement, which must not hold the server itself).
    pub(crate) log_failures: Arc<AtomicU64>,
    /// [answered decision][shadow decision]
    pub(crate) disagreements: [[AtomicU64; 4]; 4],
}

impl Shadow {
    pub(crate) fn new(policy: String, max_in_flight: usize) -> Shadow {
        let max_in_flight = max_in_flight.max(1);
        Shadow {
            policy,
            permits: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            vets: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            log_failures: Arc::new(AtomicU64::new(0)),
            disagreements: Default::default(),
        }
    }

    /// Shadow vets queued or running at most.
    pub(crate) fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Shadow vets queued or running now.
    pub(crate) fn in_flight(&self) -> usize {
        self.max_in_flight
            .saturating_sub(self.permits.available_permits())
    }

    fn disagreement(&self, from: Decision, to: Decision) {
        if let Some(c) = self
            .disagreements
            .get(decision_index(from))
            .and_then(|row| row.get(decision_index(to)))
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whether two verdicts of the same input disagree: another decision, or another set of
/// rule IDs.
pub(crate) fn disagree(answered: (Decision, &[String]), shadow: (Decision, &[String])) -> bool {
    if answered.0 != shadow.0 {
        return true;
    }
    let a: BTreeSet<&str> = answered.1.iter().map(String::as_str).collect();
    let b: BTreeSet<&str> = shadow.1.iter().map(String::as_str).collect();
    a != b
}

/// What the shadow vet needs of the answered one.
pub(crate) struct Answered {
    pub(crate) request_id: Arc<str>,
    pub(crate) kind: InputKind,
    /// The policy the request was answered under.
    pub(crate) policy: String,
    /// Whether the server's waivers file applied to the answer (`?waivers=`): the shadow
    /// vet is made the same way, so the two differ only by their policy.
    pub(crate) waivers: bool,
    pub(crate) decision: Decision,
    pub(crate) rules: Vec<String>,
}

/// Start the shadow vet of `text` (answered as `answered`) on the blocking pool, if the
/// server has a shadow policy, the request did not name it, and a shadow slot is free.
/// Returns at once.
pub(crate) fn spawn(app: &Arc<App>, text: String, answered: Answered) {
    let Some(shadow) = &app.shadow else {
        return;
    };
    if answered.policy == shadow.policy {
        return;
    }
    let Ok(permit) = Arc::clone(&shadow.permits).try_acquire_owned() else {
        shadow.skipped.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let app = Arc::clone(app);
    drop(tokio::task::spawn_blocking(move || {
        run(&app, &text, &answered);
        drop(permit);
    }));
}

fn run(app: &Arc<App>, text: &str, answered: &Answered) {
    let Some(shadow) = &app.shadow else {
        return;
    };
    let vetter = app
        .policies
        .current()
        .get(&shadow.policy)
        .and_then(|named| named.vetter(answered.waivers).cloned());
    let Some(vetter) = vetter else {
        shadow.errors.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let summary = match vetter.vet_summary(answered.kind, text) {
        Ok(s) => s,
        Err(e) => {
            shadow.errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(request_id = %answered.request_id, shadow_policy = %shadow.policy, error = %e, "shadow vet failed (the answer was not affected)");
            return;
        }
    };
    shadow.vets.fetch_add(1, Ordering::Relaxed);
    if !disagree(
        (answered.decision, &answered.rules),
        (summary.decision, &summary.rules),
    ) {
        return;
    }
    shadow.disagreement(answered.decision, summary.decision);
    tracing::debug!(
        request_id = %answered.request_id,
        policy = %answered.policy,
        decision = answered.decision.as_str(),
        shadow_policy = %shadow.policy,
        shadow_decision = summary.decision.as_str(),
        "shadow policy disagrees"
    );
    if let Some(log) = &app.log {
        let record = Record::from_summary(
            &answered.request_id,
            answered.kind,
            &shadow.policy,
            &summary,
        );
        let mark = ShadowMark {
            answered_policy: answered.policy.clone(),
            answered_decision: answered.decision.as_str().to_owned(),
        };
        let failures = Arc::clone(&shadow.log_failures);
        log.append_shadow(record, mark, move |r| {
            if let Err(e) = r {
                failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "cannot write a shadow disagreement to the decision log");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::disagree;
    use crate::Decision;

    #[test]
    fn a_decision_or_a_rule_set_that_differs_is_a_disagreement() {
        let rules = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let a = rules(&["MV-A-001", "MV-B-001"]);
        let b = rules(&["MV-B-001", "MV-A-001"]);
        let c = rules(&["MV-A-001"]);
        assert!(!disagree((Decision::Approve, &a), (Decision::Approve, &b)));
        assert!(disagree((Decision::Approve, &a), (Decision::Remediate, &b)));
        assert!(disagree((Decision::Approve, &a), (Decision::Approve, &c)));
        assert!(disagree((Decision::Reject, &c), (Decision::Reject, &a)));
    }
}
