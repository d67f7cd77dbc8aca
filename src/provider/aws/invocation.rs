//! One invocation: GetCommandInvocation, and for a document with several steps (which that call
//! answers with InvalidPluginName when no step is named) the listing that tells its progress,
//! then each step's own result once it has ended.

use std::any::Any;

use super::AwsProvider;
use super::call::call;
use super::listing::ListedInvocation;
use super::record::CommandInvocation;
use crate::error::Error;
use crate::model::Invocation;
use crate::provider::contract::{FetchError, Fetched, InvocationKey, ListFilter};

/// One GetCommandInvocation's answer.
enum Got {
    Found(Box<Invocation>),
    NotFound,
    InvalidPluginName,
}

impl AwsProvider {
    async fn get_invocation(&self, key: &InvocationKey) -> Result<Got, FetchError> {
        let step = key.plugin_name.as_deref().unwrap_or_default();
        let result = call("GetCommandInvocation", &format!("plugin={step}"), |body| {
            self.client
                .get_command_invocation()
                .command_id(&key.command_id)
                .instance_id(&key.instance_id)
                .set_plugin_name(key.plugin_name.clone())
                .customize()
                .interceptor(body)
                .send()
        })
        .await;
        match result {
            Ok(answer) => {
                let record: CommandInvocation = answer.record()?;
                Ok(Got::Found(Box::new(record.into_invocation())))
            }
            // A document with several steps asked for without one, a step it does not have,
            // or (for the first seconds after SendCommand) an invocation not visible yet.
            Err(refused) if refused.is("InvalidPluginName") => Ok(Got::InvalidPluginName),
            Err(refused) if refused.is("InvocationDoesNotExist") => Ok(Got::NotFound),
            Err(refused) => Err(refused.failure),
        }
    }

    fn multi_step_key(key: &InvocationKey) -> (String, String) {
        (key.command_id.clone(), key.instance_id.clone())
    }

    fn is_multi_step(&self, key: &InvocationKey) -> bool {
        self.multi_step
            .lock()
            .is_ok_and(|set| set.contains(&Self::multi_step_key(key)))
    }

    /// The invocation with its steps, from ListCommandInvocations; None: not listed (yet).
    async fn listed(&self, key: &InvocationKey) -> Result<Option<ListedInvocation>, FetchError> {
        let query = ListFilter {
            run_id: Some(key.command_id.clone()),
            instance_id: Some(key.instance_id.clone()),
            details: true,
            ..ListFilter::default()
        };
        match self.list_invocations(&query).await {
            Ok(listed) => Ok(listed.into_iter().next()),
            // Not listed yet: as good as an empty listing.
            Err(FetchError::Fatal(Error::NotFound(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GetCommandInvocation said InvalidPluginName: the listing tells whether the invocation is
    /// not visible yet, has several steps, or lacks the step asked for.
    async fn after_invalid_plugin_name(
        &self,
        key: &InvocationKey,
    ) -> Result<Fetched<Box<Invocation>>, FetchError> {
        let Some(listed) = self.listed(key).await? else {
            return Ok(Fetched::NotVisible);
        };
        let names = listed.step_names();
        match &key.plugin_name {
            Some(wanted) if !names.is_empty() && !names.contains(wanted) => {
                Err(FetchError::Fatal(Error::NotFound(format!(
                    "this invocation has no step {wanted:?}; its steps are: {}",
                    names.join(", ")
                ))))
            }
            // Listed with that step already: GetCommandInvocation lags the listing.
            Some(_) => Ok(Fetched::NotVisible),
            // Listed, but no step reported yet (a node that has not picked it up, or one it
            // never reached: Undeliverable): its status is followed until the steps appear.
            None if names.is_empty() => Ok(Fetched::Found(Box::new(listed.into_invocation()))),
            // One step: GetCommandInvocation will answer for it shortly.
            None if names.len() == 1 => Ok(Fetched::NotVisible),
            None => {
                if let Ok(mut set) = self.multi_step.lock() {
                    set.insert(Self::multi_step_key(key));
                }
                self.with_steps(listed, key, false).await
            }
        }
    }

    /// One look, as a wait polls: a document with several steps is followed through its
    /// listing alone (one call a round), and its steps are fetched once it has ended.
    pub async fn fetch(&self, key: &InvocationKey) -> Result<Fetched<Box<Invocation>>, FetchError> {
        if key.plugin_name.is_none() && self.is_multi_step(key) {
            return match self.listed(key).await? {
                Some(listed) => self.with_steps(listed, key, false).await,
                None => Ok(Fetched::NotVisible),
            };
        }
        match self.get_invocation(key).await? {
            Got::Found(invocation) => Ok(Fetched::Found(invocation)),
            Got::NotFound => Ok(Fetched::NotVisible),
            Got::InvalidPluginName => self.after_invalid_plugin_name(key).await,
        }
    }

    /// One look for `get`: a multi-step invocation comes with its steps' results even while it
    /// runs (a wait fetches them once, at the end).
    pub async fn fetch_now(
        &self,
        key: &InvocationKey,
    ) -> Result<Fetched<Box<Invocation>>, FetchError> {
        match self.fetch(key).await? {
            Fetched::Found(invocation)
                if invocation.steps.is_empty() && self.is_multi_step(key) =>
            {
                let doc = (&*invocation.doc as &dyn Any).downcast_ref::<ListedInvocation>();
                match doc.cloned() {
                    Some(listed) => self.with_steps(listed, key, true).await,
                    None => Ok(Fetched::Found(invocation)),
                }
            }
            other => Ok(other),
        }
    }

    /// A multi-step invocation: its progress from the listing, and once it has ended (or
    /// `always`) each step's complete result (GetCommandInvocation with the step's name), in
    /// the document's order.
    async fn with_steps(
        &self,
        listed: ListedInvocation,
        key: &InvocationKey,
        always: bool,
    ) -> Result<Fetched<Box<Invocation>>, FetchError> {
        let names = listed.step_names();
        let mut invocation = listed.into_invocation();
        if always || invocation.is_terminal() {
            for name in names {
                let step = InvocationKey {
                    plugin_name: Some(name.clone()),
                    ..key.clone()
                };
                match self.get_invocation(&step).await? {
                    Got::Found(result) => invocation.steps.push(*result),
                    Got::NotFound | Got::InvalidPluginName => {
                        return Err(FetchError::Transient(format!(
                            "step {name:?} is listed but not visible yet"
                        )));
                    }
                }
            }
            // GetCommandInvocation can lag the listing: a finished invocation is shown with
            // finished steps only, or its exit code would be read from a step still running.
            if invocation.is_terminal()
                && let Some(step) = invocation.steps.iter().find(|s| !s.is_terminal())
            {
                return Err(FetchError::Transient(format!(
                    "step {:?} still shows {} while the invocation has ended",
                    step.plugin_name.as_deref().unwrap_or_default(),
                    step.status
                )));
            }
            invocation.status_only = false;
        }
        Ok(Fetched::Found(Box::new(invocation)))
    }
}
