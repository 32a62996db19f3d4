"""`python -m airflow_provider_jobs.sandbox --port 0`: serve the sandbox, print its base URL."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from airflow_provider_jobs.sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--demo-jobs", action="store_true", help="preload the jobs the example DAGs use")
    parser.add_argument("--print-connections", action="store_true",
                        help="print AIRFLOW_CONN_* lines (shell syntax) for every vendor")
    args = parser.parse_args(argv)
    sandbox = Sandbox(args.host, args.port).start()
    if args.demo_jobs:
        from airflow_provider_jobs.sandbox.demo import load_demo_jobs

        load_demo_jobs(sandbox)
    print(sandbox.url, flush=True)
    if args.print_connections:
        for vendor in sandbox.state.sites:
            name, value = sandbox.connection_env(vendor)
            print(f"export {name}={json.dumps(value)}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
