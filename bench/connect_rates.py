"""Connects per second, plaintext and TLS, for bench_driver.py.

uvframe-loadgen opens N connections of one frame each against a logging
uvframe-server, as fast as it can (no --connect-rate ramp), once in
plaintext (uv_connect) and once over TLS (uv_connect_tls: the connect ends
when the TLS 1.3 handshake is done, ECDSA P-256 and X25519, the same
throwaway certificate as uv_log_tls). The figure is the load generator's own
"connect.per_s": connections opened divided by the time from the first
connect to the last one done. Both runs target 127.0.0.1, are bounded in time,
and their processes are stopped like every other run of the driver.
"""
import json
import os
import time

SCENARIOS = ("uv_connect", "uv_connect_tls")


def run(runner, driver, conns):
    """One result dict per scenario. driver: the bench_driver module (start,
    stop, wait_listening, free_port), so the processes started here are the
    ones its exit handler kills."""
    return [run_one(runner, driver, scenario, conns) for scenario in SCENARIOS]


def run_one(runner, driver, scenario, conns):
    tls = scenario.endswith("_tls")
    tag = f"{scenario}-{conns}c"
    port = driver.free_port()
    log_path = os.path.join(runner.workdir, f"{tag}.log")
    json_path = os.path.join(runner.workdir, f"{tag}.json")
    result = {"scenario": scenario, "connections": conns, "ok": False,
              "loadavg_1m_before": round(os.getloadavg()[0], 2)}
    halves = driver.cpu_halves() if runner.args.split_cpus else None
    server_cmd = runner.server_cmd("uv_log_tls" if tls else "uv_log", port, log_path)
    server = driver.start(server_cmd, os.path.join(runner.workdir, f"{tag}.server.out"),
                          halves[0] if halves else None)
    try:
        if not driver.wait_listening(port, server):
            result["error"] = "server did not start: " + runner.tail(f"{tag}.server.out")
            return result
        load_cmd = [runner.exe("uvframe-loadgen"), "--host", "127.0.0.1", "--port", str(port),
                    "--connections", str(conns), "--frames-per-connection", "1",
                    "--threads", str(runner.args.load_threads), "--connect-timeout", "30",
                    "--json", json_path, "--progress-interval", "0"]
        if tls:
            load_cmd += ["--tls", "--tls-ca", runner.tls_files()[0]]
        load = driver.start(load_cmd, os.path.join(runner.workdir, f"{tag}.load.out"),
                            halves[1] if halves else None)
        deadline = time.monotonic() + 90
        while load.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        result["load_rc"] = driver.stop(load, 5)
        result["server_rc"] = driver.stop(server, 30)
        try:
            with open(json_path) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            result["error"] = "no result: " + runner.tail(f"{tag}.load.out")
            return result
        connect = summary.get("connect") or {}
        opened = summary.get("connections", {}).get("opened", 0)
        result.update({"opened": opened, "per_s": connect.get("per_s"),
                       "mean_ms": connect.get("mean_ms"), "max_ms": connect.get("max_ms")})
        result["ok"] = bool(connect.get("per_s")) and opened == conns
        if not result["ok"]:
            result["error"] = f"opened {opened} of {conns}: " + runner.tail(f"{tag}.load.out")
        return result
    finally:
        driver.stop(server, 5)
        if os.path.exists(log_path):
            os.unlink(log_path)


def print_rows(rows):
    print("\nconnects per second (loadgen, one frame per connection, no ramp):")
    by = {r["scenario"]: r for r in rows}
    for r in rows:
        if not r.get("ok"):
            print(f"  {r['scenario']:15} {r['connections']:>6} conns  FAILED: "
                  f"{r.get('error', '?')}")
            continue
        print(f"  {r['scenario']:15} {r['connections']:>6} conns  {r['per_s']:>9,.0f}/s  "
              f"mean {r['mean_ms']:.2f} ms, max {r['max_ms']:.2f} ms")
    plain, tls = by.get("uv_connect"), by.get("uv_connect_tls")
    if plain and tls and plain.get("ok") and tls.get("ok"):
        print(f"  TLS handshakes vs plaintext connects: {tls['per_s'] / plain['per_s']:.2f}")
