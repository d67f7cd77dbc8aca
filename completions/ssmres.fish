# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ssmres_global_optspecs
    string join \n provider= region= profile= endpoint-url= o/output= connect-timeout= read-timeout= q/quiet v/verbose h/help V/version
end

function __fish_ssmres_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ssmres_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ssmres_using_subcommand
    set -l cmd (__fish_ssmres_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ssmres -n "__fish_ssmres_needs_command" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_needs_command" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_needs_command" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_needs_command" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_needs_command" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_needs_command" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_needs_command" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_needs_command" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_needs_command" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_needs_command" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "get" -d 'Fetch one command invocation (GetCommandInvocation)'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "wait" -d 'Poll until the invocation reaches a terminal state, then print it as `get` does'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "run" -d 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "list" -d 'List the invocations of a command, every page (ListCommandInvocations)'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "task-invocations" -d 'List a maintenance window execution\'s task invocations, every page; optionally wait for them and show the Run Command output behind each'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "man" -d 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`'
complete -c ssmres -n "__fish_ssmres_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l command-id -d 'Command ID returned by SendCommand (36 characters)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l instance-id -d 'Managed node ID: i-xxxxxxxx, i-xxxxxxxxxxxxxxxxx or mi-xxxxxxxxxxxxxxxxx' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l invoke-id -d 'Invoke ID returned by RunCommand or InvokeCommand (t-…)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l plugin-name -d 'Step name, required by the service for documents with several steps' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l full-output -d 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -l remote-exit-code -d 'Once the result is final, exit with the remote command\'s exit code (0-255; 1 when it has none), like `ssh host cmd`; see "Exit codes"'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand get" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l command-id -d 'Command ID returned by SendCommand (36 characters)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l invoke-id -d 'Invoke ID returned by RunCommand or InvokeCommand (t-…)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l instance-id -d 'Managed node to wait for; repeat for several; leave out to wait for every invocation of the command' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l plugin-name -d 'Step name, required by the service for documents with several steps' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l timeout -d 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l min-interval -d 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l max-interval -d 'Longest pause between polls' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l not-found-grace -d 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l follow -d 'Print the command\'s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l full-output -d 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l remote-exit-code -d 'Exit with the remote command\'s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l cancel-on-interrupt -d 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -l cancel-on-timeout -d 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand wait" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l instance-id -d 'Managed node to run on; repeat for several (at most 50: use --target for more)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l target -d 'Run where SendCommand\'s Targets resolve: tag:role=web, resource-groups:Name=prod, InstanceIds=i-1,i-2; repeat for several (at most 5)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l script -d 'Send this local script as the command\'s lines ("-": read it from standard input)' -r -F
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l shell -d 'What runs the command [default: sh]' -r -f -a "sh\t'A shell script (AWS-RunShellScript; aliyun: RunShellScript)'
powershell\t'A PowerShell script (AWS-RunPowerShellScript; aliyun: RunPowerShellScript)'
bat\t'A batch file (aliyun: RunBatScript; AWS has no such document)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l document -d 'Run this SSM document instead of the shell\'s (its parameters with --parameter)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l document-version -d 'The document\'s version: a number, $LATEST or $DEFAULT' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l parameter -d 'A document parameter; repeat a name for a list parameter' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l comment -d 'A comment kept with the command (AWS: at most 80 characters, ssmres adds its mark; aliyun: the Description)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l execution-timeout -d 'How long the command may run on each node (AWS: the document\'s executionTimeout, 1 hour by default; aliyun: Timeout, 60s by default)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l delivery-timeout -d 'How long the command may wait to be delivered (SendCommand\'s TimeoutSeconds, 30s to 30 days)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l max-concurrency -d 'How many nodes run it at once: a number or a percentage' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l max-errors -d 'How many errors stop the command being sent to more nodes: a number or a percentage' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l output-s3-bucket -d 'Keep the complete output in this S3 bucket (for --full-output)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l output-s3-prefix -d 'The key prefix of the output in that bucket' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l cloudwatch-output -d 'Send the output to CloudWatch Logs, in GROUP or the agent\'s default /aws/ssm/<document> (for --follow and --full-output)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l working-dir -d 'The directory the command runs in (default /root on Linux)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l username -d 'The user that runs the command (default root on Linux, System on Windows)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l plugin-name -d 'Step name, for a document with several steps: wait for that step only' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l timeout -d 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l min-interval -d 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l max-interval -d 'Longest pause between polls' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l not-found-grace -d 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l no-wait -d 'Print the send\'s answer (as `aws ssm send-command`, or `aliyun ecs RunCommand`, prints it) and exit 0 without waiting: pipe it into `ssmres wait --command-id -`'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l dry-run -d 'Print the request that would be sent (JSON) and exit 0; nothing is sent, no credentials are needed'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l follow -d 'Print the command\'s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l full-output -d 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l remote-exit-code -d 'Exit with the remote command\'s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l cancel-on-interrupt -d 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -l cancel-on-timeout -d 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand run" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l command-id -d 'Command ID returned by SendCommand (36 characters)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l invoke-id -d 'Only results of this invocation (t-…)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l status -d 'Only invocations in this overall state (any case)' -r -f -a "Running\t''
Finished\t''
Success\t''
Failed\t''
PartialFailed\t''
Stopped\t''
Stopping\t''"
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l tag -d 'Only invocations with this tag; repeat for several (all must match); VALUE may be empty' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l resource-group-id -d 'Only invocations in this resource group' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l instance-id -d 'Only this managed node\'s invocation' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l max-items -d 'Stop after this many invocations' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l include-history -d 'Every past run of a periodic task (needs --invoke-id)'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -l details -d 'Include each step\'s status, response code and output (the output is cut at 2,500 characters by this API; `get` gives up to 24,000)'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand list" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l window-execution-id -d 'Maintenance window execution ID (a UUID)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l task-id -d 'Task execution ID (a UUID) within that window execution; leave out for every task' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l status -d 'Only invocations in this status; repeat for several (any case)' -r -f -a "PENDING\t''
IN_PROGRESS\t''
SUCCESS\t''
FAILED\t''
TIMED_OUT\t''
CANCELLING\t''
CANCELLED\t''
SKIPPED_OVERLAPPING\t''"
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l max-items -d 'Stop after this many invocations' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l timeout -d 'With --wait: give up after this long (exit 4), e.g. 90s, 5m, 1h30m' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l min-interval -d 'With --wait: shortest pause between polls' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l max-interval -d 'With --wait: longest pause between polls' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l with-output -d 'For Run Command tasks, fetch each instance\'s output as `get` does (implied by -o text)'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -l wait -d 'Poll until every task and invocation has ended; exit codes as for `wait`'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand task-invocations" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l provider -d 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant' -r -f -a "aws\t'AWS Systems Manager Run Command'
aliyun\t'Alibaba Cloud ECS Cloud Assistant (DescribeInvocationResults)'"
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l region -d 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile\'s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile\'s region_id)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l profile -d 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l endpoint-url -d 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -s o -l output -d 'Output format [default: table on a terminal, json otherwise]' -r -f -a "table\t'Status fields in a table, then stdout and stderr as whole sections'
json\t'The cloud\'s own records: as the aws CLI prints them, or with the Alibaba Cloud API\'s field names (Output decoded)'
jsonl\t'One compact JSON object per line: per invocation for `list`, for `jq -c` and `while read`'
text\t'The command\'s stdout on stdout and its stderr on stderr, nothing else'"
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l connect-timeout -d 'How long opening a connection may take (each attempt of each call)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -l read-timeout -d 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)' -r
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -s q -l quiet -d 'Show no progress spinner'
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -s v -l verbose -d 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK\'s retries)'
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ssmres -n "__fish_ssmres_using_subcommand man" -s V -l version -d 'Print version'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "get" -d 'Fetch one command invocation (GetCommandInvocation)'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "wait" -d 'Poll until the invocation reaches a terminal state, then print it as `get` does'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "run" -d 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "list" -d 'List the invocations of a command, every page (ListCommandInvocations)'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "task-invocations" -d 'List a maintenance window execution\'s task invocations, every page; optionally wait for them and show the Run Command output behind each'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "completions" -d 'Print a shell completion script'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "man" -d 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`'
complete -c ssmres -n "__fish_ssmres_using_subcommand help; and not __fish_seen_subcommand_from get wait run list task-invocations completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
