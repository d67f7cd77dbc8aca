//! JSON as the aws CLI prints it: the provider's own record, 4-space indent, raw UTF-8,
//! a trailing newline. Same bytes, so scripts written against the aws CLI keep working.

use serde::Serialize;

use crate::model::Invocation;

/// The record; for a document with several steps, an array of the steps' records in the
/// document's order, each as `get --plugin-name STEP` prints it.
pub fn render(invocation: &Invocation) -> Vec<u8> {
    if invocation.steps.is_empty() {
        render_value(&*invocation.doc)
    } else {
        render_value(&invocation.steps.iter().map(|s| &*s.doc).collect::<Vec<_>>())
    }
}

/// Any record the aws CLI's way: 4-space indent, raw UTF-8, a trailing newline.
pub fn render_value<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serialising plain strings, numbers and booleans into a Vec cannot fail.
    if value.serialize(&mut serializer).is_ok() {
        out.push(b'\n');
    }
    out
}

/// Like `render_value`, straight into a writer.
pub fn write_value<T: Serialize + ?Sized>(
    out: &mut dyn std::io::Write,
    value: &T,
) -> std::io::Result<()> {
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, formatter);
    value
        .serialize(&mut serializer)
        .map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// One compact object per line (JSON Lines), for `jq -c` and `while read` loops.
pub fn render_lines<'a, T: Serialize + ?Sized + 'a>(
    values: impl IntoIterator<Item = &'a T>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    for value in values {
        if serde_json::to_writer(&mut out, value).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::provider::aws::record::CommandInvocation;

    #[test]
    fn matches_the_aws_cli_layout() {
        let record = CommandInvocation {
            command_id: Some("32d70fe0-ddbc-4a4e-943f-ffcbc0123456".into()),
            instance_id: Some("i-02573cafcf0123456".into()),
            comment: Some(String::new()),
            document_name: Some("AWS-RunShellScript".into()),
            plugin_name: Some("aws:runShellScript".into()),
            response_code: Some(0),
            status: Some("Success".into()),
            status_details: Some("Success".into()),
            standard_output_content: Some("héllo ✓\r\n\x1b[1mbold\x1b[0m\t\"q\"\\".into()),
            ..Default::default()
        };
        let text = String::from_utf8(super::render(&record.into_invocation())).unwrap();
        let expected = r#"{
    "CommandId": "32d70fe0-ddbc-4a4e-943f-ffcbc0123456",
    "InstanceId": "i-02573cafcf0123456",
    "Comment": "",
    "DocumentName": "AWS-RunShellScript",
    "PluginName": "aws:runShellScript",
    "ResponseCode": 0,
    "Status": "Success",
    "StatusDetails": "Success",
    "StandardOutputContent": "héllo ✓\r\n\u001b[1mbold\u001b[0m\t\"q\"\\"
}
"#;
        assert_eq!(text, expected);
    }
}
