"""Verifying a restore that really happened: a checkpoint (snapshot, CRIU image directory, crit
JSON, container checkpoint archive) against the live processes it was restored as (issue #17).

Entry points, in the order a front end calls them:

    snapshot = timertui.sources.open_source(path)
    pairings = verify.pairing.pair_processes(snapshot, pids, container)  # PairingError: bad input
    age = verify.age.checkpoint_age(snapshot)                # time since the checkpoint, or None
    for report in verify.engine.verify(pairings, age, watch_ns):  # InputError: bad live pid
        ...  # a verify.findings.Report: every ProcessVerdict and its Findings so far

`verify()` is a generator: the first Report comes right after the comparison, then one per look
of the liveness watch (every 10-100 ms, a few seconds at most), the last with `done`; it blocks
between them (in its `sleep` argument: pass a cancel event's `wait`), so run it in a thread
worker and post each Report (frozen records) to the app; stop iterating, or close() it, to stop
the watch early. `Report.ok` is the
command's exit 0. Each Finding says its `status` (equal, expired, differs, missing, extra, not
read), `liveness` (watching, alive, stalled, dead, unknown), `notes` in words and the CRIU
issue it matches (`criu_issue`); verify.compare.compare_process is the comparison alone, pure.
"""
