"""How much memory one step takes, for the benches that run it in a child of its own: the
child's code starts with PREAMBLE (the peak RSS counter reset, `before` noted, `start` taken)
and ends with PRINT (its time and peak RSS over `before`, MiB, on one line)."""

PREAMBLE = """
import sys, time
def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
"""

# After the imports the step needs: VmHWM from here on counts the step only.
START = """
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
before = kib("VmRSS:")
start = time.perf_counter()
"""

PRINT = """
elapsed = time.perf_counter() - start
print(elapsed, (kib("VmHWM:") - before) / 1024)
"""
