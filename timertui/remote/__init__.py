"""The same requests over ssh: an agent that travels over the connection (timertui.remote.agent,
stdlib only, Python 3.9+), the connection that sends it (ssh), and the records built here from
what it reads there (reading)."""
