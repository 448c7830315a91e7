//! SARIF 2.1.0 output for code-scanning tools (`microvet check --format sarif`).
//!
//! Built from the component's own outputs — the rule catalogue (`rules_json`) and the
//! canonical verdict JSON of each file — so nothing here re-implements a check. Levels:
//! critical/high → `error`, medium → `warning`, low/info → `note`; `security-severity`
//! (as GitHub code scanning reads it) follows the microvet severity.

use serde_json::{Value, json};

/// SARIF level for a microvet severity.
pub fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

fn security_severity(severity: &str) -> &'static str {
    match severity {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        _ => "1.0",
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// One SARIF log with one run covering every vetted file.
///
/// `files` are `(uri, verdict)` pairs where `verdict` is the canonical verdict JSON value.
pub fn log(rules_json: &str, engine: &str, files: &[(String, Value)]) -> Value {
    let catalogue: Vec<Value> = serde_json::from_str(rules_json).unwrap_or_default();
    let rules: Vec<Value> = catalogue
        .iter()
        .map(|r| {
            let severity = text(r, "severity");
            let references: Vec<Value> = r
                .get("references")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let refs_md: String = references
                .iter()
                .filter_map(Value::as_str)
                .map(|s| format!("\n- {s}"))
                .collect();
            json!({
                "id": text(r, "id"),
                "name": text(r, "name"),
                "shortDescription": { "text": text(r, "summary") },
                "fullDescription": { "text": text(r, "what") },
                "help": {
                    "text": format!("{}\n\nWhy: {}", text(r, "fix"), text(r, "why")),
                    "markdown": format!("**Fix:** {}\n\n**Why it matters:** {}\n\n**References:**{}", text(r, "fix"), text(r, "why"), refs_md),
                },
                "defaultConfiguration": { "level": level(&severity) },
                "properties": {
                    "tags": ["security", text(r, "category")],
                    "security-severity": security_severity(&severity),
                    "microvet-severity": severity,
                },
            })
        })
        .collect();
    let index_of = |id: &str| {
        catalogue
            .iter()
            .position(|r| r.get("id").and_then(Value::as_str) == Some(id))
    };

    let mut results = Vec::new();
    let mut verdicts = Vec::new();
    for (uri, verdict) in files {
        verdicts.push(json!({
            "uri": uri,
            "decision": verdict.get("decision").cloned().unwrap_or(Value::Null),
            "risk_score": verdict.pointer("/risk/score").cloned().unwrap_or(Value::Null),
            "manifest_sha256": verdict.get("manifest_sha256").cloned().unwrap_or(Value::Null),
            "policy_sha256": verdict.get("policy_sha256").cloned().unwrap_or(Value::Null),
        }));
        let findings = verdict.get("findings").and_then(Value::as_array);
        let waived = verdict.get("waived").and_then(Value::as_array);
        for f in findings.into_iter().chain(waived).flatten() {
            let rule = text(f, "rule");
            let severity = text(f, "severity");
            let mut location = json!({
                "physicalLocation": { "artifactLocation": { "uri": uri } },
                "logicalLocations": [{ "fullyQualifiedName": text(f, "path"), "kind": "element" }],
            });
            if let Some(line) = f.get("line").and_then(Value::as_u64).filter(|l| *l >= 1)
                && let Some(pl) = location
                    .get_mut("physicalLocation")
                    .and_then(Value::as_object_mut)
            {
                pl.insert("region".into(), json!({ "startLine": line }));
            }
            let mut message = text(f, "message");
            if let Some(fix) = f.get("fix") {
                message.push_str(&format!(" (fix: {})", text(fix, "description")));
            }
            let mut result = json!({
                "ruleId": rule,
                "level": level(&severity),
                "message": { "text": message },
                "locations": [location],
                "properties": { "microvet-severity": severity, "pointer": text(f, "path") },
            });
            if let (Some(i), Some(obj)) = (index_of(&rule), result.as_object_mut()) {
                obj.insert("ruleIndex".into(), json!(i));
            }
            if let (Some(fix), Some(props)) = (
                f.get("fix"),
                result.get_mut("properties").and_then(Value::as_object_mut),
            ) {
                props.insert("fix".into(), fix.clone());
            }
            // A waived finding is a result with an accepted suppression (SARIF 2.1.0
            // §3.35): `kind` external (the waiver lives in the policy, not in the file).
            if let (Some(waiver), Some(obj)) = (f.get("waiver"), result.as_object_mut()) {
                obj.insert(
                    "suppressions".into(),
                    json!([{
                        "kind": "external",
                        "status": "accepted",
                        "justification": format!(
                            "{} (waiver {}, approved by {}, until {})",
                            text(waiver, "reason"),
                            text(waiver, "id"),
                            text(waiver, "approved_by"),
                            text(waiver, "expires")
                        ),
                        "properties": { "waiver": waiver },
                    }]),
                );
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "microvet",
                    "fullName": engine,
                    "version": engine.rsplit(' ').next().unwrap_or(engine),
                    "informationUri": "https://example.invalid/microvet",
                    "rules": rules,
                }
            },
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": { "verdicts": verdicts },
        }]
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn maps_findings_to_results_with_lines_and_rule_index() {
        let rules = r#"[{"id":"MV-A-001","name":"a","category":"scopes","severity":"high","summary":"s","what":"w","why":"y","example":"e","fix":"f","references":["RFC 9700 §2.1"]}]"#;
        let verdict = json!({"decision":"remediate","risk":{"score":10},"findings":[
            {"rule":"MV-A-001","severity":"high","path":"/x","line":3,"message":"m","fix":{"op":"remove","path":"/x","description":"d"}},
            {"rule":"MV-B-002","severity":"low","path":"/y","message":"n"}]});
        let log = log(rules, "microvet 0.1.0", &[("m.yaml".into(), verdict)]);
        let r = &log["runs"][0]["results"];
        assert_eq!(r[0]["level"], "error");
        assert_eq!(r[0]["ruleIndex"], 0);
        assert_eq!(
            r[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            3
        );
        assert!(
            r[1]["locations"][0]["physicalLocation"]
                .get("region")
                .is_none()
        );
        assert_eq!(r[1]["level"], "note");
        assert_eq!(log["runs"][0]["tool"]["driver"]["version"], "0.1.0");
        assert!(r[0].get("suppressions").is_none());
    }

    #[test]
    fn waived_findings_are_results_with_an_accepted_suppression() {
        let verdict = json!({"decision":"approve","findings":[],"waived":[
            {"rule":"MV-A-001","severity":"high","path":"/x","message":"m",
             "waiver":{"id":"WVR-1","reason":"vendor review done","approved_by":"ciso@example.com","expires":"2027-01-31"}}]});
        let log = log("[]", "microvet 0.1.0", &[("m.yaml".into(), verdict)]);
        let r = &log["runs"][0]["results"];
        assert_eq!(r.as_array().unwrap().len(), 1);
        let s = &r[0]["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["status"], "accepted");
        assert_eq!(
            s["justification"],
            "vendor review done (waiver WVR-1, approved by ciso@example.com, until 2027-01-31)"
        );
        assert_eq!(s["properties"]["waiver"]["id"], "WVR-1");
    }
}
