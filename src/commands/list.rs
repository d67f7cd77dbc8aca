//! `ssmres list`: every invocation of a command (ListCommandInvocations, all pages).

use crate::cli::{ListArgs, OutputFormat};
use crate::error::{Error, exit};
use crate::model::ListEntry;
use crate::output;
use crate::provider::FetchError;
use crate::provider::aws::listing::Listing;
use crate::provider::aws::{AwsProvider, ListQuery};
use crate::render::{Rendered, json, list};

pub async fn run(ctx: &super::Context, args: &ListArgs) -> Result<u8, Error> {
    // Text shows each instance's output, which only the detailed listing carries.
    let details = args.details || ctx.format == OutputFormat::Text;
    let query = ListQuery {
        command_id: args.aws_command_id().to_owned(),
        instance_id: args.instance_id.clone(),
        details,
        max_items: args
            .max_items
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let provider = AwsProvider::connect(&ctx.aws).await?;
    let listed = provider
        .list_invocations(&query)
        .await
        .map_err(|e| match e {
            FetchError::Transient(m) => {
                Error::Api(format!("ListCommandInvocations failed after retries: {m}"))
            }
            FetchError::Credentials(e) | FetchError::Fatal(e) => e,
        })?;
    let entries: Vec<ListEntry> = listed.into_iter().map(|i| i.into_entry()).collect();
    let stdout = match ctx.format {
        OutputFormat::Json => json::render_value(&Listing {
            command_invocations: entries.iter().map(|e| &e.raw).collect(),
        }),
        OutputFormat::Jsonl => json::render_lines(entries.iter().map(|e| &e.raw)),
        OutputFormat::Table => list::table(&entries, details, ctx.target.color).into_bytes(),
        OutputFormat::Text => return emit(list::text(&entries, &ctx.target)),
    };
    emit(Rendered {
        stdout,
        stderr: Vec::new(),
    })
}

fn emit(rendered: Rendered) -> Result<u8, Error> {
    output::emit(&rendered)?;
    Ok(exit::SUCCESS)
}
