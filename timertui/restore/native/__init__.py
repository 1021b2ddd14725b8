"""The native backend: a restore target process that recreates the timers with the compiled
loops on this host's kernel. runner (the caller's side: starts the worker, streams its events),
worker (the target: the driver's native Target), server (forks ready workers for the app),
handover and arrays (what crosses the control pipe)."""
