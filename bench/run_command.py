#!/usr/bin/env python3
"""Send, wait, print: `ssmres run` against the aws CLI's three steps, side by side in one run.

Run with the project venv's python (scripts/setup-venv); standard library only. bench/run-all
runs it after the follow part; alone:

    .venv/bin/python bench/run_command.py --bin-dir target/release [--seconds 2] [--rounds 5] [--no-write]

The endpoint is SSM (AWS JSON 1.1) served by this process: SendCommand answers a new command
and starts its clock; GetCommandInvocation answers InProgress until SECONDS after that send,
then Success with two lines of stdout; every call is counted and stamped. Two tools do the same
job against it, a command to one instance from start to printed result:

  ssmres   `ssmres run --instance-id I -o json -q -- uptime`: one process.
  aws CLI  the script people write: `cid=$(aws ssm send-command … --query Command.CommandId
           --output text)`, then `aws ssm wait command-executed` (botocore's waiter: a call, then
           one every 5 s), then `aws ssm get-command-invocation --output json`, in one bash.

Time to output is the spawn to the exit (`wait4`; both print their JSON at the very end); "sent
at" is when the SendCommand reached the endpoint, after the spawn (the start-up a send costs);
"late by" is the exit minus the command's end (send + SECONDS): how long after the command ended
its result was on the screen. After one warm-up run of each, ROUNDS rounds run the two one after
the other. Every run must print the Success invocation. Peak RSS is `ru_maxrss` through
`/usr/bin/time -f %M` (for the aws CLI script, the largest of its processes).

Writes its section of BENCHMARKS.md (`<!-- run:start -->` … `<!-- run:end -->`, before the
full-output section when absent) unless --no-write, and prints it with the goal lines. Exits 1
when a tool printed a wrong result (after writing the section), 3 when the harness cannot run.
"""

import argparse
import datetime
import json
import os
import re
import signal
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.dont_write_bytecode = True  # no bench/__pycache__ from importing sidebyside
import sidebyside as sbs  # noqa: E402  (standard library only, no side effects on import)

INSTANCE_ID = "i-0123456789abcdef0"
STDOUT = "deployed build 4711\nall checks passed\n"

AWS_SCRIPT = """set -eo pipefail
cid=$("$AWS" ssm send-command --endpoint-url "$URL" --instance-ids "$INSTANCE" \\
    --document-name AWS-RunShellScript --parameters commands=uptime \\
    --query Command.CommandId --output text)
"$AWS" ssm wait command-executed --endpoint-url "$URL" --command-id "$cid" --instance-id "$INSTANCE"
"$AWS" ssm get-command-invocation --endpoint-url "$URL" --command-id "$cid" \\
    --instance-id "$INSTANCE" --output json
"""


def command_record(command_id, body, sent):
    """SendCommand's Command record for a send of `body`, as the service answers it."""
    return {
        "CommandId": command_id,
        "DocumentName": body.get("DocumentName", ""),
        "DocumentVersion": "$DEFAULT",
        "Comment": body.get("Comment", ""),
        "ExpiresAfter": sent + 3600,
        "Parameters": body.get("Parameters", {}),
        "InstanceIds": body.get("InstanceIds", []),
        "Targets": body.get("Targets", []),
        "RequestedDateTime": sent,
        "Status": "Pending",
        "StatusDetails": "Pending",
        "OutputS3Region": "us-east-1",
        "OutputS3BucketName": "",
        "OutputS3KeyPrefix": "",
        "MaxConcurrency": "50",
        "MaxErrors": "0",
        "TargetCount": len(body.get("InstanceIds", [])),
        "CompletedCount": 0,
        "ErrorCount": 0,
        "DeliveryTimedOutCount": 0,
        "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        "TimeoutSeconds": 3600,
    }


def invocation(command_id, status, stdout):
    running = status == "InProgress"
    result = sbs.invocation(status, "In Progress" if running else status, stdout)
    result["CommandId"] = command_id
    return result


class Endpoint(sbs.Endpoint):
    """SendCommand and GetCommandInvocation, scripted: a command sent at S is InProgress until
    S + seconds, then Success. Counts and stamps every call since the last `take`. The HTTP
    server is sidebyside.py's; only the answers differ."""

    def __init__(self, seconds):
        self.seconds = seconds
        super().__init__()
        self.sent = {}  # command ID -> monotonic time of its send
        self.calls = []  # (monotonic time, operation)

    def take(self):
        with self.lock:
            calls, sent = self.calls, self.sent
            self.calls, self.sent = [], {}
        return calls, sent

    def answer(self, target, raw):
        now = time.monotonic()
        op = target.rsplit(".", 1)[-1]
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        with self.lock:
            self.calls.append((now, op))
            if op == "SendCommand":
                command_id = str(uuid.uuid4())
                self.sent[command_id] = now
                return 200, {"Command": command_record(command_id, req, time.time())}
            if op == "GetCommandInvocation":
                sent = self.sent.get(req.get("CommandId"))
                if sent is None or req.get("InstanceId") != INSTANCE_ID:
                    return 400, {"__type": "InvocationDoesNotExist"}
                if now < sent + self.seconds:
                    return 200, invocation(req["CommandId"], "InProgress", "")
                return 200, invocation(req["CommandId"], "Success", STDOUT)
            return 400, {"__type": "UnknownOperationException", "message": f"unknown {target}"}


def tools(cfg, url):
    aws = os.path.join(cfg.venv, "bin", "aws")
    return [
        ("ssmres", "`ssmres run --instance-id I -o json -q -- uptime`",
         [cfg.ssmres, "--endpoint-url", url, "run", "--instance-id", INSTANCE_ID, "-o", "json", "-q",
          "--", "uptime"], {}),
        ("aws", "`aws ssm send-command` + `aws ssm wait command-executed` + "
                "`aws ssm get-command-invocation` (one bash script)",
         ["/bin/bash", "-c", AWS_SCRIPT], dict(AWS=aws, URL=url, INSTANCE=INSTANCE_ID)),
    ]


def one_run(runner, endpoint, argv, extra_env, seconds):
    runner.env.update(extra_env)
    try:
        r = runner.spawn(argv, limit=120, rss=True, before=endpoint.take)
    finally:
        for k in extra_env:
            runner.env.pop(k, None)
    calls, sent = endpoint.take()
    out = runner.stdout()
    try:
        printed = json.loads(out)
    except ValueError:
        printed = {}
    correct = (r["rc"] == 0 and printed.get("Status") == "Success"
               and printed.get("StandardOutputContent") == STDOUT and len(sent) == 1)
    send_at = min(sent.values()) if sent else None
    by_op = {}
    for _, op in calls:
        by_op[op] = by_op.get(op, 0) + 1
    return dict(wall=r["wall"], rc=r["rc"], rss_kib=r["rss_kib"], stderr=r["stderr"], correct=correct,
                sent_at=(send_at - r["start"]) if send_at else None,
                late=(r["end"] - (send_at + seconds)) if send_at else None,
                calls=by_op, total_calls=len(calls))


def measure(cfg):
    env = sbs.clean_env()
    now = datetime.datetime.now(datetime.timezone.utc)
    info = dict(date=now.date().isoformat(), machine=sbs.machine(), load_start=sbs.loadavg(),
                rustc=sbs.version_of(["rustc", "--version"], env),
                aws_version=sbs.version_of([os.path.join(cfg.venv, "bin", "aws"), "--version"], env),
                ssmres_version=sbs.version_of([cfg.ssmres, "--version"], env),
                seconds=cfg.seconds, rounds=cfg.rounds)
    endpoint = Endpoint(cfg.seconds)
    runs = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ssmres-run-bench.") as scratch:
            runner = sbs.Runner(env, scratch)
            listed = tools(cfg, endpoint.url)
            info["labels"] = {name: label for name, label, _, _ in listed}
            sbs.log(f"run: one warm-up run of each, then {cfg.rounds} rounds (command ending "
                    f"{cfg.seconds:g} s after its send)")
            for i in range(1 + cfg.rounds):
                for name, _, argv, extra in listed:
                    r = one_run(runner, endpoint, argv, extra, cfg.seconds)
                    if not r["correct"]:
                        sbs.log(f"run: {name} exited {r['rc']} without the result: {r['stderr']}")
                    if i > 0:
                        runs.setdefault(name, []).append(r)
    finally:
        endpoint.close()
    info["load_end"] = sbs.loadavg()
    return info, runs


def summarise(runs):
    s = {}
    for name, rs in runs.items():
        walls = [r["wall"] for r in rs]
        lates = [r["late"] for r in rs if r["late"] is not None]
        sent = [r["sent_at"] for r in rs if r["sent_at"] is not None]
        lo, hi, kind = sbs.spread(walls)
        ops = sorted({op for r in rs for op in r["calls"]})
        s[name] = dict(
            wall=sbs.med(walls), lo=lo, hi=hi, kind=kind,
            late=sbs.med(lates) if lates else None, late_max=max(lates) if lates else None,
            sent=sbs.med(sent) if sent else None,
            calls={op: sbs.med([r["calls"].get(op, 0) for r in rs]) for op in ops},
            total=sbs.med([r["total_calls"] for r in rs]),
            rss=sbs.med([r["rss_kib"] / 1024 for r in rs]),
            correct=sum(1 for r in rs if r["correct"]), runs=len(rs),
            every=", ".join(f"{w:.2f}" for w in walls))
    return s


def goals(s):
    ours, theirs = s["ssmres"], s["aws"]
    return [
        ("`run`: the result out within 1 s of the command's end (median)",
         ours["late"] is not None and ours["late"] <= 1.0, f"{ours['late']:.2f} s"),
        ("`run`: sooner than the aws CLI's three steps (median time to output)",
         ours["wall"] < theirs["wall"], f"{ours['wall']:.2f} s vs {theirs['wall']:.2f} s"),
        ("`run`: every run printed the Success invocation",
         ours["correct"] == ours["runs"], f"{ours['correct']} of {ours['runs']}"),
    ]


def section(info, runs):
    s = summarise(runs)
    rows = []
    for name in ("ssmres", "aws"):
        x = s[name]
        calls = ", ".join(f"{op} {n:g}" for op, n in x["calls"].items())
        rows.append(
            f"| {info['labels'][name]} | {x['runs']} | **{x['wall']:.2f} s** | {x['lo']:.2f}–{x['hi']:.2f} s "
            f"| {x['every']} | {x['sent']:.2f} s | {x['late']:.2f} s (max {x['late_max']:.2f}) "
            f"| {x['total']:g} ({calls}) | {x['rss']:.1f} MiB | {x['correct']} of {x['runs']} |")
    ratio = sbs.ratio(s["aws"]["wall"], s["ssmres"]["wall"])
    goal_rows = "\n".join(f"| {g} | {sbs.verdict(p)} | {t} |" for g, p, t in goals(s))
    m = info["machine"]
    return f"""<!-- run:start -->
## Send, wait, print: `ssmres run` against the aws CLI's three steps

Measured {info['date']} on {m['cpu']} ({m['cores']} cores) by `bench/run_command.py`; load average
{info['load_start']} at the start, {info['load_end']} at the end; {info['ssmres_version']}, release build;
{info['aws_version']}. The endpoint is SSM served by the harness: SendCommand answers a new command,
which is InProgress until {info['seconds']:g} s after that send, then Success (GetCommandInvocation).
Both tools send one command to one instance and print its result as JSON: `ssmres run` in one
process; the aws CLI in the script people write around it (`send-command` with `--query
Command.CommandId`, then `wait command-executed`, botocore's waiter polling every 5 s, then
`get-command-invocation`). **Time to output** runs from the spawn to the exit (`wait4`; both print
at the very end); **sent at** is when SendCommand reached the endpoint after the spawn (the
start-up before the send); **late by** is the exit minus the command's end (send +
{info['seconds']:g} s). One warm-up run of each, then {info['rounds']} rounds running the two one after the
other; spread is the {s['ssmres']['kind']} of the runs. Calls are
medians, by operation, as the endpoint counted them. Peak RSS through `/usr/bin/time -f %M` (for the
script, its largest process). Regenerate with `bench/run-all` or `bench/run_command.py`.

| tool | runs | time to output: median | spread | every run (s) | sent at | late by: median | calls: median | peak RSS | correct |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

`ssmres run` had the result out **{ratio:.1f}× sooner**: the aws CLI's script pays three Python
start-ups, and its waiter sees the end only at its next call, up to 5 s later.

| goal | result | measured |
|---|---|---|
{goal_rows}
<!-- run:end -->"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True, help="release dir with ssmres")
    ap.add_argument("--venv", default=os.environ.get("SSMRES_VENV", os.path.join(ROOT, ".venv")))
    ap.add_argument("--seconds", type=float, default=2.0, help="the command ends this long after its send")
    ap.add_argument("--rounds", type=int, default=sbs.env_int("BENCH_RUN_ROUNDS", 5))
    ap.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    cfg = ap.parse_args()
    cfg.ssmres = os.path.abspath(os.path.join(cfg.bin_dir, "ssmres"))
    cfg.venv = os.path.abspath(cfg.venv)
    for path in (cfg.ssmres, os.path.join(cfg.venv, "bin", "aws"), "/usr/bin/time", "/bin/bash"):
        if not os.access(path, os.X_OK):
            raise sbs.HarnessError(f"missing {path} (build the binaries, run scripts/setup-venv, install time)")

    info, runs = measure(cfg)
    text = section(info, runs)
    print(text)
    print()
    s = summarise(runs)
    for g, p, t in goals(s):
        print(f"{'N/A ' if p is None else ('PASS' if p else 'FAIL')}  {g}: {t}")
    if not cfg.no_write:
        path = os.path.join(ROOT, "BENCHMARKS.md")
        doc = open(path).read()
        pattern = re.compile(r"<!-- run:start -->.*?<!-- run:end -->", re.S)
        if pattern.search(doc):
            doc = pattern.sub(lambda _: text, doc)
        else:
            doc = sbs.put(doc, "run", text, ["full-output", "follow", "fleet"])
        with open(path, "w") as f:
            f.write(doc)
        sbs.log(f"wrote the run section to {path}")
    wrong = [name for name, x in s.items() if x["correct"] != x["runs"]]
    if wrong:
        sbs.log(f"run_command: wrong results from {', '.join(wrong)}")
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    except sbs.HarnessError as e:
        sbs.log(f"run_command: {e}")
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
