//! `ssmres get`: one GetCommandInvocation, printed.

use crate::cli::InvocationArgs;
use crate::error::{Error, exit};
use crate::provider::aws::AwsProvider;
use crate::provider::{FetchError, Fetched};

pub async fn run(ctx: &super::Context, args: &InvocationArgs) -> Result<u8, Error> {
    let provider = AwsProvider::connect(&ctx.aws).await?;
    match provider.fetch_now(&super::key(args)).await {
        Ok(Fetched::Found(mut invocation)) => {
            ctx.print_full(&provider, &mut invocation, args.full_output, None)
                .await?;
            Ok(if args.remote_exit_code && invocation.is_terminal() {
                invocation.remote_exit_code()
            } else {
                exit::SUCCESS
            })
        }
        Ok(Fetched::NotVisible) => Err(Error::NotFound(
            "invocation not found (InvocationDoesNotExist): check the command ID, the instance ID \
             and the region (--region); a command sent seconds ago may not be visible yet, \
             `ssmres wait` allows for that"
                .into(),
        )),
        Err(FetchError::Transient(message)) => Err(Error::Api(format!(
            "GetCommandInvocation failed after retries: {message}"
        ))),
        Err(FetchError::Credentials(e) | FetchError::Fatal(e)) => Err(e),
    }
}
