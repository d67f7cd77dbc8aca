//! SendCommand's answer as the aws CLI prints it: `{"Command": {...}}`, keys in the service
//! model's order (botocore's), timestamps in local ISO 8601, fields the service did not send
//! left out and fields the model does not know dropped, as botocore does. ListCommands lists the
//! same `Command` records, so a send found by its mark prints the same way.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::super::listing::NotificationConfig;
use super::super::record::CloudWatchOutputConfig;
use super::super::timestamp::EpochTime;
use crate::model::Document;

/// A document's parameters in the order given (request) or sent (answer): botocore keeps a
/// JSON object's order, and serde_json's map would sort it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderedParams(pub Vec<(String, Vec<String>)>);

impl Serialize for OrderedParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = OrderedParams;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of parameter names to lists of values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedParams, A::Error> {
                let mut all = Vec::new();
                while let Some(entry) = map.next_entry::<String, Vec<String>>()? {
                    all.push(entry);
                }
                Ok(OrderedParams(all))
            }
        }
        d.deserialize_map(InOrder)
    }
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetRecord {
    pub key: Option<String>,
    pub values: Option<Vec<String>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmConfiguration {
    pub ignore_poll_alarm_failure: Option<bool>,
    pub alarms: Option<Vec<Alarm>>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    pub name: Option<String>,
}

#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmState {
    pub name: Option<String>,
    pub state: Option<String>,
}

/// One command, as SendCommand answers it and ListCommands lists it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandRecord {
    pub command_id: Option<String>,
    pub document_name: Option<String>,
    pub document_version: Option<String>,
    pub comment: Option<String>,
    pub expires_after: Option<EpochTime>,
    pub parameters: Option<OrderedParams>,
    pub instance_ids: Option<Vec<String>>,
    pub targets: Option<Vec<TargetRecord>>,
    pub requested_date_time: Option<EpochTime>,
    pub status: Option<String>,
    pub status_details: Option<String>,
    #[serde(rename = "OutputS3Region")]
    pub output_s3_region: Option<String>,
    #[serde(rename = "OutputS3BucketName")]
    pub output_s3_bucket_name: Option<String>,
    #[serde(rename = "OutputS3KeyPrefix")]
    pub output_s3_key_prefix: Option<String>,
    pub max_concurrency: Option<String>,
    pub max_errors: Option<String>,
    pub target_count: Option<i64>,
    pub completed_count: Option<i64>,
    pub error_count: Option<i64>,
    pub delivery_timed_out_count: Option<i64>,
    pub service_role: Option<String>,
    pub notification_config: Option<NotificationConfig>,
    pub cloud_watch_output_config: Option<CloudWatchOutputConfig>,
    pub timeout_seconds: Option<i64>,
    pub alarm_configuration: Option<AlarmConfiguration>,
    pub triggered_alarms: Option<Vec<AlarmState>>,
}

/// What `aws ssm send-command` prints: the record under `Command`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SendCommandAnswer {
    pub command: Option<CommandRecord>,
}

impl Document for SendCommandAnswer {}

/// One page of ListCommands.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommandsPage {
    #[serde(default)]
    pub commands: Vec<CommandRecord>,
    pub next_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_keep_their_order_both_ways() {
        let text = r#"{"Command": {"CommandId": "c", "Parameters": {"z": ["1"], "a": ["2", "3"]},
            "Unknown": 1, "Targets": [{"Key": "tag:role", "Values": ["web"]}]}}"#;
        let answer: SendCommandAnswer = serde_json::from_str(text).unwrap();
        let command = answer.command.as_ref().unwrap();
        let names: Vec<&str> = (command.parameters.as_ref().unwrap().0.iter())
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(names, ["z", "a"]);
        let printed = serde_json::to_string_pretty(&answer).unwrap();
        assert!(printed.find("\"z\"") < printed.find("\"a\""), "{printed}");
        assert!(!printed.contains("Unknown"), "{printed}");
        assert!(printed.contains("\"Key\": \"tag:role\""), "{printed}");
    }
}
