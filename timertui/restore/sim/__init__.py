"""The simulator backend: the restore replayed against a model of a chosen kernel. profiles
(which kernel, with which parameters), allocator (how it hands out timer IDs), costs (how long
each step takes), runner (the driver's model Target, played back at a pace)."""
