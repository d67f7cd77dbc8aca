//! DescribeInvocationResults' records with the API's own field names, and their neutral view.
//! The json output prints these records (Output decoded), so scripts written against the API
//! or the aliyun CLI find the fields where they expect them.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::model::{Cut, Document, Envelope, Invocation, StatusClass};

/// One instance's result. Fields in the order of the API reference's example; any field the
/// service adds later is kept (`other`) rather than dropped from the json output.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvocationResult {
    pub dropped: Option<i64>,
    pub oss_output_delivery: Option<String>,
    pub invocation_status: Option<String>,
    pub instance_id: Option<String>,
    pub exit_code: Option<i64>,
    pub error_info: Option<String>,
    pub start_time: Option<String>,
    pub repeats: Option<i64>,
    pub invoke_record_status: Option<String>,
    pub finished_time: Option<String>,
    pub oss_output_uri: Option<String>,
    pub oss_output_status: Option<String>,
    pub oss_output_error_code: Option<String>,
    pub oss_output_error_info: Option<String>,
    pub username: Option<String>,
    pub container_id: Option<String>,
    pub container_name: Option<String>,
    /// Decoded text once `decode_output` has run (Base64 on the wire).
    pub output: Option<String>,
    pub launcher: Option<String>,
    pub command_id: Option<String>,
    pub error_code: Option<String>,
    pub invoke_id: Option<String>,
    pub termination_mode: Option<String>,
    pub tags: Option<serde_json::Value>,
    pub stop_time: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
    /// The output was not valid UTF-8; `output` holds it with U+FFFD in place of bad bytes.
    #[serde(skip)]
    pub lossy: bool,
    /// The output was not Base64 after all; `output` holds it as it came.
    #[serde(skip)]
    pub undecoded: bool,
}

/// Standard Base64, with or without the trailing `=`: the service pads, but nothing is gained by
/// refusing output that is not.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The statuses after which nothing changes on that instance.
pub fn invocation_status_class(status: &str) -> StatusClass {
    match status {
        "Success" => StatusClass::Success,
        "Failed" | "Error" | "Timeout" | "Cancelled" | "Terminated" | "Invalid" | "Aborted" => {
            StatusClass::Failed
        }
        "Pending" | "Scheduled" => StatusClass::Pending,
        // Running, Stopping, and anything new: never taken for finished.
        _ => StatusClass::Running,
    }
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_ref().filter(|v| !v.is_empty()).cloned()
}

impl InvocationResult {
    /// Output arrives Base64-encoded (asked for, so that any bytes survive JSON); decoded here.
    /// Text that is not Base64 (a service that ignored the request) is kept as it came.
    pub fn decode_output(&mut self) {
        let Some(encoded) = self.output.take() else {
            return;
        };
        match BASE64.decode(encoded.trim()) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.output = Some(text),
                Err(e) => {
                    self.lossy = true;
                    self.output = Some(String::from_utf8_lossy(e.as_bytes()).into_owned());
                }
            },
            Err(_) => {
                self.undecoded = true;
                self.output = Some(encoded);
            }
        }
    }

    /// A periodic task (or one run at every boot) waiting for its next run: it may never end
    /// by itself. One that is running is not judged yet: its run may be the last (a schedule
    /// whose time is up ends in Success or Failed like a one-time task).
    pub fn is_periodic(&self) -> bool {
        self.invocation_status.as_deref() == Some("Scheduled")
    }

    /// What the output shown is not: complete, decoded, valid UTF-8.
    fn notes(&self, dropped: i64) -> Vec<String> {
        let mut notes = Vec::new();
        if dropped > 0 {
            let place = non_empty(&self.oss_output_uri)
                .map(|uri| format!("; the complete output is in {uri}"))
                .unwrap_or_default();
            notes.push(format!(
                "output truncated by {dropped} bytes{place} (Dropped): the service keeps the \
                 first 24 KB"
            ));
        }
        if self.undecoded {
            notes.push(
                "the output was not Base64 as requested; shown as the service sent it".into(),
            );
        }
        if self.lossy {
            notes.push("the output is not valid UTF-8; invalid bytes are shown as U+FFFD".into());
        }
        notes
    }

    /// "ErrorCode: ErrorInfo", or whichever of the two the service gave.
    fn error_text(&self) -> Option<String> {
        match (non_empty(&self.error_code), non_empty(&self.error_info)) {
            (Some(c), Some(i)) => Some(format!("{c}: {i}")),
            (c, i) => c.or(i),
        }
    }

    pub fn into_invocation(self) -> Invocation {
        let status = self.invocation_status.clone().unwrap_or_default();
        let dropped = self.dropped.unwrap_or(0);
        let oss = non_empty(&self.oss_output_uri);
        Invocation {
            command_id: self.invoke_id.clone().unwrap_or_default(),
            instance_id: self.instance_id.clone().unwrap_or_default(),
            document: non_empty(&self.command_id),
            status_details: self.error_text(),
            response_code: self.exit_code,
            started: non_empty(&self.start_time),
            ended: non_empty(&self.finished_time),
            stdout_url: oss.clone(),
            // ssmres does not read OSS: the place is named, and marked unread.
            stdout_cut: (dropped > 0).then_some(Cut {
                rest_at: oss,
                unread: true,
            }),
            repeats: self.repeats,
            periodic: self.is_periodic(),
            dropped_bytes: u64::try_from(dropped).unwrap_or(0),
            notes: self.notes(dropped),
            class: invocation_status_class(&status),
            status,
            doc: Box::new(self),
            ..Invocation::default()
        }
    }
}

impl Document for InvocationResult {
    /// Cloud Assistant keeps one combined output.
    fn stdout(&self) -> &str {
        self.output.as_deref().unwrap_or_default()
    }
}

/// One page of DescribeInvocationResults.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    #[serde(default)]
    pub request_id: Option<String>,
    pub invocation: Option<ResultsPage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultsPage {
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub invocation_results: Option<Results>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Results {
    #[serde(default)]
    pub invocation_result: Vec<InvocationResult>,
}

/// The json output: the API's own envelope with every page's results in one list, so
/// `.Invocation.InvocationResults.InvocationResult[]` works as on a single page.
#[derive(Debug)]
pub struct DescribeInvocationResults;

impl Envelope for DescribeInvocationResults {
    fn wrap<'a>(
        &self,
        records: Vec<&'a dyn Document>,
        total_count: Option<u64>,
    ) -> Box<dyn erased_serde::Serialize + 'a> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Outer<'a> {
            invocation: Inner<'a>,
        }
        #[serde_with::skip_serializing_none]
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Inner<'a> {
            total_count: Option<u64>,
            invocation_results: Results<'a>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Results<'a> {
            invocation_result: Vec<&'a dyn Document>,
        }
        Box::new(Outer {
            invocation: Inner {
                total_count,
                invocation_results: Results {
                    invocation_result: records,
                },
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_status_has_its_class() {
        for s in [
            "Failed",
            "Error",
            "Timeout",
            "Cancelled",
            "Terminated",
            "Invalid",
            "Aborted",
        ] {
            assert_eq!(invocation_status_class(s), StatusClass::Failed, "{s}");
        }
        assert_eq!(invocation_status_class("Success"), StatusClass::Success);
        for s in [
            "Pending",
            "Running",
            "Stopping",
            "Scheduled",
            "SomethingNew",
        ] {
            assert!(!invocation_status_class(s).is_terminal(), "{s}");
        }
    }

    #[test]
    fn output_is_decoded_and_bad_utf8_is_flagged() {
        let mut r = InvocationResult {
            output: Some("aMOpbGxvIOKckwo=".into()),
            ..Default::default()
        };
        r.decode_output();
        assert_eq!(r.output.as_deref(), Some("héllo ✓\n"));
        assert!(!r.lossy);
        let mut r = InvocationResult {
            output: Some(base64::engine::general_purpose::STANDARD.encode(b"ok \xff\xfe end")),
            ..Default::default()
        };
        r.decode_output();
        assert_eq!(r.output.as_deref(), Some("ok \u{fffd}\u{fffd} end"));
        assert!(r.lossy);
        let mut r = InvocationResult {
            output: Some("aGk".into()),
            ..Default::default()
        };
        r.decode_output();
        assert_eq!(
            (r.output.as_deref(), r.undecoded),
            (Some("hi"), false),
            "no padding"
        );
        let mut r = InvocationResult {
            output: Some("plain text!".into()),
            ..Default::default()
        };
        r.decode_output();
        assert_eq!(
            (r.output.as_deref(), r.undecoded),
            (Some("plain text!"), true)
        );
    }

    #[test]
    fn json_keeps_the_api_names_and_unknown_fields() {
        let mut r: InvocationResult = serde_json::from_str(
            r#"{"InstanceId":"i-1","InvocationStatus":"Success","ExitCode":0,"Dropped":0,
                "Output":"aGkK","NewField":{"a":1}}"#,
        )
        .unwrap();
        r.decode_output();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"Dropped":0,"InvocationStatus":"Success","InstanceId":"i-1","ExitCode":0,"Output":"hi\n","NewField":{"a":1}}"#
        );
    }

    #[test]
    fn the_neutral_view() {
        let inv = InvocationResult {
            invoke_id: Some("t-1".into()),
            instance_id: Some("i-1".into()),
            invocation_status: Some("Failed".into()),
            error_code: Some("ExitCodeNonzero".into()),
            error_info: Some("The command execution exit code is not zero".into()),
            exit_code: Some(3),
            dropped: Some(120),
            oss_output_uri: Some(String::new()),
            ..Default::default()
        }
        .into_invocation();
        assert_eq!(inv.class, StatusClass::Failed);
        assert_eq!(
            inv.status_details.as_deref(),
            Some("ExitCodeNonzero: The command execution exit code is not zero")
        );
        assert_eq!(inv.dropped_bytes, 120);
        assert_eq!(
            inv.stdout_cut,
            Some(Cut {
                rest_at: None,
                unread: true
            })
        );
    }
}
