#!/usr/bin/env python3
"""Following a command's output live: `ssmres wait --follow -o text` against CloudWatch Logs.

Run with the project venv's python (scripts/setup-venv): standard library plus boto3, which
comes with moto (started with another python, the script runs itself again with the venv's).
bench/run-all runs it after the full-output part; alone:

    .venv/bin/python bench/follow.py --bin-dir target/release [--seconds 40]
        [--fleet-seconds 20] [--fleet-instances 3] [--no-write]

What it does, per scenario (one instance for SECONDS, then FLEET_INSTANCES instances for
FLEET_SECONDS; --fleet-seconds 0 leaves the second out):
  1. Starts moto_server from the venv (CloudWatch Logs) and creates the log group.
  2. Serves a scripted SSM endpoint itself (AWS JSON 1.1): ListCommands names the group in
     CloudWatchOutputConfig; GetCommandInvocation (and, for several instances, ListCommands'
     counts and ListCommandInvocations) answer InProgress until the scenario's end, then
     Success.
  3. Puts a small HTTP proxy between ssmres and moto (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS points
     at it) that forwards every request and notes its X-Amz-Target, its time and, for
     GetLogEvents, how many events came back: the Logs calls counted are ssmres' alone.
  4. Spawns `ssmres --endpoint-url <ssm> wait --command-id C --instance-id I [...] --follow
     -o text` under `/usr/bin/time -f %M` (peak RSS), stdout a pipe read as it comes, each
     line stamped on arrival.
  5. Feeds the streams from a thread of this process (boto3 straight to moto): from 1 s after
     the spawn, one PutLogEvents per instance at intervals drawn uniformly from 0.6-1.4 s
     (fixed seed; about one a second, never in step with ssmres' one-second rounds), each
     event one line carrying the instance and a sequence number; the moment PutLogEvents
     returns is the event's ingestion as the client sees it. The invocation turns Success
     0.5 s after the last of these; one more event per instance (the tail, as the agent's
     last lines trail the status) is put 0.5 s after that.
  6. Delay = the line's arrival on stdout - its PutLogEvents' return. Every line must arrive
     exactly once and in order per instance, nothing else on stdout, exit code 0: anything
     else is a wrong output.

Writes its section of BENCHMARKS.md (`<!-- follow:start -->` … `<!-- follow:end -->`, placed
before the fleet section when absent) unless --no-write, and prints it with the goal lines.
Exits 1 when an output is wrong (after writing the section, which says so), 3 when the harness
cannot run (moto does not start, a binary is missing); a failed goal is reported, not fatal.
"""

import argparse
import datetime
import http.client
import http.server
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.dont_write_bytecode = True  # no bench/__pycache__ from importing the other harnesses
import sidebyside as sbs  # noqa: E402  (standard library only, no side effects on import)
import full_output as fo  # noqa: E402  (moto start and stop; no side effects on import)

GROUP = "/ssmres-bench/follow"
STEP = "aws-runShellScript"
GOAL_S = 1.5
FIRST_EVENT_S = 1.0  # after the spawn
GAP_S = (0.6, 1.4)  # between two events of an instance, drawn uniformly
END_AFTER_LAST_S = 0.5  # the invocation turns Success this long after the last event
TAIL_AFTER_END_S = 0.5  # the tail event, after the end
SEED = 20261126
LINE = re.compile(r"^(?:\[(?P<prefix>[^\]]+)\] )?follow-bench (?P<inst>i-[0-9a-f]{17}) "
                  r"(?P<seq>\d{5}) \S+$")
DESCRIBE = "Logs_20140328.DescribeLogStreams"
# Calls further apart than this belong to different rounds (rounds are about 1 s apart).
ROUND_GAP = 0.3
GET_EVENTS = "Logs_20140328.GetLogEvents"

HarnessError = sbs.HarnessError
log = sbs.log


# ---------------------------------------------------------------------------------------------
# The Logs proxy: counts ssmres' calls to moto


class LogsProxy:
    """Forwards every request to moto on a kept-alive connection per client connection and
    records (arrival time, X-Amz-Target, status, events returned by GetLogEvents, time the
    answer was sent back, time spent waiting for moto)."""

    def __init__(self, upstream):
        host, port = upstream.removeprefix("http://").split(":")
        self.calls = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one segment: written apart, Nagle's algorithm on this side and
            # delayed ACKs on the client's would hold each answer's body back tens of ms.
            wbufsize = 1 << 16

            def log_message(self, *args):
                pass

            def forward(self, body):
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "proxy-connection")}
                for attempt in (1, 2):
                    conn = getattr(self, "upstream", None)
                    if conn is None:
                        conn = self.upstream = http.client.HTTPConnection(host, int(port), timeout=60)
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        return resp.status, resp.getheaders(), resp.read()
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        self.upstream = None
                        if attempt == 2:
                            raise

            def do_POST(self):
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                sent = time.monotonic()
                try:
                    status, headers, data = self.forward(body)
                except (OSError, http.client.HTTPException) as e:
                    status, headers, data = 502, [], str(e).encode()
                upstream = time.monotonic() - sent
                events = None
                if target == GET_EVENTS and status == 200:
                    try:
                        events = len(json.loads(data).get("events", []))
                    except ValueError:
                        pass
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length",
                                         "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with proxy.lock:
                    proxy.calls.append((arrived, target, status, events, time.monotonic(), upstream))

            do_GET = do_POST

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def take(self):
        with self.lock:
            calls, self.calls = self.calls, []
        return calls

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# The scripted SSM endpoint


class SsmScript:
    """ListCommands, ListCommandInvocations and GetCommandInvocation for one command and its
    instances: InProgress until `end` (monotonic), then Success. Records every call's time and
    target, and the first answer of each target that said Success."""

    def __init__(self):
        self.scenario = None
        self.lock = threading.Lock()
        ep = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body in one segment: written apart, Nagle's algorithm on this side and
            # delayed ACKs on the client's would hold each answer's body back tens of ms.
            wbufsize = 1 << 16

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    req = {}
                status, body = ep.answer(target, req)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def arm(self, cmd, instances, end):
        with self.lock:
            self.scenario = dict(cmd=cmd, instances=instances, end=end, calls=[], first_success={}, stray=[])

    def take(self):
        with self.lock:
            s, self.scenario = self.scenario, None
        return s

    def answer(self, target, req):
        now = time.monotonic()
        with self.lock:
            s = self.scenario
            if s is None:
                return 400, {"__type": "InvalidCommandId", "message": "no scenario armed"}
            s["calls"].append((now, target))
            done = now >= s["end"]
            op = target.rsplit(".", 1)[-1]
            cmd, instances = s["cmd"], s["instances"]
            if req.get("CommandId") != cmd or op not in ("ListCommands", "ListCommandInvocations",
                                                         "GetCommandInvocation"):
                s["stray"].append(f"{target} {json.dumps(req)[:200]}")
                return 400, {"__type": "InvalidCommandId", "message": None}
            if op == "GetCommandInvocation" and req.get("InstanceId") not in instances:
                s["stray"].append(f"{target} {json.dumps(req)[:200]}")
                return 400, {"__type": "InvocationDoesNotExist", "message": None}
            if done:
                s["first_success"].setdefault(op, now)
        status, details = ("Success", "Success") if done else ("InProgress", "In Progress")
        cw = {"CloudWatchLogGroupName": GROUP, "CloudWatchOutputEnabled": True}
        if op == "ListCommands":
            return 200, {"Commands": [{
                "CommandId": cmd, "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT",
                "Comment": "", "Parameters": {"commands": ["./long-job.sh"]}, "InstanceIds": instances,
                "Targets": [], "Status": status, "StatusDetails": details, "OutputS3Region": "us-east-1",
                "OutputS3BucketName": "", "OutputS3KeyPrefix": "", "MaxConcurrency": "50", "MaxErrors": "0",
                "TargetCount": len(instances), "CompletedCount": len(instances) if done else 0,
                "ErrorCount": 0, "DeliveryTimedOutCount": 0, "ServiceRole": "",
                "CloudWatchOutputConfig": cw, "TimeoutSeconds": 3600}]}
        if op == "ListCommandInvocations":
            return 200, {"CommandInvocations": [{
                "CommandId": cmd, "InstanceId": i, "InstanceName": "", "Comment": "",
                "DocumentName": "AWS-RunShellScript", "DocumentVersion": "$DEFAULT", "Status": status,
                "StatusDetails": details, "TraceOutput": "", "StandardOutputUrl": "", "StandardErrorUrl": "",
                "CommandPlugins": [], "ServiceRole": "", "CloudWatchOutputConfig": cw} for i in instances]}
        # Printed only if ssmres showed the result again at the end (it must not: the followed
        # lines are the result in text mode), so that it counts as a wrong line.
        rec = sbs.invocation(status, details, "" if not done else "RESULT PRINTED AGAIN\n")
        rec.update(CommandId=cmd, InstanceId=req["InstanceId"], CloudWatchOutputConfig=cw)
        return 200, rec

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# One scenario


def schedule(rng, seconds):
    """Event offsets from the spawn: the first at FIRST_EVENT_S, then gaps drawn from GAP_S, the
    last one no later than `seconds`."""
    at = [FIRST_EVENT_S]
    while True:
        nxt = at[-1] + rng.uniform(*GAP_S)
        if nxt > seconds:
            return at
        at.append(nxt)


def message(inst, seq):
    return f"follow-bench {inst} {seq:05d} " + "step-output-" + "x" * 40 + "\n"


class Feeder(threading.Thread):
    """Puts each instance's events at their offsets from t0 (one PutLogEvents per event);
    creates an instance's stream right before its first event, as the agent does."""

    def __init__(self, logs, cmd, plan, t0):
        super().__init__(daemon=True)
        self.logs, self.cmd, self.plan, self.t0 = logs, cmd, plan, t0
        self.puts = {}  # (instance, seq) -> (called, returned) monotonic
        self.error = None

    def run(self):
        try:
            created = set()
            for offset, inst, seq in self.plan:
                pause = self.t0 + offset - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                stream = f"{self.cmd}/{inst}/{STEP}/stdout"
                if inst not in created:
                    self.logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
                    created.add(inst)
                called = time.monotonic()
                self.logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
                    {"timestamp": int(time.time() * 1000), "message": message(inst, seq)}])
                self.puts[(inst, seq)] = (called, time.monotonic())
        except Exception as e:  # reported by the scenario
            self.error = e


def instance_ids(n, salt):
    return [f"i-{salt:02x}{k:015x}" for k in range(n)]


def command_id(salt):
    return f"f0110e00-{salt:04x}-4b3c-8d2e-5a6b7c8d9e0f"


def run_scenario(cfg, env, logs, ssm, proxy, label, n_instances, seconds, salt, scratch):
    rng = random.Random(SEED + salt)
    cmd = command_id(salt)
    instances = instance_ids(n_instances, salt)
    plan = []
    for inst in instances:
        offsets = schedule(rng, seconds)
        plan += [(off, inst, seq) for seq, off in enumerate(offsets)]
    last = max(off for off, _, _ in plan)
    end_offset = last + END_AFTER_LAST_S
    tail_offset = end_offset + TAIL_AFTER_END_S
    seqs = {inst: sum(1 for _, i, _ in plan if i == inst) for inst in instances}
    plan += [(tail_offset, inst, seqs[inst]) for inst in instances]
    plan.sort()
    expected = {inst: seqs[inst] + 1 for inst in instances}

    argv = [cfg.ssmres, "--endpoint-url", ssm.url, "wait", "--command-id", cmd]
    for inst in instances:
        argv += ["--instance-id", inst]
    argv += ["--follow", "-o", "text"]
    rssf, errf = os.path.join(scratch, f"rss-{salt}"), os.path.join(scratch, f"err-{salt}")
    argv = ["/usr/bin/time", "-f", "%M", "-o", rssf, *argv]
    limit = seconds + 60

    proxy.take()
    t0 = time.monotonic()
    ssm.arm(cmd, instances, t0 + end_offset)
    with open(errf, "wb") as errfile:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errfile,
                                env=env, start_new_session=True, bufsize=0)
    feeder = Feeder(logs, cmd, plan, t0)
    feeder.start()
    lines = []

    def read():
        fd, pending = proc.stdout.fileno(), b""
        while chunk := os.read(fd, 65536):
            t = time.monotonic()
            pending += chunk
            *whole, pending = pending.split(b"\n")
            lines.extend((t, w) for w in whole)
        if pending:
            lines.append((time.monotonic(), pending + b" (no newline)"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    killed = []

    def kill():
        killed.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(limit, kill)
    timer.daemon = True
    timer.start()
    try:
        _, status, _ = os.wait4(proc.pid, 0)
    except BaseException:
        kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
    exited = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(10)
    feeder.join(10)
    calls = proxy.take()
    script = ssm.take()
    if killed:
        raise HarnessError(f"{label}: ssmres still running after {limit} s: killed")
    if feeder.error:
        raise HarnessError(f"{label}: feeding the log streams failed: {feeder.error!r}")
    with open(rssf) as f:
        last_rss = f.read().strip().splitlines()[-1:]
    if not last_rss or not last_rss[0].isdigit():
        raise HarnessError(f"{label}: no peak RSS from /usr/bin/time: {last_rss}")
    with open(errf, errors="replace") as f:
        stderr_lines = [x.rstrip("\n") for x in f][:5]

    # Check every line: known, once, in order.
    problems, delays, seen, prev = [], [], {}, {}
    for t, raw in lines:
        text = raw.decode("utf-8", "replace")
        m = LINE.match(text)
        if not m or (n_instances > 1) != bool(m["prefix"]) or (m["prefix"] and m["prefix"] != m["inst"]) \
                or m["inst"] not in expected:
            problems.append(f"unexpected line {text[:120]!r}")
            continue
        inst, seq = m["inst"], int(m["seq"])
        key = (inst, seq)
        if key in seen:
            problems.append(f"{inst} line {seq} printed again")
            continue
        if seq < prev.get(inst, -1):
            problems.append(f"{inst} line {seq} after line {prev[inst]}")
        prev[inst] = max(seq, prev.get(inst, -1))
        seen[key] = t
        if key not in feeder.puts:
            problems.append(f"{inst} line {seq} printed but never put")
            continue
        delays.append(t - feeder.puts[key][1])
    for inst, n in expected.items():
        missing = [s for s in range(n) if (inst, s) not in seen]
        if missing:
            problems.append(f"{inst}: {len(missing)} of {n} lines missing (first {missing[:5]})")
    if proc.returncode != 0:
        problems.append(f"exit {proc.returncode} (Success expected): {stderr_lines[:2]}")
    if script["stray"]:
        problems.append(f"unexpected SSM calls: {script['stray'][:3]}")

    end = t0 + end_offset
    ssm_calls = {}
    for _, target in script["calls"]:
        op = target.rsplit(".", 1)[-1]
        ssm_calls[op] = ssm_calls.get(op, 0) + 1
    saw_end_op = "GetCommandInvocation" if n_instances == 1 else "ListCommands"
    describes = [c for c in calls if c[1] == DESCRIBE]
    gets = [c for c in calls if c[1] == GET_EVENTS]
    others = [c for c in calls if c[1] not in (DESCRIBE, GET_EVENTS)]
    # A round: a burst of calls. ssmres starts one a second and its calls follow each other
    # within milliseconds (it lists the streams only in some rounds), so a call that reaches
    # the proxy more than ROUND_GAP after the previous round's last answer starts a new round.
    rounds = []
    for c in sorted(calls):
        if not rounds or c[0] - rounds[-1][1] > ROUND_GAP:
            rounds.append([c[0], c[4]])
        else:
            rounds[-1][1] = max(rounds[-1][1], c[4])
    round_gaps = [b[0] - a[0] for a, b in zip(rounds, rounds[1:])]
    round_lengths = [b - a for a, b in rounds]
    running = [c for c in calls if c[0] < end]
    res = dict(
        label=label, instances=n_instances, seconds=seconds, events=sum(expected.values()),
        lines=len(lines), rc=proc.returncode, rss_kib=int(last_rss[0]), stderr=stderr_lines,
        problems=problems, ok=not problems, delays=delays,
        put_s=[r - c for c, r in feeder.puts.values()],
        run_s=exited - t0, end_s=end_offset, settle_s=exited - end,
        saw_end_s=(script["first_success"].get(saw_end_op, exited) - end),
        last_line_s=(max(t for t, _ in lines) - end) if lines else None,
        ssm_calls=ssm_calls,
        describe=len(describes), get_events=len(gets),
        get_events_empty=sum(1 for c in gets if c[3] == 0),
        other_logs=sorted({c[1] for c in others}), errors=sum(1 for c in calls if c[2] != 200),
        round_gap=statistics.median(round_gaps) if round_gaps else None,
        call_ms=statistics.median(c[4] - c[0] for c in calls) * 1000 if calls else float("nan"),
        proxy_ms=statistics.median(c[4] - c[0] - c[5] for c in calls) * 1000 if calls else float("nan"),
        round_len=(statistics.median(round_lengths), max(round_lengths)) if round_lengths else None,
        running_calls=len(running),
        running_describe=sum(1 for c in running if c[1] == DESCRIBE),
        running_minutes=end_offset / 60,
        settle_calls=len(calls) - len(running),
    )
    res["per_min_per_instance"] = res["running_calls"] / res["running_minutes"] / n_instances
    running_rounds = sum(1 for r in rounds if r[0] < end)
    res["rounds_running"] = running_rounds
    res["calls_per_round"] = res["running_calls"] / running_rounds if running_rounds else None
    q = quantiles(delays)
    log(f"follow: {label}: {len(lines)} lines of {res['events']}, delay median {q['median']:.2f} s, "
        f"p90 {q['p90']:.2f} s, max {q['max']:.2f} s; Logs calls {len(calls)} "
        f"({res['per_min_per_instance']:.0f}/min/instance while running); settle {res['settle_s']:.2f} s; "
        f"{res['rss_kib'] / 1024:.1f} MiB; {'ok' if not problems else 'WRONG: ' + '; '.join(problems[:5])}"
        + (f"; {res['errors']} Logs answers other than 200" if res["errors"] else "")
        + (f"; other Logs calls: {res['other_logs']}" if res["other_logs"] else ""))
    return res


def quantiles(xs):
    if not xs:
        return dict(median=float("nan"), p90=float("nan"), max=float("nan"), min=float("nan"))
    s = sorted(xs)
    p90 = statistics.quantiles(s, n=10, method="inclusive")[-1] if len(s) > 1 else s[0]
    return dict(median=statistics.median(s), p90=p90, max=s[-1], min=s[0])


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(cfg):
    venv = cfg.venv
    cfg.ssmres = os.path.abspath(os.path.join(cfg.bin_dir, "ssmres"))
    for path in (cfg.ssmres, os.path.join(venv, "bin", "moto_server"), "/usr/bin/time"):
        if not os.access(path, os.X_OK):
            raise HarnessError(f"missing {path} (build the release binary, run scripts/setup-venv, install time)")

    # rustup finds its toolchains through HOME: ask before HOME is changed.
    rustc = sbs.version_of(["rustc", "--version"], dict(os.environ))
    scratch = tempfile.mkdtemp(prefix="ssmres-follow.")
    moto = ssm = proxy = None
    try:
        home = os.path.join(scratch, "home")
        os.makedirs(home)
        env = {k: v for k, v in sbs.clean_env().items() if not k.lower().endswith("_proxy")}
        env.update(HOME=home, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        for k in [k for k in os.environ if k.startswith("AWS_") or k.lower().endswith("_proxy")]:
            del os.environ[k]
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_") or k.lower().endswith("_proxy")})

        now = datetime.datetime.now(datetime.timezone.utc)
        info = dict(date=now.date().isoformat(), time=now.strftime("%H:%M"), machine=sbs.machine(),
                    rustc=rustc, ssmres_version=sbs.version_of([cfg.ssmres, "--version"], env),
                    moto_version=fo.moto_version(), python=platform.python_version(),
                    ssmres_mb=os.path.getsize(cfg.ssmres) / 1e6, load_start=sbs.loadavg())

        t = time.monotonic()
        moto, moto_url = fo.start_moto(venv, env, scratch)
        info["moto_start_s"] = time.monotonic() - t
        import boto3
        logs = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                     region_name="us-east-1").client("logs", endpoint_url=moto_url)
        logs.create_log_group(logGroupName=GROUP)
        ssm = SsmScript()
        proxy = LogsProxy(moto_url)
        run_env = dict(env, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=proxy.url)
        log(f"follow: moto started in {info['moto_start_s']:.1f} s")

        scenarios = [("1 instance", 1, cfg.seconds)]
        if cfg.fleet_seconds > 0:
            scenarios.append((f"{cfg.fleet_instances} instances", cfg.fleet_instances, cfg.fleet_seconds))
        results = []
        for salt, (label, n, seconds) in enumerate(scenarios, start=1):
            log(f"follow: {label}, about {seconds} s of output")
            results.append(run_scenario(cfg, run_env, logs, ssm, proxy, label, n, seconds, salt, scratch))
        info["load_end"] = sbs.loadavg()
        return info, results
    finally:
        for server in (proxy, ssm):
            if server:
                server.close()
        if moto:
            fo.stop(moto)
        shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# The section


def goals(results):
    """[(text, verdict, measured)]."""
    out = []
    for r in results:
        med = quantiles(r["delays"])["median"]
        out.append((f"median delay from ingestion to stdout under {GOAL_S:g} s ({r['label']})",
                    bool(r["delays"]) and med < GOAL_S, f"{med:.2f} s"))
    return out


def row(r):
    q = quantiles(r["delays"])
    correct = "yes" if r["ok"] else "**no**: " + "; ".join(r["problems"][:3])
    gap = f"{r['round_gap']:.2f} s" if r["round_gap"] is not None else "—"
    return (f"| {r['label']} | {r['events']} | {r['lines']} | **{q['median']:.2f} s** | {q['p90']:.2f} s | "
            f"{q['max']:.2f} s | {q['min']:.2f} s | {gap} | **{r['per_min_per_instance']:.0f}** | "
            f"{r['settle_s']:.2f} s | {r['rss_kib'] / 1024:.1f} MiB | {r['rc']} | {correct} |")


def calls_row(r):
    per_round = f"{r['calls_per_round']:.2f}" if r["calls_per_round"] is not None else "—"
    ssm = ", ".join(f"{k} {v}" for k, v in sorted(r["ssm_calls"].items()))
    length = "—" if r["round_len"] is None else \
        f"{r['round_len'][0] * 1000:.0f} / {r['round_len'][1] * 1000:.0f} ms"
    return (f"| {r['label']} | {r['end_s']:.1f} s | {r['running_calls']} | {r['rounds_running']} | {per_round} | "
            f"{length} | "
            f"{r['describe']} | {r['get_events']} ({r['get_events_empty']} empty) | {r['settle_calls']} | "
            f"{r['saw_end_s']:.2f} s | {r['settle_s']:.2f} s | {ssm} |")


def section(info, results):
    m = info["machine"]
    one = results[0]
    fleet = results[1] if len(results) > 1 else None
    scen = f"one instance for about {one['seconds']:g} s"
    if fleet:
        scen += f", then {fleet['instances']} instances (one fleet wait naming them) for about {fleet['seconds']:g} s"
    method = " ".join([
        f"Measured {info['date']} on {m['cpu']} ({m['cores']} cores), {info['rustc']}, release build",
        f"({info['ssmres_mb']:.1f} MB binary), by `bench/follow.py`; load average {info['load_start']} at the",
        f"start, {info['load_end']} at the end. Scenarios: {scen}.",
        "`ssmres --endpoint-url <ssm> wait --command-id C --instance-id I … --follow -o text` reads",
        f"CloudWatch Logs from a local moto server ({info['moto_version']}) through",
        "`AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`; the harness serves SSM itself (ListCommands names the log",
        "group in CloudWatchOutputConfig; the invocations are InProgress until the scenario's end, then",
        "Success) and feeds the streams from a thread with boto3, straight to moto: from 1 s after the",
        "spawn, one PutLogEvents per instance at intervals drawn uniformly from 0.6–1.4 s (fixed seed:",
        "about one a second, never in step with ssmres' rounds, so the events fall at every phase of",
        "them), each event one line carrying the instance and a sequence number. The end comes 0.5 s",
        "after the last event, and one more event per instance (the tail, as the agent's last lines",
        "trail the status) 0.5 s after the end. **Delay** is the moment a line arrives on ssmres'",
        "stdout (a pipe read by the harness as it comes) minus the moment its PutLogEvents returned",
        "(the ingestion, as the client sees it; a PutLogEvents call took a median",
        f"{statistics.median(x for r in results for x in r['put_s']) * 1000:.0f} ms); every line is checked to arrive exactly once and in",
        "order, with nothing else on stdout. **Logs calls** are counted by a small proxy in the harness",
        "between ssmres and moto (its forwarding is part of each call, so of the delay: a median",
        f"{statistics.median(r['proxy_ms'] for r in results):.1f} ms of the {statistics.median(r['call_ms'] for r in results):.0f} ms a call took from its",
        "arrival at the proxy to its answer); per minute per",
        "instance is the calls made from the spawn to the end over that time, divided by the",
        "instances. A round is one burst of calls, about one a second: GetLogEvents, one page per",
        "stream while output trickles in (the next round goes on from the new token), and a",
        "DescribeLogStreams in every round until each instance followed has shown a stream, then",
        "in every fifth. **Settle** is the end to ssmres' exit: the wait's own",
        "detection of the end (its poll pause is a twentieth of the time waited, about 2 s at 40 s),",
        "then follow rounds until two in a row bring nothing new (the tail keeps one of them busy). Peak RSS from",
        "`/usr/bin/time -f %M`. Regenerate with `bench/run-all` or `bench/follow.py`.",
    ])
    method = textwrap.fill(method, width=100, break_long_words=False, break_on_hyphens=False)
    g = goals(results)
    goal_rows = "\n".join(f"| {t} | {sbs.verdict(p)} | {meas} |" for t, p, meas in g)
    return f"""<!-- follow:start -->
## Following a command's output live (`wait --follow`)

{method}

| scenario | events put | lines out | delay: median | p90 | max | min | round interval: median | Logs calls per minute per instance | settle: end → exit | peak RSS | exit | correct |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(row(r) for r in results)}

Logs calls in detail: "until the end" is from the spawn to the end; rounds are bursts of calls
more than {ROUND_GAP:g} s apart; a stream with nothing new costs one empty GetLogEvents a round. A
round's length runs from its first call reaching the proxy to the answer of its last. "Wait saw the end" is the end to the first
SSM answer saying Success (GetCommandInvocation for one instance, ListCommands for several).

| scenario | end at | Logs calls until the end | rounds | calls per round | round length: median / max | DescribeLogStreams (all) | GetLogEvents (all) | Logs calls after the end | wait saw the end | settle | SSM calls |
|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(calls_row(r) for r in results)}

| goal | result | measured |
|---|---|---|
{goal_rows}
<!-- follow:end -->"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True, help="release dir with ssmres")
    ap.add_argument("--venv", default=os.environ.get("SSMRES_VENV") or os.path.join(ROOT, ".venv"))
    ap.add_argument("--seconds", type=float, default=40, help="one instance's output lasts this long (40)")
    ap.add_argument("--fleet-seconds", type=float, default=20,
                    help="the several-instance scenario's output lasts this long; 0 leaves it out (20)")
    ap.add_argument("--fleet-instances", type=int, default=3, help="instances in that scenario (3)")
    ap.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    cfg = ap.parse_args()
    if cfg.seconds < 3 or (cfg.fleet_seconds and cfg.fleet_seconds < 3) or cfg.fleet_seconds < 0:
        ap.error("--seconds and --fleet-seconds are at least 3 (--fleet-seconds 0 leaves that scenario out)")
    if not 2 <= cfg.fleet_instances <= 50:
        ap.error("--fleet-instances is 2 to 50")
    cfg.venv = os.path.abspath(cfg.venv)

    started = time.monotonic()
    info, results = measure(cfg)
    text = section(info, results)
    print(text)
    print()
    g = goals(results)
    for t, p, meas in g:
        print(f"{'PASS' if p else 'FAIL'}  {t}: {meas}")
    failed = [t for t, p, _ in g if not p]
    if failed:
        print(f"\n{len(failed)} goal(s) FAILED (figures written all the same):")
        for t in failed:
            print(f"  FAIL  {t}")
    sys.stdout.flush()

    if not cfg.no_write:
        path = os.path.join(ROOT, "BENCHMARKS.md")
        doc = open(path).read() if os.path.exists(path) else \
            "# Benchmarks\n\nFigures written by the scripts in bench/; do not edit them by hand.\n"
        with open(path, "w") as f:
            f.write(sbs.put(doc, "follow", text, ["fleet"]))
        log(f"wrote follow to {path}")
    log(f"follow: {time.monotonic() - started:.0f} s")
    wrong = [f"{r['label']}: {p}" for r in results for p in r["problems"]]
    if wrong:
        log("follow: WRONG OUTPUT:\n  " + "\n  ".join(wrong[:20]))
        sys.exit(1)


def ensure_venv_python():
    """boto3 and moto live in the venv: run this script again with the venv's python when
    started with another one (so that the moto version named is the server's)."""
    venv = os.environ.get("SSMRES_VENV") or os.path.join(ROOT, ".venv")
    if "--venv" in sys.argv[:-1]:
        venv = sys.argv[sys.argv.index("--venv") + 1]
    python = os.path.join(os.path.abspath(venv), "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(venv) and os.access(python, os.X_OK) \
            and not os.environ.get("SSMRES_FOLLOW_REEXEC"):
        os.environ["SSMRES_FOLLOW_REEXEC"] = "1"
        os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])
    try:
        import boto3  # noqa: F401
    except ImportError:
        sbs.log(f"follow: boto3 not importable; run scripts/setup-venv (looked in {venv})")
        sys.exit(3)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ensure_venv_python()
    try:
        main()
    except HarnessError as e:
        log(f"follow: {e}")
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
