# Opt-in benchmarks, not part of `make bench` (which runs bench/bench_*.py; these are named
# otherwise so bench/run_all.py does not pick them up).
BIG_USERS ?= 500000
BIG_PROVISION ?= python
BIG_DRIVER_MEMORY ?= 10g

.PHONY: bench-big

bench-big: setup  ## opt-in: the pipeline end to end at 10x paper scale (BIG_USERS=500000, ~50M events; long)
	$(PYTHON) bench/big_pipeline.py users=$(BIG_USERS) provision=$(BIG_PROVISION) driver_memory=$(BIG_DRIVER_MEMORY)
