//! `ssmres list`: every page of a listing (AWS: ListCommandInvocations for one command;
//! Alibaba Cloud: DescribeInvocationResults with its filters).

use std::io::Write;

use crate::cli::ListArgs;
use crate::error::{Error, exit};
use crate::model::Report;
use crate::render::{OutputFormat, Shape};

pub async fn run(ctx: &super::Context, args: &ListArgs) -> Result<u8, Error> {
    // Text shows each instance's output, which only the detailed listing carries.
    let details = args.details || ctx.format == OutputFormat::Text;
    let cloud = ctx.connect(None, None).await?;
    let report = cloud.list(&args.filter(ctx.cloud, details)).await?;
    let shape = Shape {
        // Several invocations may be listed unless one was named.
        spans: args.invoke_id.is_none(),
        details,
        ..Shape::default()
    };
    ctx.print(&report, shape)?;
    if let (Some(max), Report::Results(set)) = (args.max_items, &report)
        && let Some(total) = set.total_count
        && total > set.results.len() as u64
        && set.results.len() as u64 >= max
    {
        // A note only: a stderr that is gone must not cost the listing's exit code.
        let _ = writeln!(
            std::io::stderr(),
            "note: stopped after {} (--max-items); the service counts {total}",
            match set.results.len() {
                1 => "1 result".to_owned(),
                n => format!("{n} results"),
            }
        );
    }
    Ok(exit::SUCCESS)
}
