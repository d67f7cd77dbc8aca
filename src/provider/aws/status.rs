//! What SSM's statuses mean. Terminal when either Status or StatusDetails says so.

use crate::model::StatusClass;

const TERMINAL_STATUS: [&str; 4] = ["Success", "Cancelled", "TimedOut", "Failed"];
const TERMINAL_DETAILS: [&str; 7] = [
    "Success",
    "Delivery Timed Out",
    "Execution Timed Out",
    "Failed",
    "Cancelled",
    "Undeliverable",
    "Terminated",
];

/// Terminal when either field says so (StatusDetails carries states such as Undeliverable that
/// Status folds into others). Pending, InProgress, Delayed, Cancelling and anything unknown are not.
pub fn class_of(status: &str, details: Option<&str>) -> StatusClass {
    let details = details.unwrap_or_default();
    let terminal = TERMINAL_STATUS.contains(&status) || TERMINAL_DETAILS.contains(&details);
    if terminal {
        let failed_status = matches!(status, "Cancelled" | "TimedOut" | "Failed");
        if !failed_status && (status == "Success" || details == "Success") {
            StatusClass::Success
        } else {
            StatusClass::Failed
        }
    } else if matches!(status, "Pending" | "Delayed") {
        StatusClass::Pending
    } else {
        StatusClass::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use StatusClass::*;

    #[test]
    fn terminal_states_from_status() {
        assert_eq!(class_of("Success", Some("Success")), Success);
        assert_eq!(class_of("Failed", Some("Failed")), Failed);
        assert_eq!(class_of("Cancelled", Some("Cancelled")), Failed);
        assert_eq!(class_of("TimedOut", Some("Execution Timed Out")), Failed);
        assert_eq!(class_of("TimedOut", Some("Delivery Timed Out")), Failed);
    }

    #[test]
    fn terminal_states_from_details_alone() {
        for d in [
            "Delivery Timed Out",
            "Execution Timed Out",
            "Failed",
            "Cancelled",
            "Undeliverable",
            "Terminated",
        ] {
            assert_eq!(class_of("SomethingNew", Some(d)), Failed, "{d}");
        }
        assert_eq!(class_of("SomethingNew", Some("Success")), Success);
    }

    #[test]
    fn non_terminal_states() {
        assert_eq!(class_of("Pending", Some("Pending")), Pending);
        assert_eq!(class_of("Delayed", Some("Delayed")), Pending);
        assert_eq!(class_of("InProgress", Some("In Progress")), Running);
        assert_eq!(class_of("Cancelling", Some("Cancelling")), Running);
        assert_eq!(class_of("Paused", Some("Paused")), Running);
        assert_eq!(class_of("", None), Running);
    }
}
