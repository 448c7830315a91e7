//! MV-WAIVER-002 waiver-stale
use super::prelude::*;

pub static RULE: Rule = Rule {
    id: "MV-WAIVER-002",
    name: "waiver-stale",
    category: Category::Waivers,
    severity: Severity::Info,
    summary: "a waiver was granted for another version of this manifest",
    what: "That a waiver naming this app was granted for these exact manifest bytes (`manifest_sha256`). A waiver whose hash differs does not apply; one whose hash matches but whose `app` does not is refused too.",
    why: "A waiver accepts a risk someone looked at. Micro Apps, Macro Risk's registration workflow re-vets every change of an app; a waiver that followed the app through a change would approve what nobody reviewed, so it is bound to the bytes it was granted for.",
    example: "# policy.yaml\nwaivers:\n  list:\n    - { id: WVR-7, rule: MV-SINK-003, app: quick-report, manifest_sha256: 9f2c..., ... }\n# quick-report's manifest has changed since",
    fix: "Ask for the waiver again for the new manifest (its `manifest_sha256` is in the verdict), or fix the finding.",
    references: &[
        "Micro Apps, Macro Risk (2026): registration workflow, re-vet on change",
        "policy: waivers.list[].manifest_sha256",
    ],
    relational: false,
    check: super::waiver_pass,
};
