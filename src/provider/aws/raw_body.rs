//! Keeps a copy of the response body. The SDK's typed output cannot tell an absent field from
//! its default (`ResponseCode` is a plain i32, `CloudWatchOutputEnabled` a plain bool), but the
//! aws CLI prints exactly the fields the service sent, so the JSON we print is read from here.

use std::sync::{Arc, Mutex};

use aws_sdk_ssm::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_ssm::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ssm::error::BoxError;

#[derive(Debug, Clone, Default)]
pub struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    pub fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().ok().and_then(|mut b| b.take())
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "ssmres::RawBody"
    }

    // After deserialisation the body of a non-streaming response is in memory; copying it
    // costs little next to the call (at most a few hundred KB: 32,000 characters of output,
    // some of them escaped).
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let (Some(bytes), Ok(mut slot)) = (context.response().body().bytes(), self.0.lock()) {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}
