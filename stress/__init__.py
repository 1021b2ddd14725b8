"""Reliability runs shared by the CI tests (small sizes) and `make stress` (`python -m stress`,
the long versions): mutation fuzzing of the input decoders (fuzz.py), SIGKILL at random points
of snapshot writes, restores and deep captures (kills.py), and process churn under the scanner
(churn.py). Each run returns counts — cases tried, failures, orphans, lost files — that the tests
assert on and `make stress` prints as a table."""
