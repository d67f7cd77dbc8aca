//! `ssmres get`: the invocation as it is now (AWS: one instance's, every step; Alibaba Cloud:
//! every instance's, or the one named), printed.

use crate::cli::InvocationArgs;
use crate::error::{Error, exit};
use crate::render::Shape;

pub async fn run(ctx: &super::Context, args: &InvocationArgs) -> Result<u8, Error> {
    let subject = args.subject(ctx.cloud);
    let cloud = ctx.connect(None, None).await?;
    let mut report = cloud.get(&subject).await?;
    let shape = Shape {
        single: args.instance_id.is_some(),
        outputs: true,
        ..Shape::default()
    };
    ctx.print_full(&cloud, &mut report, shape, args.full_output, None)
        .await?;
    Ok(exit::of(report.verdict(), false, args.remote_exit_code))
}
