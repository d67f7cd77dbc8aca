
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ssmres' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ssmres'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ssmres' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Fetch one command invocation (GetCommandInvocation)')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Poll until the invocation reaches a terminal state, then print it as `get` does')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the invocations of a command, every page (ListCommandInvocations)')
            [CompletionResult]::new('task-invocations', 'task-invocations', [CompletionResultType]::ParameterValue, 'List a maintenance window execution''s task invocations, every page; optionally wait for them and show the Run Command output behind each')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ssmres;get' {
            [CompletionResult]::new('--command-id', '--command-id', [CompletionResultType]::ParameterName, 'Command ID returned by SendCommand (36 characters)')
            [CompletionResult]::new('--instance-id', '--instance-id', [CompletionResultType]::ParameterName, 'Managed node ID: i-xxxxxxxx, i-xxxxxxxxxxxxxxxxx or mi-xxxxxxxxxxxxxxxxx')
            [CompletionResult]::new('--invoke-id', '--invoke-id', [CompletionResultType]::ParameterName, 'Invoke ID returned by RunCommand or InvokeCommand (t-…)')
            [CompletionResult]::new('--plugin-name', '--plugin-name', [CompletionResultType]::ParameterName, 'Step name, required by the service for documents with several steps')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('--full-output', '--full-output', [CompletionResultType]::ParameterName, 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns')
            [CompletionResult]::new('--remote-exit-code', '--remote-exit-code', [CompletionResultType]::ParameterName, 'Once the result is final, exit with the remote command''s exit code (0-255; 1 when it has none), like `ssh host cmd`; see "Exit codes"')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;wait' {
            [CompletionResult]::new('--command-id', '--command-id', [CompletionResultType]::ParameterName, 'Command ID returned by SendCommand (36 characters)')
            [CompletionResult]::new('--invoke-id', '--invoke-id', [CompletionResultType]::ParameterName, 'Invoke ID returned by RunCommand or InvokeCommand (t-…)')
            [CompletionResult]::new('--instance-id', '--instance-id', [CompletionResultType]::ParameterName, 'Managed node to wait for; repeat for several; leave out to wait for every invocation of the command')
            [CompletionResult]::new('--plugin-name', '--plugin-name', [CompletionResultType]::ParameterName, 'Step name, required by the service for documents with several steps')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds')
            [CompletionResult]::new('--min-interval', '--min-interval', [CompletionResultType]::ParameterName, 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far')
            [CompletionResult]::new('--max-interval', '--max-interval', [CompletionResultType]::ParameterName, 'Longest pause between polls')
            [CompletionResult]::new('--not-found-grace', '--not-found-grace', [CompletionResultType]::ParameterName, 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Print the command''s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result')
            [CompletionResult]::new('--full-output', '--full-output', [CompletionResultType]::ParameterName, 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns')
            [CompletionResult]::new('--remote-exit-code', '--remote-exit-code', [CompletionResultType]::ParameterName, 'Exit with the remote command''s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"')
            [CompletionResult]::new('--cancel-on-interrupt', '--cancel-on-interrupt', [CompletionResultType]::ParameterName, 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once')
            [CompletionResult]::new('--cancel-on-timeout', '--cancel-on-timeout', [CompletionResultType]::ParameterName, 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;run' {
            [CompletionResult]::new('--instance-id', '--instance-id', [CompletionResultType]::ParameterName, 'Managed node to run on; repeat for several (at most 50: use --target for more)')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Run where SendCommand''s Targets resolve: tag:role=web, resource-groups:Name=prod, InstanceIds=i-1,i-2; repeat for several (at most 5)')
            [CompletionResult]::new('--script', '--script', [CompletionResultType]::ParameterName, 'Send this local script as the command''s lines ("-": read it from standard input)')
            [CompletionResult]::new('--shell', '--shell', [CompletionResultType]::ParameterName, 'What runs the command [default: sh]')
            [CompletionResult]::new('--document', '--document', [CompletionResultType]::ParameterName, 'Run this SSM document instead of the shell''s (its parameters with --parameter)')
            [CompletionResult]::new('--document-version', '--document-version', [CompletionResultType]::ParameterName, 'The document''s version: a number, $LATEST or $DEFAULT')
            [CompletionResult]::new('--parameter', '--parameter', [CompletionResultType]::ParameterName, 'A document parameter; repeat a name for a list parameter')
            [CompletionResult]::new('--comment', '--comment', [CompletionResultType]::ParameterName, 'A comment kept with the command (AWS: at most 80 characters, ssmres adds its mark; aliyun: the Description)')
            [CompletionResult]::new('--execution-timeout', '--execution-timeout', [CompletionResultType]::ParameterName, 'How long the command may run on each node (AWS: the document''s executionTimeout, 1 hour by default; aliyun: Timeout, 60s by default)')
            [CompletionResult]::new('--delivery-timeout', '--delivery-timeout', [CompletionResultType]::ParameterName, 'How long the command may wait to be delivered (SendCommand''s TimeoutSeconds, 30s to 30 days)')
            [CompletionResult]::new('--max-concurrency', '--max-concurrency', [CompletionResultType]::ParameterName, 'How many nodes run it at once: a number or a percentage')
            [CompletionResult]::new('--max-errors', '--max-errors', [CompletionResultType]::ParameterName, 'How many errors stop the command being sent to more nodes: a number or a percentage')
            [CompletionResult]::new('--output-s3-bucket', '--output-s3-bucket', [CompletionResultType]::ParameterName, 'Keep the complete output in this S3 bucket (for --full-output)')
            [CompletionResult]::new('--output-s3-prefix', '--output-s3-prefix', [CompletionResultType]::ParameterName, 'The key prefix of the output in that bucket')
            [CompletionResult]::new('--cloudwatch-output', '--cloudwatch-output', [CompletionResultType]::ParameterName, 'Send the output to CloudWatch Logs, in GROUP or the agent''s default /aws/ssm/<document> (for --follow and --full-output)')
            [CompletionResult]::new('--working-dir', '--working-dir', [CompletionResultType]::ParameterName, 'The directory the command runs in (default /root on Linux)')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'The user that runs the command (default root on Linux, System on Windows)')
            [CompletionResult]::new('--plugin-name', '--plugin-name', [CompletionResultType]::ParameterName, 'Step name, for a document with several steps: wait for that step only')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds')
            [CompletionResult]::new('--min-interval', '--min-interval', [CompletionResultType]::ParameterName, 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far')
            [CompletionResult]::new('--max-interval', '--max-interval', [CompletionResultType]::ParameterName, 'Longest pause between polls')
            [CompletionResult]::new('--not-found-grace', '--not-found-grace', [CompletionResultType]::ParameterName, 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Print the send''s answer (as `aws ssm send-command`, or `aliyun ecs RunCommand`, prints it) and exit 0 without waiting: pipe it into `ssmres wait --command-id -`')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request that would be sent (JSON) and exit 0; nothing is sent, no credentials are needed')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Print the command''s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result')
            [CompletionResult]::new('--full-output', '--full-output', [CompletionResultType]::ParameterName, 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns')
            [CompletionResult]::new('--remote-exit-code', '--remote-exit-code', [CompletionResultType]::ParameterName, 'Exit with the remote command''s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"')
            [CompletionResult]::new('--cancel-on-interrupt', '--cancel-on-interrupt', [CompletionResultType]::ParameterName, 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once')
            [CompletionResult]::new('--cancel-on-timeout', '--cancel-on-timeout', [CompletionResultType]::ParameterName, 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;list' {
            [CompletionResult]::new('--command-id', '--command-id', [CompletionResultType]::ParameterName, 'Command ID returned by SendCommand (36 characters)')
            [CompletionResult]::new('--invoke-id', '--invoke-id', [CompletionResultType]::ParameterName, 'Only results of this invocation (t-…)')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only invocations in this overall state (any case)')
            [CompletionResult]::new('--tag', '--tag', [CompletionResultType]::ParameterName, 'Only invocations with this tag; repeat for several (all must match); VALUE may be empty')
            [CompletionResult]::new('--resource-group-id', '--resource-group-id', [CompletionResultType]::ParameterName, 'Only invocations in this resource group')
            [CompletionResult]::new('--instance-id', '--instance-id', [CompletionResultType]::ParameterName, 'Only this managed node''s invocation')
            [CompletionResult]::new('--max-items', '--max-items', [CompletionResultType]::ParameterName, 'Stop after this many invocations')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('--include-history', '--include-history', [CompletionResultType]::ParameterName, 'Every past run of a periodic task (needs --invoke-id)')
            [CompletionResult]::new('--details', '--details', [CompletionResultType]::ParameterName, 'Include each step''s status, response code and output (the output is cut at 2,500 characters by this API; `get` gives up to 24,000)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;task-invocations' {
            [CompletionResult]::new('--window-execution-id', '--window-execution-id', [CompletionResultType]::ParameterName, 'Maintenance window execution ID (a UUID)')
            [CompletionResult]::new('--task-id', '--task-id', [CompletionResultType]::ParameterName, 'Task execution ID (a UUID) within that window execution; leave out for every task')
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only invocations in this status; repeat for several (any case)')
            [CompletionResult]::new('--max-items', '--max-items', [CompletionResultType]::ParameterName, 'Stop after this many invocations')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --wait: give up after this long (exit 4), e.g. 90s, 5m, 1h30m')
            [CompletionResult]::new('--min-interval', '--min-interval', [CompletionResultType]::ParameterName, 'With --wait: shortest pause between polls')
            [CompletionResult]::new('--max-interval', '--max-interval', [CompletionResultType]::ParameterName, 'With --wait: longest pause between polls')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('--with-output', '--with-output', [CompletionResultType]::ParameterName, 'For Run Command tasks, fetch each instance''s output as `get` does (implied by -o text)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Poll until every task and invocation has ended; exit codes as for `wait`')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;completions' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;man' {
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)')
            [CompletionResult]::new('--endpoint-url', '--endpoint-url', [CompletionResultType]::ParameterName, 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json otherwise]')
            [CompletionResult]::new('--connect-timeout', '--connect-timeout', [CompletionResultType]::ParameterName, 'How long opening a connection may take (each attempt of each call)')
            [CompletionResult]::new('--read-timeout', '--read-timeout', [CompletionResultType]::ParameterName, 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Show no progress spinner')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ssmres;help' {
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Fetch one command invocation (GetCommandInvocation)')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Poll until the invocation reaches a terminal state, then print it as `get` does')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the invocations of a command, every page (ListCommandInvocations)')
            [CompletionResult]::new('task-invocations', 'task-invocations', [CompletionResultType]::ParameterValue, 'List a maintenance window execution''s task invocations, every page; optionally wait for them and show the Run Command output behind each')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ssmres;help;get' {
            break
        }
        'ssmres;help;wait' {
            break
        }
        'ssmres;help;run' {
            break
        }
        'ssmres;help;list' {
            break
        }
        'ssmres;help;task-invocations' {
            break
        }
        'ssmres;help;completions' {
            break
        }
        'ssmres;help;man' {
            break
        }
        'ssmres;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
