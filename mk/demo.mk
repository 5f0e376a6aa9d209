# The local demo and the background stack. `make demo` (in the Makefile) runs `segmentation demo`:
# services, terraform envs/local, data, Kafka + landing ingest, the state machine, the API, a
# report; it stops what it started. `make up` leaves the stack running for manual use.
DEMO_STACK_DIR ?= $(STATE_DIR)/stack
PROVISION ?= $(or $(SEG_DEMO_PROVISION),terraform)

.PHONY: up down demo-quick

up: setup  ## start moto, the Kafka broker and MLflow in the background, provisioned (PROVISION=terraform|python)
	$(BIN)/segmentation up --state-dir $(DEMO_STACK_DIR) --provision $(PROVISION)

down:  ## stop what `make up` started
	@if [ -x $(BIN)/segmentation ]; then $(BIN)/segmentation down --state-dir $(DEMO_STACK_DIR); fi

demo-quick: setup  ## the demo without terraform (python provisioning), on free ports
	$(BIN)/segmentation demo --provision python --free-ports

CLEAN_TARGETS += down
