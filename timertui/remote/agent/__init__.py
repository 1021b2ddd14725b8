"""The agent: what runs on the remote host, sent over the ssh connection as a zipapp and cached
there by its hash. Python 3.9 or newer and its standard library only: no timertui module outside
this package, no msgpack, no psutil (tests/kernel/test_remote_agent.py runs it under 3.9)."""
