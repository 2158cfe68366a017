"""The agent example, walked through as bindings/python/README.md says:
start a run, kill the worker with SIGKILL while the tools work, read the
log with `cairn workflow history`, start the worker again, approve with
`cairn workflow signal`, and read the answer."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PKG_ROOT
from test_processes import expect, spawn

AGENT = str(PKG_ROOT / "examples" / "agent.py")


def _cli() -> str:
    env = os.environ.get("CAIRN_CLI")
    if env:
        return env
    # Beside cairnd in the same build: build/X/server/cairnd, build/X/client/cli/cairn.
    cairnd = Path(os.environ.get("CAIRND", ""))
    found = cairnd.parent.parent / "client" / "cli" / "cairn"
    if not found.is_file():
        pytest.fail("set CAIRN_CLI to the cairn CLI")
    return str(found)


def test_agent_walkthrough(server, children, monkeypatch) -> None:
    # Shorter waits than the README's, the same steps.
    monkeypatch.setenv("AGENT_TOOL_SECONDS", "1.5")
    monkeypatch.setenv("AGENT_COOL_OFF", "0.5")
    monkeypatch.setenv("CAIRN_SERVER", server.url)
    wfid = f"trip-{os.getpid()}"

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([_cli(), "--server", server.url, *args], capture_output=True,
                              text=True, timeout=60)

    def agent(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, AGENT, *args], capture_output=True, text=True,
                              timeout=120, env=dict(os.environ, PYTHONPATH=str(PKG_ROOT)))

    first, lines = spawn(children, AGENT, "worker")
    expect(lines, "agent: worker: waiting for runs")
    started = agent("start", "plan a weekend in Lisbon", "--id", wfid)
    assert started.returncode == 0 and started.stdout.strip() == wfid, started

    expect(lines, "agent: planning for 'plan a weekend in Lisbon'")
    expect(lines, "agent: tool fetch_prices('lisbon tickets') attempt 1")
    first.send_signal(signal.SIGKILL)  # in the middle of the tools
    first.wait(10)

    history = cli("workflow", "history", wfid)
    assert history.returncode == 0, history.stderr
    assert "make_plan" in history.stdout and "running" in history.stdout

    second, lines = spawn(children, AGENT, "worker")
    seen = []
    while True:  # the plan is not made again; the tools finish
        line = expect(lines, "agent:", timeout=60)
        seen.append(line)
        if "waiting for approval" in line:
            break
    assert not any("planning" in s for s in seen), seen
    approve = cli("workflow", "signal", wfid, "approve",
                  "--payload", '{"approved": true, "by": "you"}')
    assert approve.returncode == 0 and "delivered" in approve.stdout, approve

    answer = agent("result", wfid)
    assert answer.returncode == 0, answer
    assert "Prices: 120-180 EUR" in answer.stdout and "Approved by you." in answer.stdout
    awaited = cli("workflow", "await", wfid)
    assert awaited.returncode == 0, awaited

    log = json.loads(cli("--json", "workflow", "history", wfid).stdout)
    entries = log["entries"] if isinstance(log, dict) else log
    kinds = [(e["kind"], e["name"]) for e in entries]
    assert kinds == [("step", "make_plan"), ("activity", "search_web"),
                     ("activity", "read_wiki"), ("activity", "fetch_prices"),
                     ("signal", "approve"), ("timer", ""), ("activity", "summarise")]
    prices = entries[3]
    assert prices["status"] == "completed" and prices["attempts"] == 3  # flaky twice

    second.send_signal(signal.SIGTERM)
    assert second.wait(15) == 0
    expect(lines, "agent: worker: stopped")
