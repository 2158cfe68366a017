"""A research agent as a durable workflow: plan, call tools in parallel,
wait for a human to approve, cool off, summarise.

    agent.py worker                  run the workflow and its tools (Ctrl-C stops)
    agent.py start QUESTION [--id ID]
                                     start a run; prints its workflow id
    agent.py result RUN              wait for a run's answer

Every step the agent takes is recorded in the run's log on the server.
Kill the worker at any point (even with kill -9) and start it again: the
run goes on from its log, and what was recorded (the plan, the tools that
answered) is not done again. See the README, "Workflows".

The "LLM" and the tools are stand-ins with no network: the point is the
shape of the run. One tool, fetch_prices, fails its first two attempts on
purpose, to show activities being retried.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time

import cairn

TOOL_SECONDS = float(os.environ.get("AGENT_TOOL_SECONDS", "3"))  # how long a tool works
COOL_OFF = float(os.environ.get("AGENT_COOL_OFF", "5"))  # between approval and summary
APPROVAL_TIMEOUT = float(os.environ.get("AGENT_APPROVAL_TIMEOUT", "600"))


_out = threading.Lock()


def say(*words: object) -> None:
    """Prints one line (whole: the tools print from several threads)."""
    with _out:
        sys.stdout.write(" ".join(["agent:", *map(str, words)]) + "\n")
        sys.stdout.flush()


# -- the tools: activities, done by task workers, retried on failure ------

@cairn.activity(retry=cairn.RetryPolicy(max_attempts=5, initial=1.0))
def search_web(query: str) -> list:
    say(f"tool search_web({query!r}) working...")
    time.sleep(TOOL_SECONDS)
    return [f"https://example.org/{query.replace(' ', '-')}/{i}" for i in (1, 2)]


@cairn.activity(retry=cairn.RetryPolicy(max_attempts=5, initial=1.0))
def read_wiki(topic: str) -> str:
    say(f"tool read_wiki({topic!r}) working...")
    time.sleep(TOOL_SECONDS)
    return f"{topic}: a summary of what the encyclopedia says."


@cairn.activity(retry=cairn.RetryPolicy(max_attempts=5, initial=1.0, multiplier=2.0))
def fetch_prices(item: str) -> dict:
    attempt = cairn.current_task().attempt
    say(f"tool fetch_prices({item!r}) attempt {attempt} working...")
    time.sleep(TOOL_SECONDS / 3)
    if attempt <= 2:  # a flaky API: the first two calls time out
        raise TimeoutError(f"prices API did not answer (attempt {attempt})")
    return {"item": item, "low": 120, "high": 180, "currency": "EUR"}


@cairn.activity
def summarise(question: str, findings: dict, approval: dict) -> str:
    say("tool summarise working...")
    prices = findings["prices"]
    return (f"Q: {question}\n"
            f"Sources: {', '.join(findings['links'])}\n"
            f"Background: {findings['background']}\n"
            f"Prices: {prices['low']}-{prices['high']} {prices['currency']}\n"
            f"Approved by {approval.get('by', 'someone')}.")


# -- the workflow ---------------------------------------------------------

def make_plan(question: str) -> dict:
    """The planner (an LLM call, in a real agent): run once, recorded."""
    say(f"planning for {question!r}")
    words = [w for w in question.lower().split() if len(w) > 3]
    topic = words[-1] if words else question
    return {"query": question, "topic": topic, "item": f"{topic} tickets"}


@cairn.workflow(name="research_agent")
def research_agent(ctx: cairn.WorkflowContext, question: str) -> dict:
    def log(*words: object) -> None:  # the code runs again on every turn
        if not ctx.is_replaying:
            say(f"[{ctx.workflow_id}]", *words)

    plan = ctx.step(make_plan, question)
    log("plan:", plan)

    tools = [ctx.start_activity(search_web, plan["query"]),
             ctx.start_activity(read_wiki, plan["topic"]),
             ctx.start_activity(fetch_prices, plan["item"])]
    links, background, prices = ctx.wait_all(tools)
    findings = {"links": links, "background": background, "prices": prices}
    log("tools answered; waiting for approval. Approve with:\n"
        f"  cairn workflow signal {ctx.workflow_id} approve "
        "--payload '{\"approved\": true, \"by\": \"you\"}'")

    try:
        approval = ctx.wait_signal("approve", timeout=APPROVAL_TIMEOUT)
    except cairn.WaitTimeout:
        log("nobody approved in time")
        return {"question": question, "approved": False, "why": "approval timed out"}
    if not isinstance(approval, dict) or not approval.get("approved"):
        log("rejected:", approval)
        return {"question": question, "approved": False, "why": f"rejected: {approval}"}

    log(f"approved; cooling off for {COOL_OFF:g} s")
    ctx.sleep(COOL_OFF)
    answer = ctx.activity(summarise, question, findings, approval)
    log("done")
    return {"question": question, "approved": True, "answer": answer}


# -- the command line -----------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", default=os.environ.get("CAIRN_SERVER", cairn.DEFAULT_URL))
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("worker", help="run the workflow and its tools")
    s = sub.add_parser("start", help="start a run")
    s.add_argument("question")
    s.add_argument("--id", help="the workflow id (default: the server picks one)")
    r = sub.add_parser("result", help="wait for a run's answer")
    r.add_argument("run", help="a workflow id")
    a = p.parse_args()

    if a.cmd == "worker":
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        worker = cairn.Worker(a.url, concurrency=4, poll_wait=1.0, lease_timeout=10.0,
                              workflows=[research_agent],
                              activities=[search_web, read_wiki, fetch_prices, summarise])
        say("worker: waiting for runs (Ctrl-C to stop)")
        worker.run()
        say("worker: stopped")
        return 0
    with cairn.Client(a.url) as c:
        if a.cmd == "start":
            h = c.start_workflow(research_agent, a.question, id=a.id)
            print(h.workflow_id if h.created else f"{h.workflow_id} (existing)", flush=True)
            return 0
        try:
            out = c.workflow(a.run).result()
        except cairn.WorkflowFailed as e:
            print(e, file=sys.stderr)
            return 3
        print(out.get("answer") or out.get("why"))
        return 0


if __name__ == "__main__":
    sys.exit(main())
