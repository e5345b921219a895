"""What proves the figures and the invariants: benchmarks (`make bench`), bursts (`make burst`), the cost model
(`make cost`), the invariant checker (`make invariants`) and the built-handler driver."""
