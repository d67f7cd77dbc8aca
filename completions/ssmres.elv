
use builtin;
use str;

set edit:completion:arg-completer[ssmres] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ssmres'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ssmres'= {
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand get 'Fetch one command invocation (GetCommandInvocation)'
            cand wait 'Poll until the invocation reaches a terminal state, then print it as `get` does'
            cand run 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did'
            cand list 'List the invocations of a command, every page (ListCommandInvocations)'
            cand task-invocations 'List a maintenance window execution''s task invocations, every page; optionally wait for them and show the Run Command output behind each'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ssmres;get'= {
            cand --command-id 'Command ID returned by SendCommand (36 characters)'
            cand --instance-id 'Managed node ID: i-xxxxxxxx, i-xxxxxxxxxxxxxxxxx or mi-xxxxxxxxxxxxxxxxx'
            cand --invoke-id 'Invoke ID returned by RunCommand or InvokeCommand (t-…)'
            cand --plugin-name 'Step name, required by the service for documents with several steps'
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand --full-output 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
            cand --remote-exit-code 'Once the result is final, exit with the remote command''s exit code (0-255; 1 when it has none), like `ssh host cmd`; see "Exit codes"'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;wait'= {
            cand --command-id 'Command ID returned by SendCommand (36 characters)'
            cand --invoke-id 'Invoke ID returned by RunCommand or InvokeCommand (t-…)'
            cand --instance-id 'Managed node to wait for; repeat for several; leave out to wait for every invocation of the command'
            cand --plugin-name 'Step name, required by the service for documents with several steps'
            cand --timeout 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds'
            cand --min-interval 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far'
            cand --max-interval 'Longest pause between polls'
            cand --not-found-grace 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts'
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand --follow 'Print the command''s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result'
            cand --full-output 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
            cand --remote-exit-code 'Exit with the remote command''s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"'
            cand --cancel-on-interrupt 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once'
            cand --cancel-on-timeout 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;run'= {
            cand --instance-id 'Managed node to run on; repeat for several (at most 50: use --target for more)'
            cand --target 'Run where SendCommand''s Targets resolve: tag:role=web, resource-groups:Name=prod, InstanceIds=i-1,i-2; repeat for several (at most 5)'
            cand --script 'Send this local script as the command''s lines ("-": read it from standard input)'
            cand --shell 'What runs the command [default: sh]'
            cand --document 'Run this SSM document instead of the shell''s (its parameters with --parameter)'
            cand --document-version 'The document''s version: a number, $LATEST or $DEFAULT'
            cand --parameter 'A document parameter; repeat a name for a list parameter'
            cand --comment 'A comment kept with the command (AWS: at most 80 characters, ssmres adds its mark; aliyun: the Description)'
            cand --execution-timeout 'How long the command may run on each node (AWS: the document''s executionTimeout, 1 hour by default; aliyun: Timeout, 60s by default)'
            cand --delivery-timeout 'How long the command may wait to be delivered (SendCommand''s TimeoutSeconds, 30s to 30 days)'
            cand --max-concurrency 'How many nodes run it at once: a number or a percentage'
            cand --max-errors 'How many errors stop the command being sent to more nodes: a number or a percentage'
            cand --output-s3-bucket 'Keep the complete output in this S3 bucket (for --full-output)'
            cand --output-s3-prefix 'The key prefix of the output in that bucket'
            cand --cloudwatch-output 'Send the output to CloudWatch Logs, in GROUP or the agent''s default /aws/ssm/<document> (for --follow and --full-output)'
            cand --working-dir 'The directory the command runs in (default /root on Linux)'
            cand --username 'The user that runs the command (default root on Linux, System on Windows)'
            cand --plugin-name 'Step name, for a document with several steps: wait for that step only'
            cand --timeout 'Give up after this long (exit 4), e.g. 90s, 5m, 1h30m; a bare number is seconds'
            cand --min-interval 'Shortest pause between polls, used for the first seconds; later pauses are a twentieth of the time waited so far'
            cand --max-interval 'Longest pause between polls'
            cand --not-found-grace 'How long "InvocationDoesNotExist" means "not visible yet" after the wait starts'
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand --no-wait 'Print the send''s answer (as `aws ssm send-command`, or `aliyun ecs RunCommand`, prints it) and exit 0 without waiting: pipe it into `ssmres wait --command-id -`'
            cand --dry-run 'Print the request that would be sent (JSON) and exit 0; nothing is sent, no credentials are needed'
            cand --follow 'Print the command''s output as it runs, from CloudWatch Logs (the command must have been sent with CloudWatch output); in text mode the followed lines are the result'
            cand --full-output 'Read the complete stdout and stderr from S3 or CloudWatch Logs, where the command kept them, instead of the first 24,000 / 8,000 characters the service returns'
            cand --remote-exit-code 'Exit with the remote command''s exit code (0-255; 1 when it has none; the first non-zero of several steps or instances), like `ssh host cmd`; see "Exit codes"'
            cand --cancel-on-interrupt 'On Ctrl-C (or SIGTERM, SIGHUP), cancel what is waited on (CancelCommand; aliyun: StopInvocation), show the state it reaches, then exit 130 (143, 129); a second signal exits at once'
            cand --cancel-on-timeout 'When --timeout passes, cancel what is waited on, show the state it reaches, then exit 4'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;list'= {
            cand --command-id 'Command ID returned by SendCommand (36 characters)'
            cand --invoke-id 'Only results of this invocation (t-…)'
            cand --status 'Only invocations in this overall state (any case)'
            cand --tag 'Only invocations with this tag; repeat for several (all must match); VALUE may be empty'
            cand --resource-group-id 'Only invocations in this resource group'
            cand --instance-id 'Only this managed node''s invocation'
            cand --max-items 'Stop after this many invocations'
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand --include-history 'Every past run of a periodic task (needs --invoke-id)'
            cand --details 'Include each step''s status, response code and output (the output is cut at 2,500 characters by this API; `get` gives up to 24,000)'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;task-invocations'= {
            cand --window-execution-id 'Maintenance window execution ID (a UUID)'
            cand --task-id 'Task execution ID (a UUID) within that window execution; leave out for every task'
            cand --status 'Only invocations in this status; repeat for several (any case)'
            cand --max-items 'Stop after this many invocations'
            cand --timeout 'With --wait: give up after this long (exit 4), e.g. 90s, 5m, 1h30m'
            cand --min-interval 'With --wait: shortest pause between polls'
            cand --max-interval 'With --wait: longest pause between polls'
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand --with-output 'For Run Command tasks, fetch each instance''s output as `get` does (implied by -o text)'
            cand --wait 'Poll until every task and invocation has ended; exit codes as for `wait`'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;completions'= {
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;man'= {
            cand --provider 'The cloud: AWS Systems Manager, or Alibaba Cloud ECS Cloud Assistant'
            cand --region 'Region (AWS: AWS_REGION, AWS_DEFAULT_REGION, then the profile''s; aliyun: ALIBABA_CLOUD_REGION_ID, then the profile''s region_id)'
            cand --profile 'Named profile (AWS: from the AWS config files, default AWS_PROFILE; aliyun: from ~/.aliyun/config.json, default ALIBABA_CLOUD_PROFILE)'
            cand --endpoint-url 'Send SSM (aliyun: ECS) requests to this URL instead of the regional endpoint'
            cand -o 'Output format [default: table on a terminal, json otherwise]'
            cand --output 'Output format [default: table on a terminal, json otherwise]'
            cand --connect-timeout 'How long opening a connection may take (each attempt of each call)'
            cand --read-timeout 'How long an answer may take to start, counted from the start of each attempt of each call, connecting included (an attempt also ends after connect + twice this)'
            cand -q 'Show no progress spinner'
            cand --quiet 'Show no progress spinner'
            cand -v 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand --verbose 'Print diagnostics on stderr; repeat for more (-vvv includes the SDK''s retries)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ssmres;help'= {
            cand get 'Fetch one command invocation (GetCommandInvocation)'
            cand wait 'Poll until the invocation reaches a terminal state, then print it as `get` does'
            cand run 'Send a command (SendCommand), then wait for it as `wait` does and exit as it did'
            cand list 'List the invocations of a command, every page (ListCommandInvocations)'
            cand task-invocations 'List a maintenance window execution''s task invocations, every page; optionally wait for them and show the Run Command output behind each'
            cand completions 'Print a shell completion script'
            cand man 'Print the man page (roff): `ssmres man > ~/.local/share/man/man1/ssmres.1`'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ssmres;help;get'= {
        }
        &'ssmres;help;wait'= {
        }
        &'ssmres;help;run'= {
        }
        &'ssmres;help;list'= {
        }
        &'ssmres;help;task-invocations'= {
        }
        &'ssmres;help;completions'= {
        }
        &'ssmres;help;man'= {
        }
        &'ssmres;help;help'= {
        }
    ]
    $completions[$command]
}
